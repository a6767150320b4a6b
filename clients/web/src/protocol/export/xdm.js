// xdm.js - the IHE XDM package (ITI TF-1 §16) a GP's software imports from a secure mailbox,
// byte for byte what clients/cli/export/export_xdm.c makes: README.TXT, INDEX.HTM,
// IHE_XDM/SUBSET01/METADATA.XML (an ebRIM 3.0 SubmitObjectsRequest: the submission set, the
// document entry, their association) and IHE_XDM/SUBSET01/DOC0001.XML (the CDA of cda.js),
// zipped as libzip 1.7 zips them: pako deflates each entry with zlib's parameters of libzip
// (level 9, raw, window 15, memLevel 9, default strategy), and the container (local headers,
// central directory, end record) is written here field by field. The document hash is SHA-1 by
// the Web Crypto API, so the builders here are async.

import { deflateRaw } from 'pako';
import crc32 from 'pako/lib/zlib/crc32.js';
import { cdaWithPdf } from './cda.js';
import { exportPdf } from './pdf.js';
import {
  TITLE,
  XmlWriter,
  ascii,
  cSeconds,
  cTrunc,
  cdaIds,
  dayHl7,
  dayIso,
  docCode,
  docDisplay,
  insOid,
  partyLabel,
  partsOfSeconds,
  prepare,
  serviceDay,
  timeHl7,
  utf8,
  uuid256,
  uuidOid,
} from './util.js';

/** The package's entry names, in the order they are zipped. */
export const DOC_PATH = 'IHE_XDM/SUBSET01/DOC0001.XML';
export const META_PATH = 'IHE_XDM/SUBSET01/METADATA.XML';
export const ENTRY_NAMES = Object.freeze(['README.TXT', 'INDEX.HTM', META_PATH, DOC_PATH]);

// ebRIM and XDS identifiers (ITI TF-3 §4.2.5)
const OBJTYPE_CLASSIFICATION = 'urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:Classification';
const OBJTYPE_EXTID = 'urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:ExternalIdentifier';
const DE_OBJECT_TYPE = 'urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1';
const DE_CLASS_CODE = 'urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a';
const DE_CONF_CODE = 'urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f';
const DE_FORMAT_CODE = 'urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d';
const DE_FACILITY_CODE = 'urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1';
const DE_PRACTICE_CODE = 'urn:uuid:cccf5598-8b07-4b77-a05e-ae952c785ead';
const DE_TYPE_CODE = 'urn:uuid:f0306f51-975f-434e-a61c-c59651d33983';
const DE_PATIENT_ID = 'urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427';
const DE_UNIQUE_ID = 'urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab';
const SS_NODE = 'urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd';
const SS_CONTENT_TYPE = 'urn:uuid:aa543740-bdda-424e-8c96-df4873be8500';
const SS_UNIQUE_ID = 'urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8';
const SS_SOURCE_ID = 'urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832';
const SS_PATIENT_ID = 'urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446';

/* The urn:uuid: id of one registry object of the package. */
function objId(input, what) {
  return 'urn:uuid:' + uuid256(`sesame-xdm|${input.recId}|${input.version}|${what}`);
}

function slot(x, name, value) {
  x.start('rim:Slot');
  x.attr('name', name);
  x.start('rim:ValueList');
  x.elem('rim:Value', value);
  x.end();
  x.end();
}

function rimName(x, value) {
  x.start('rim:Name');
  x.start('rim:LocalizedString');
  x.attr('value', value);
  x.end();
  x.end();
}

function classification(x, input, scheme, object, code, codingScheme, display) {
  const id = objId(input, cTrunc(`class|${scheme}|${object}`, 160).text);
  x.start('rim:Classification');
  x.attr('id', id);
  x.attr('objectType', OBJTYPE_CLASSIFICATION);
  x.attr('classificationScheme', scheme);
  x.attr('classifiedObject', object);
  x.attr('nodeRepresentation', code);
  slot(x, 'codingScheme', codingScheme);
  rimName(x, display);
  x.end();
}

function extId(x, input, scheme, object, value, label) {
  const id = objId(input, cTrunc(`extid|${scheme}|${object}`, 160).text);
  x.start('rim:ExternalIdentifier');
  x.attr('id', id);
  x.attr('objectType', OBJTYPE_EXTID);
  x.attr('identificationScheme', scheme);
  x.attr('registryObject', object);
  x.attr('value', value);
  rimName(x, label);
  x.end();
}

async function sha1Hex(bytes) {
  const md = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-1', bytes));
  return Array.from(md, (b) => b.toString(16).padStart(2, '0')).join('');
}

/* METADATA.XML: the document entry for doc (the CDA bytes) and its submission set. */
async function metadata(input, doc) {
  const d = input.doc;
  const c = input.card;
  const hash = await sha1Hex(doc);
  const size = String(doc.length);
  const created = timeHl7(input.sentMs);
  const start = dayHl7(serviceDay(d));
  const pid = cTrunc(`${c.ins}^^^&${insOid(c.insKind)}&ISO`, 200).text;
  const { id: cdaId } = cdaIds(input);
  const de = objId(input, 'document');
  const ss = objId(input, 'submissionset');
  const assoc = objId(input, 'association');
  const ssUid = uuidOid(uuid256(`sesame-xdm|${input.recId}|${input.version}|submissionset-uid`));
  const title = d.urgent ? `${TITLE} (urgent)` : TITLE;

  const x = new XmlWriter();
  x.start('lcm:SubmitObjectsRequest');
  x.attr('xmlns:lcm', 'urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0');
  x.attr('xmlns:rim', 'urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0');
  x.start('rim:RegistryObjectList');

  // the document entry
  x.start('rim:ExtrinsicObject');
  x.attr('id', de);
  x.attr('mimeType', 'text/xml');
  x.attr('objectType', DE_OBJECT_TYPE);
  slot(x, 'creationTime', created);
  slot(x, 'languageCode', 'fr-FR');
  slot(x, 'serviceStartTime', start);
  slot(x, 'sourcePatientId', pid);
  slot(x, 'hash', hash);
  slot(x, 'size', size);
  slot(x, 'URI', 'DOC0001.XML');
  rimName(x, title);
  classification(x, input, DE_CLASS_CODE, de, '10', '1.2.250.1.213.1.1.4.1', 'Compte rendu');
  classification(x, input, DE_CONF_CODE, de, 'N', '2.16.840.1.113883.5.25', 'Normal');
  classification(
    x,
    input,
    DE_FORMAT_CODE,
    de,
    'urn:ihe:iti:xds-sd:pdf:2008',
    '1.3.6.1.4.1.19376.1.2.3',
    'Document a corps non structure en PDF',
  );
  classification(x, input, DE_FACILITY_CODE, de, 'SA07', '1.2.250.1.71.4.2.4', 'Cabinet de groupe');
  classification(x, input, DE_PRACTICE_CODE, de, 'AMBULATOIRE', '1.2.250.1.213.1.1.4.9', 'Ambulatoire');
  classification(x, input, DE_TYPE_CODE, de, docCode(d), '2.16.840.1.113883.6.1', docDisplay(d));
  extId(x, input, DE_PATIENT_ID, de, pid, 'XDSDocumentEntry.patientId');
  extId(x, input, DE_UNIQUE_ID, de, cdaId, 'XDSDocumentEntry.uniqueId');
  x.end();

  // the submission set
  x.start('rim:RegistryPackage');
  x.attr('id', ss);
  slot(x, 'submissionTime', created);
  rimName(x, title);
  classification(x, input, SS_CONTENT_TYPE, ss, docCode(d), '2.16.840.1.113883.6.1', docDisplay(d));
  extId(x, input, SS_UNIQUE_ID, ss, ssUid, 'XDSSubmissionSet.uniqueId');
  extId(x, input, SS_SOURCE_ID, ss, input.orgOid, 'XDSSubmissionSet.sourceId');
  extId(x, input, SS_PATIENT_ID, ss, pid, 'XDSSubmissionSet.patientId');
  x.end();
  x.start('rim:Classification');
  x.attr('id', objId(input, 'submissionset-node'));
  x.attr('objectType', OBJTYPE_CLASSIFICATION);
  x.attr('classifiedObject', ss);
  x.attr('classificationNode', SS_NODE);
  x.end();
  x.start('rim:Association');
  x.attr('id', assoc);
  x.attr('associationType', 'urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember');
  x.attr('sourceObject', ss);
  x.attr('targetObject', de);
  slot(x, 'SubmissionSetStatus', 'Original');
  x.end();

  x.end(); // RegistryObjectList
  x.end(); // SubmitObjectsRequest
  return x.close();
}

/* INDEX.HTM: an XHTML page naming the document. */
function indexHtm(input) {
  const x = new XmlWriter();
  const day = dayIso(input.doc.day);
  x.start('html');
  x.attr('xmlns', 'http://www.w3.org/1999/xhtml');
  x.attr('xml:lang', 'fr');
  x.start('head');
  x.elem('title', 'IHE XDM - Sesame');
  x.end();
  x.start('body');
  x.elem('h1', 'IHE XDM package');
  x.start('p');
  x.text('Sent by ');
  x.text(partyLabel(input.author));
  x.text(' to ');
  x.text(partyLabel(input.gp));
  x.text(' through Sesame.');
  x.end();
  x.start('ul');
  x.start('li');
  x.start('a');
  x.attr('href', DOC_PATH);
  x.text('Psychiatric case-review recommendation of ');
  x.text(day);
  x.text(' (CDA R2, ');
  x.text(docCode(input.doc));
  x.text(')');
  x.end();
  x.end();
  x.end();
  x.end(); // body
  x.end(); // html
  return x.close();
}

/* README.TXT (CRLF lines). As export_xdm.c, the whole text goes through the ASCII
 * transliteration last (which keeps CR, LF and TAB). */
function readme(input) {
  const author = ascii(partyLabel(input.author));
  const gp = ascii(partyLabel(input.gp));
  const site = ascii(input.site !== '' ? input.site : 'Sesame');
  const day = dayIso(input.doc.day);
  const text =
    'IHE XDM package (IHE ITI Cross-Enterprise Document Media Interchange)\r\n' +
    '\r\n' +
    `Content: one psychiatric case-review recommendation of ${day}, an HL7 CDA R2\r\n` +
    `document with a PDF body, in ${DOC_PATH} (metadata in ${META_PATH}).\r\n` +
    `Patient reference: ${input.patientRef}\r\n` +
    '\r\n' +
    `Sent by: ${author} (psychiatrist), through Sesame, ${site}\r\n` +
    `Addressed to: ${gp} (general practitioner)\r\n` +
    `Point of contact: ${author}, via the Sesame care thread ${input.threadId}\r\n`;
  return utf8(ascii(text));
}

/* libzip's DOS time and date of the sent time: its UTC broken-down time (export_xdm.c makes
 * libzip's local time the UTC time), years before 1980 written as 1980. */
function dosTime(ms) {
  const t = partsOfSeconds(cSeconds(ms));
  const year = Math.max(t.year, 1980);
  return {
    time: ((t.hour << 11) + (t.min << 5) + (t.sec >> 1)) & 0xffff,
    date: (((year - 1980) << 9) + (t.mon << 5) + t.mday) & 0xffff,
  };
}

const VERSION_MADE_BY = 63 | (3 << 8); // ZIP spec 6.3, UNIX
const VERSION_NEEDED = 20; // deflate
const FLAGS = 1 << 1; // deflate "maximum compression" (level 8 and above)
const METHOD_DEFLATE = 8;
const EXT_ATTRIB = 0o100666 * 0x10000; // regular file rw-rw-rw-

/**
 * A ZIP archive of the given entries as libzip 1.7 writes one from in-memory buffers added with
 * ZIP_CM_DEFLATE level 9 and a set mtime: no data descriptors, no extra fields, ASCII names
 * without the UTF-8 flag, no comments.
 * @param {{name: string, data: Uint8Array}[]} entries
 * @param {number} mtimeMs every entry's modification time (ms since 1970, written in UTC)
 * @returns {Uint8Array}
 */
export function zipEntries(entries, mtimeMs) {
  const { time, date } = dosTime(mtimeMs);
  const parts = [];
  const central = [];
  let offset = 0;
  for (const e of entries) {
    const name = utf8(e.name);
    const comp = deflateRaw(e.data, { level: 9, windowBits: 15, memLevel: 9, strategy: 0 });
    const crc = crc32(0, e.data, e.data.length, 0) >>> 0;
    const local = new DataView(new ArrayBuffer(30));
    local.setUint32(0, 0x04034b50, true);
    local.setUint16(4, VERSION_NEEDED, true);
    local.setUint16(6, FLAGS, true);
    local.setUint16(8, METHOD_DEFLATE, true);
    local.setUint16(10, time, true);
    local.setUint16(12, date, true);
    local.setUint32(14, crc, true);
    local.setUint32(18, comp.length, true);
    local.setUint32(22, e.data.length, true);
    local.setUint16(26, name.length, true);
    local.setUint16(28, 0, true);
    parts.push(new Uint8Array(local.buffer), name, comp);
    const cd = new DataView(new ArrayBuffer(46));
    cd.setUint32(0, 0x02014b50, true);
    cd.setUint16(4, VERSION_MADE_BY, true);
    cd.setUint16(6, VERSION_NEEDED, true);
    cd.setUint16(8, FLAGS, true);
    cd.setUint16(10, METHOD_DEFLATE, true);
    cd.setUint16(12, time, true);
    cd.setUint16(14, date, true);
    cd.setUint32(16, crc, true);
    cd.setUint32(20, comp.length, true);
    cd.setUint32(24, e.data.length, true);
    cd.setUint16(28, name.length, true);
    cd.setUint16(30, 0, true); // extra
    cd.setUint16(32, 0, true); // comment
    cd.setUint16(34, 0, true); // disk
    cd.setUint16(36, 0, true); // internal attributes
    cd.setUint32(38, EXT_ATTRIB, true);
    cd.setUint32(42, offset, true);
    central.push(new Uint8Array(cd.buffer), name);
    offset += 30 + name.length + comp.length;
  }
  const cdSize = central.reduce((n, p) => n + p.length, 0);
  const eocd = new DataView(new ArrayBuffer(22));
  eocd.setUint32(0, 0x06054b50, true);
  eocd.setUint32(4, 0, true); // this disk, the directory's disk
  eocd.setUint16(8, entries.length, true);
  eocd.setUint16(10, entries.length, true);
  eocd.setUint32(12, cdSize, true);
  eocd.setUint32(16, offset, true);
  eocd.setUint16(20, 0, true); // comment
  const all = [...parts, ...central, new Uint8Array(eocd.buffer)];
  const out = new Uint8Array(all.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of all) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/* The package of a prepared input around the CDA bytes. */
async function xdmOf(input, cda) {
  const meta = await metadata(input, cda);
  const entries = [
    { name: 'README.TXT', data: readme(input) },
    { name: 'INDEX.HTM', data: indexHtm(input) },
    { name: META_PATH, data: meta },
    { name: DOC_PATH, data: cda },
  ];
  return zipEntries(entries, input.sentMs);
}

/**
 * The XDM package around given PDF bytes (exp_xdm with its letter already made): for tests and
 * for a caller that has the letter at hand.
 * @param {object} input an ExportInput
 * @param {Uint8Array} pdf the letter (exportPdf(input))
 * @returns {Promise<Uint8Array>} the ZIP bytes
 * @throws {ExportError} BAD_FIELD (rejects the promise)
 */
export async function xdmWithPdf(input, pdf) {
  const n = prepare(input, true);
  return xdmOf(n, cdaWithPdf(input, pdf));
}

/**
 * The IHE XDM package IHE_XDM.ZIP: the bytes of `sesame rec export --format xdm` (exp_xdm).
 * Async (the document hash comes from the Web Crypto API).
 * @param {object} input an ExportInput (with a card that has an INS)
 * @returns {Promise<Uint8Array>} the ZIP bytes
 * @throws {ExportError} BAD_FIELD where exp_xdm returns SES_EBAD_FIELD (rejects the promise)
 */
export async function exportXdm(input) {
  const n = prepare(input, true);
  return xdmOf(n, cdaWithPdf(input, exportPdf(input)));
}
