// validate.mjs - validates a FHIR R4 Bundle exported by sesame_export: the npm fhir package's
// structural validation (unexpected properties are errors), then Sesame's own expectations: a
// Task of intent proposal, and every MedicationRequest, ServiceRequest and CommunicationRequest
// of the Bundle a proposal too (CommunicationRequest has no intent; it must be active).
// Usage: node validate.mjs BUNDLE.json   (exit 0 valid, 1 invalid, 2 usage or unreadable file)
import { readFileSync } from 'node:fs';
import fhirpkg from 'fhir';

const { Fhir } = fhirpkg;

if (process.argv.length !== 3) {
  console.error('usage: node validate.mjs BUNDLE.json');
  process.exit(2);
}
let obj;
try {
  obj = JSON.parse(readFileSync(process.argv[2], 'utf8'));
} catch (e) {
  console.error(`${process.argv[2]}: ${e.message}`);
  process.exit(2);
}

const errors = [];
const result = new Fhir().validate(obj, { errorOnUnexpected: true });
for (const m of result.messages) {
  console.log(`${m.severity}: ${m.location}: ${m.message}`);
  if (m.severity === 'error') errors.push(m.message);
}
if (!result.valid) errors.push('the fhir package reports the Bundle invalid');

if (obj.resourceType !== 'Bundle') errors.push('not a Bundle');
const resources = (obj.entry || []).map((e) => e.resource || {});
const tasks = resources.filter((r) => r.resourceType === 'Task');
if (tasks.length !== 1) errors.push(`expected one Task, found ${tasks.length}`);
for (const t of tasks) {
  if (t.intent !== 'proposal') errors.push(`Task intent is ${t.intent}, not proposal`);
}
for (const r of resources) {
  if (r.resourceType === 'MedicationRequest' || r.resourceType === 'ServiceRequest') {
    if (r.intent !== 'proposal') errors.push(`${r.resourceType} intent is ${r.intent}, not proposal`);
  }
  if (r.resourceType === 'CommunicationRequest' && r.status !== 'active') {
    errors.push(`CommunicationRequest status is ${r.status}, not active`);
  }
}
if (!resources.some((r) => r.resourceType === 'CommunicationRequest')) {
  errors.push('no CommunicationRequest (contingency plan)');
}

if (errors.length > 0) {
  for (const e of errors) console.error(`invalid: ${e}`);
  process.exit(1);
}
console.log(`valid: ${resources.length} resources`);
