// cda.js - the recommendation as an HL7 CDA R2 document with a French CI-SIS header (realm FR,
// the CI-SIS header and minimal-structuring templates, INS in recordTarget) and the PDF letter
// of pdf.js as its nonXMLBody in base64: byte for byte what clients/cli/export/export_cda.c
// writes with libxml2's xmlTextWriter (see XmlWriter in util.js).

import sodium from '../sodium.js';
import { exportPdf } from './pdf.js';
import {
  TITLE,
  XmlWriter,
  cdaIds,
  dayHl7,
  docCode,
  docDisplay,
  insOid,
  partyLabel,
  prepare,
  serviceDay,
  timeHl7,
  cTrunc,
} from './util.js';

/* <name root=... [extension=...]/> */
function ii(x, name, root, ext) {
  x.start(name);
  x.attr('root', root);
  if (ext !== null && ext !== undefined) x.attr('extension', ext);
  x.end();
}

function valueElem(x, name, value) {
  x.start(name);
  x.attr('value', value);
  x.end();
}

function ts(x, name, ms) {
  valueElem(x, name, timeHl7(ms) + '+0000');
}

function person(x, elem, p) {
  x.start(elem);
  x.elem('name', partyLabel(p));
  x.end();
}

function header(x, input) {
  const d = input.doc;
  const c = input.card;
  const { id, setId } = cdaIds(input);
  const sentMs = input.sentMs;

  x.start('realmCode');
  x.attr('code', 'FR');
  x.end();
  ii(x, 'typeId', '2.16.840.1.113883.1.3', 'POCD_HD000040');
  ii(x, 'templateId', '1.2.250.1.213.1.1.1.1', null);
  ii(x, 'templateId', '1.2.250.1.213.1.1.1.55', null);
  ii(x, 'id', id, null);
  x.start('code');
  x.attr('code', docCode(d));
  x.attr('codeSystem', '2.16.840.1.113883.6.1');
  x.attr('codeSystemName', 'LOINC');
  x.attr('displayName', docDisplay(d));
  x.end();
  x.elem('title', d.urgent ? `${TITLE} (urgent)` : TITLE);
  ts(x, 'effectiveTime', sentMs);
  x.start('confidentialityCode');
  x.attr('code', 'N');
  x.attr('codeSystem', '2.16.840.1.113883.5.25');
  x.end();
  x.start('languageCode');
  x.attr('code', 'fr-FR');
  x.end();
  ii(x, 'setId', setId, null);
  valueElem(x, 'versionNumber', String(input.version));

  // recordTarget
  x.start('recordTarget');
  x.start('patientRole');
  ii(x, 'id', insOid(c.insKind), c.ins);
  let oid = cTrunc(`${input.orgOid}.1`, 200).text;
  if (input.patientRef !== '') ii(x, 'id', oid, input.patientRef);
  x.start('patient');
  x.start('name');
  x.start('family');
  x.attr('qualifier', 'BR');
  x.text(c.birthName);
  x.end();
  x.elem('given', c.firstGiven !== '' ? c.firstGiven : c.givenNames);
  if (c.usedName !== '') {
    x.start('family');
    x.attr('qualifier', 'SP');
    x.text(c.usedName);
    x.end();
  }
  x.end(); // name
  x.start('administrativeGenderCode');
  x.attr('code', c.sex === 'F' ? 'F' : c.sex === 'M' ? 'M' : 'UN');
  x.attr('codeSystem', '2.16.840.1.113883.5.1');
  x.end();
  valueElem(x, 'birthTime', dayHl7(c.birthDay));
  x.end(); // patient
  x.end(); // patientRole
  x.end(); // recordTarget

  // author
  oid = cTrunc(`${input.orgOid}.2`, 200).text;
  x.start('author');
  ts(x, 'time', sentMs);
  x.start('assignedAuthor');
  ii(x, 'id', oid, input.author.id);
  person(x, 'assignedPerson', input.author);
  x.end();
  x.end();

  // custodian
  x.start('custodian');
  x.start('assignedCustodian');
  x.start('representedCustodianOrganization');
  ii(x, 'id', input.orgOid, null);
  x.elem('name', input.site !== '' ? input.site : 'Sesame');
  x.end();
  x.end();
  x.end();

  // informationRecipient: the GP
  x.start('informationRecipient');
  x.start('intendedRecipient');
  ii(x, 'id', oid, input.gp.id);
  person(x, 'informationRecipient', input.gp);
  x.end();
  x.end();

  // legalAuthenticator: the psychiatrist
  x.start('legalAuthenticator');
  ts(x, 'time', sentMs);
  x.start('signatureCode');
  x.attr('code', 'S');
  x.end();
  x.start('assignedEntity');
  ii(x, 'id', oid, input.author.id);
  person(x, 'assignedPerson', input.author);
  x.end();
  x.end();

  // documentationOf: the case review (or the day written)
  x.start('documentationOf');
  x.start('serviceEvent');
  const day = dayHl7(serviceDay(d));
  x.start('effectiveTime');
  valueElem(x, 'low', day);
  valueElem(x, 'high', day);
  x.end();
  x.end();
  x.end();
}

/**
 * The CDA document around given PDF bytes (exp_cda with its letter already made): for tests
 * and for a caller that has the letter at hand. Checks the input as cdaExport does.
 * @param {object} input an ExportInput
 * @param {Uint8Array} pdf the letter (exportPdf(input))
 * @returns {Uint8Array} the CDA document's UTF-8 bytes
 * @throws {ExportError} BAD_FIELD (no card, no INS, a malformed field)
 */
export function cdaWithPdf(input, pdf) {
  return cdaOf(prepare(input, true), pdf);
}

/* The CDA of a prepared input around pdf. */
function cdaOf(input, pdf) {
  const b64 = sodium.to_base64(pdf, sodium.base64_variants.ORIGINAL);
  const x = new XmlWriter();
  x.start('ClinicalDocument');
  x.attr('xmlns', 'urn:hl7-org:v3');
  x.attr('xmlns:xsi', 'http://www.w3.org/2001/XMLSchema-instance');
  header(x, input);
  x.start('component');
  x.start('nonXMLBody');
  x.start('text');
  x.attr('mediaType', 'application/pdf');
  x.attr('representation', 'B64');
  x.text(b64);
  x.end();
  x.end();
  x.end();
  x.end(); // ClinicalDocument
  return x.close();
}

/**
 * The recommendation as a CDA R2 document (UTF-8 XML) whose nonXMLBody carries the letter of
 * exportPdf in base64: the bytes of `sesame rec export --format cda` (exp_cda). Synchronous.
 * @param {object} input an ExportInput (with a card that has an INS)
 * @returns {Uint8Array}
 * @throws {ExportError} BAD_FIELD where exp_cda returns SES_EBAD_FIELD
 */
export function exportCda(input) {
  const n = prepare(input, true);
  return cdaOf(n, exportPdf(input));
}
