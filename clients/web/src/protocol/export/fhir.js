// fhir.js - the recommendation as a FHIR R4 Bundle (type collection), the text of
// clients/cli/export/export_fhir.c: Patient, the psychiatrist's and the GP's Practitioner, a
// Task that tracks the loop, one MedicationRequest (MED_* items) or ServiceRequest (other
// items) per item and the contingency plan as a CommunicationRequest, every request of intent
// proposal. Full URLs are urn:uuid: UUIDs derived from the recommendation's id, version and
// entry index. dumpJson writes what jansson's json_dumps writes with JSON_INDENT(2) |
// JSON_PRESERVE_ORDER: keys in insertion order, ": " and ",", two spaces per level, "[]" and
// "{}" when empty, only \\ " and control characters escaped, non-ASCII and '/' as they are.

import { ExportError } from './errors.js';
import {
  cTrunc,
  dayIso,
  insOid,
  hasIns,
  isMedItem,
  itemTypeWords,
  partyLabel,
  prepare,
  stateName,
  timeIso,
  uuid256,
} from './util.js';

const NAMED_ESCAPES = { '\\': '\\\\', '"': '\\"', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/* jansson's dump_string without JSON_ENSURE_ASCII or JSON_ESCAPE_SLASH. */
function dumpString(s) {
  // eslint-disable-next-line no-control-regex
  const body = s.replace(/[\\"\u0000-\u001f]/g, (c) =>
    Object.prototype.hasOwnProperty.call(NAMED_ESCAPES, c)
      ? NAMED_ESCAPES[c]
      : '\\u' + c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0'),
  );
  return '"' + body + '"';
}

/**
 * JSON text as jansson's json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER) writes it (no
 * final newline). Takes plain objects (keys in insertion order), arrays, strings, integers,
 * booleans and null.
 * @param {*} v
 * @param {number} [depth] the current nesting depth
 * @returns {string}
 */
export function dumpJson(v, depth = 0) {
  const nl = (n) => '\n' + '  '.repeat(n);
  if (v === null) return 'null';
  if (v === true) return 'true';
  if (v === false) return 'false';
  if (typeof v === 'string') return dumpString(v);
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new ExportError('INVALID_ARG');
    return String(v);
  }
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    return '[' + nl(depth + 1) + v.map((x) => dumpJson(x, depth + 1)).join(',' + nl(depth + 1)) + nl(depth) + ']';
  }
  const keys = Object.keys(v);
  if (keys.length === 0) return '{}';
  return (
    '{' +
    nl(depth + 1) +
    keys.map((k) => dumpString(k) + ': ' + dumpJson(v[k], depth + 1)).join(',' + nl(depth + 1)) +
    nl(depth) +
    '}'
  );
}

/* What C's snprintf into a char[cap] keeps; json_string refuses a cut character (ENOMEM). */
function cBuf(s, cap) {
  const t = cTrunc(s, cap);
  if (!t.ok) throw new ExportError('NOMEM');
  return t.text;
}

const reference = (url) => ({ reference: url });
const identifier = (system, value) => ({ system, value });
const textConcept = (text) => ({ text });
const annotation = (text) => ({ text });

function fullUrl(input, index) {
  return 'urn:uuid:' + uuid256(`sesame-fhir|${input.recId}|${input.version}|${index}`);
}

function patient(b) {
  const { input } = b;
  const c = input.card;
  const r = { resourceType: 'Patient' };
  const ids = [];
  if (hasIns(c)) ids.push(identifier(`urn:oid:${insOid(c.insKind)}`, c.ins));
  if (input.patientRef !== '') ids.push(identifier(b.sysPatient, input.patientRef));
  r.identifier = ids;
  if (c !== null) {
    const names = [{ use: 'official', family: c.birthName, given: [c.firstGiven !== '' ? c.firstGiven : c.givenNames] }];
    if (c.usedName !== '') names.push({ use: 'usual', family: c.usedName });
    r.name = names;
    r.gender = c.sex === 'F' ? 'female' : c.sex === 'M' ? 'male' : 'unknown';
    r.birthDate = dayIso(c.birthDay);
  }
  return r;
}

function practitioner(b, p) {
  return {
    resourceType: 'Practitioner',
    identifier: [identifier(b.sysUser, p.id)],
    name: [{ text: partyLabel(p) }],
  };
}

const TASK_STATUS = {
  sent: 'requested',
  acknowledged: 'received',
  accepted: 'accepted',
  modified: 'accepted',
  declined: 'rejected',
  implemented: 'in-progress',
  verified: 'completed',
  superseded: 'cancelled',
};

function taskStatus(state) {
  return Object.prototype.hasOwnProperty.call(TASK_STATUS, state) ? TASK_STATUS[state] : 'draft';
}

function task(b, u) {
  const { input } = b;
  const d = input.doc;
  const r = { resourceType: 'Task' };
  r.identifier = [identifier(b.sysRec, cBuf(`${input.recId}.${input.version}`, 160))];
  r.status = taskStatus(input.state);
  if ((input.state === 'declined' || input.state === 'modified') && input.reason !== '')
    r.statusReason = textConcept(input.reason);
  r.businessStatus = textConcept(stateName(input.state));
  r.intent = 'proposal';
  r.priority = d.urgent ? 'urgent' : 'routine';
  r.description = 'Psychiatric case-review recommendation';
  r.focus = reference(d.items.length > 0 ? u.items[0] : u.contingency);
  r.for = reference(u.patient);
  r.authoredOn = timeIso(input.sentMs);
  let last = input.sentMs;
  for (const t of [input.ackedMs, input.decidedMs, input.implementedMs, input.verifiedMs]) if (t > last) last = t;
  r.lastModified = timeIso(last);
  r.requester = reference(u.author);
  r.owner = reference(u.gp);
  r.note = [annotation(`Safety assessment: ${d.safety}`), annotation(`Contingency plan: ${d.contingency}`)];
  if (d.items.length > 0) {
    r.input = d.items.map((_, i) => ({
      type: textConcept(`recommendation item ${i + 1}`),
      valueReference: reference(u.items[i]),
    }));
  }
  return r;
}

function itemRequest(b, u, i) {
  const { input } = b;
  const it = input.doc.items[i];
  const t = timeIso(input.sentMs);
  if (isMedItem(it.type)) {
    const r = {
      resourceType: 'MedicationRequest',
      status: 'active',
      intent: 'proposal',
      category: [textConcept(itemTypeWords(it.type))],
      medicationCodeableConcept: textConcept(it.drug),
      subject: reference(u.patient),
      authoredOn: t,
      requester: reference(u.author),
    };
    if (it.dose !== '' || it.titration !== '') {
      const sep = it.dose !== '' && it.titration !== '' ? '; ' : '';
      r.dosageInstruction = [{ text: it.dose + sep + it.titration }];
    }
    const notes = [];
    if (it.monitoring !== '') notes.push(annotation(`Monitoring: ${it.monitoring}`));
    if (it.text !== '') notes.push(annotation(it.text));
    if (notes.length > 0) r.note = notes;
    return r;
  }
  const r = {
    resourceType: 'ServiceRequest',
    status: 'active',
    intent: 'proposal',
    code: textConcept(`${itemTypeWords(it.type)}: ${it.text}`),
    subject: reference(u.patient),
    authoredOn: t,
    requester: reference(u.author),
  };
  if (it.type === 'GP_VISIT') r.performer = [reference(u.gp)];
  if (it.monitoring !== '') r.note = [annotation(it.monitoring)];
  return r;
}

function contingency(b, u) {
  const { input } = b;
  return {
    resourceType: 'CommunicationRequest',
    status: 'active',
    category: [{ text: 'contingency plan' }],
    priority: input.doc.urgent ? 'urgent' : 'routine',
    subject: reference(u.patient),
    payload: [{ contentString: input.doc.contingency }],
    authoredOn: timeIso(input.sentMs),
    requester: reference(u.author),
    recipient: [reference(u.gp)],
  };
}

/**
 * The FHIR R4 Bundle as the JSON text `sesame rec export --format fhir` writes (exp_fhir):
 * two-space indented, no final newline. Works without a card (the Patient then has only the
 * pseudonymous reference). Synchronous.
 * @param {object} input an ExportInput
 * @returns {string}
 * @throws {ExportError} BAD_FIELD where exp_fhir returns SES_EBAD_FIELD
 */
export function exportFhir(input) {
  const n = prepare(input, false);
  const b = {
    input: n,
    sysPatient: cBuf(`urn:oid:${n.orgOid}.1`, 160),
    sysUser: cBuf(`urn:oid:${n.orgOid}.2`, 160),
    sysRec: cBuf(`urn:oid:${n.orgOid}.3`, 160),
  };
  const items = n.doc.items;
  const u = {
    patient: fullUrl(n, 0),
    author: fullUrl(n, 1),
    gp: fullUrl(n, 2),
    task: fullUrl(n, 3),
    items: items.map((_, i) => fullUrl(n, 4 + i)),
    contingency: fullUrl(n, 4 + items.length),
  };
  const entry = (url, resource) => ({ fullUrl: url, resource });
  const entries = [
    entry(u.patient, patient(b)),
    entry(u.author, practitioner(b, n.author)),
    entry(u.gp, practitioner(b, n.gp)),
    entry(u.task, task(b, u)),
    ...items.map((_, i) => entry(u.items[i], itemRequest(b, u, i))),
    entry(u.contingency, contingency(b, u)),
  ];
  const root = {
    resourceType: 'Bundle',
    id: uuid256(`sesame-fhir|${n.recId}|${n.version}`),
    type: 'collection',
    timestamp: timeIso(n.sentMs),
    entry: entries,
  };
  return dumpJson(root);
}
