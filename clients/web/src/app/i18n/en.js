// en.js - English labels of the web client. Every key here exists in fr.js (a node test checks).
export default {
  'app.name': 'Sesame',
  'app.synthetic': 'Demonstration data: synthetic patients only',
  'lang.label': 'Language',
  'conn.connecting': 'Connecting…',
  'conn.online': 'Connected',
  'conn.offline': 'Offline: retrying in {seconds} s',
  'conn.pending': '{count} waiting to be sent',
  'enrol.title': 'Enrol this browser',
  'enrol.intro': 'This browser becomes one of your devices, like a phone or a PC. Its keys stay here.',
  'enrol.name': 'Name of this device',
  'enrol.submit': 'Enrol',
  'enrol.no_code': 'Open the enrolment link you were given: it holds your code.',
  'enrol.done': 'Enrolled as {name} ({role}).',
  'device.warning':
    'Clearing this site’s data in the browser removes this device and its keys. ' +
    'Your history comes back only through “share history” from another of your devices.',
  'signout': 'Sign out (keeps this device)',
  'error.generic': 'Something went wrong: {code}',
  'role.admin': 'administrator',
  'role.nurse': 'nurse',
  'role.psychiatrist': 'psychiatrist',
  'role.gp': 'general practitioner',
  'role.auditor': 'auditor',
};
