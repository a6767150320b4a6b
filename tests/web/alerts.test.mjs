// alerts.test.mjs - the web client's alert catalogue and checks (clients/web/src/protocol/
// alerts.js, roles.js) on the cases of tests/unit/test_alert_logic.c (catalogue, raise rules,
// lifecycle rules with the policy, escalation, repeats, re-notification) with the same inputs
// and expected outputs, the catalogue against PROTOCOL.md §13's table, the CLI's prechecks, the
// alert note body and how deadlines and the P0 banner read.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  ALERT_TYPES, SES_ALERT_CHAIN_MAX, SES_PARTY_BACKUP, SES_PARTY_GP, SES_PARTY_LEAD,
  SES_PARTY_ON_DUTY, SES_PARTY_OWNER, SES_PARTY_FORMER_OWNER, SES_PARTY_PSYCHIATRIST,
  SES_REPEAT_COUNT, SES_REPEAT_REOPEN, SES_REPEAT_UPGRADE, SES_SEV_COUNT, SES_SEV_INFO,
  SES_SEV_P0, SES_SEV_P1, SES_SEV_P2, SES_SEV_P3, alertAckCheck, alertCancelCheck, alertDecide,
  alertDeadline, alertFollowupCode, alertP0Banner, alertPrecheckRaise, alertRaiseCheck,
  alertRaisers, alertRelation, alertRenotifyMs, alertRepeatKind, alertResolveCheck,
  alertResolveOptsCheck, alertResolvePrecheck, alertTypeAt, alertTypeCount, alertTypeFind,
  alertTypeText, cancelCodeValid, decodeAlertNote, encodeAlertNote, escalationNext as escalate,
  formatDuration, isSafetyAlert, originName, partyNames, resolutionValid, riskOutcomeRank, riskOutcomeValid,
  severityFromName, severityName,
} from '../../clients/web/src/protocol/alerts.js';
import {
  SES_ROLE_ADMIN, SES_ROLE_AUDITOR, SES_ROLE_GP, SES_ROLE_NONE, SES_ROLE_NURSE,
  SES_ROLE_PSYCHIATRIST, roleFromName, roleName, roleNames,
} from '../../clients/web/src/protocol/roles.js';
import { codeOf } from './lib/codes.mjs';

const MIN = 60 * 1000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const [U1, U2, U3] = ['U1', 'U2', 'U3'];

function T(code, variant) {
  const t = alertTypeFind(code, variant);
  assert.notEqual(t, null, `${code}/${variant}`);
  return t;
}

test('catalogue (test_alert_logic.c catalogue)', () => {
  for (let i = 0; i < alertTypeCount(); i++) {
    const t = alertTypeAt(i);
    assert.equal(alertTypeFind(t.code, t.variant), t);
    assert.ok(t.severity === SES_SEV_INFO ? t.ack_ms === 0 : t.ack_ms > 0, t.code);
    const a19p = t.code === 'A19' && t.variant === 'psychiatric';
    assert.equal(t.safety, ['A01', 'A02', 'A03'].includes(t.code) || a19p, t.code);
    if (t.safety) {
      assert.equal(t.closers, SES_PARTY_OWNER | SES_PARTY_PSYCHIATRIST | SES_PARTY_ON_DUTY);
    } else {
      assert.ok((t.closers & SES_PARTY_OWNER) && (t.closers & SES_PARTY_FORMER_OWNER));
    }
    assert.ok(t.chain.length <= SES_ALERT_CHAIN_MAX);
  }
  assert.equal(alertTypeAt(alertTypeCount()), null);
  assert.equal(T('A01').variant, 'item9_1');
  assert.equal(T('A01', 'item9_2').ack_ms, 30 * MIN);
  assert.equal(T('A02').severity, SES_SEV_P0);
  assert.equal(alertTypeFind('A99'), null);
  assert.equal(alertTypeFind('A01', 'item9_3'), null);
  assert.equal(severityName(SES_SEV_P0), 'P0');
  assert.equal(severityName(SES_SEV_COUNT), '?');
  assert.equal(severityFromName('INFO'), SES_SEV_INFO);
  assert.equal(severityFromName('P5'), -1);
  assert.ok(riskOutcomeValid('imminent'));
  assert.ok(!riskOutcomeValid('Imminent'));
  assert.equal(riskOutcomeRank('high'), 3);
  assert.equal(riskOutcomeRank('x'), -1);
  assert.ok(resolutionValid('RISK_ASSESSED'));
  assert.ok(!resolutionValid('CONDITION_CLEARED')); /* the daemon's own */
  assert.ok(cancelCodeValid('WRONG_PATIENT'));
});

test('the catalogue rows are those of PROTOCOL.md §13 (sev, origin, owners, cc, window)', () => {
  const sev = ['INFO', 'P3', 'P2', 'P1', 'P0'];
  /* code/variant sev origin owners cc window chain */
  const want = [
    'A01/item9_1 P1 client nurse gp 4h backup,gp,on_duty',
    'A01/item9_2 P1 client nurse gp+psychiatrist 30m backup,gp,on_duty',
    'A01/item9_unanswered P3 client nurse - 7d backup,gp',
    'A02 P0 manual gp+psychiatrist nurse 15m lead',
    'A03 P1 manual psychiatrist gp 4h on_duty,lead',
    'A04 P2 client nurse gp+psychiatrist 7d psychiatrist',
    'A05 P2 client nurse psychiatrist 7d psychiatrist',
    'A06 P2 client nurse psychiatrist 7d psychiatrist+lead',
    'A06b INFO client nurse - 0 -',
    'A07 P3 daemon nurse psychiatrist 14d psychiatrist,lead',
    'A08/first_followup P2 daemon nurse gp 7d lead',
    'A08/active P3 daemon nurse - 7d lead',
    'A08/relapse_prevention P3 daemon nurse - 7d lead',
    'A09 P2 daemon nurse+gp - 7d lead',
    'A09b INFO daemon nurse gp+psychiatrist 0 -',
    'A10/response INFO client nurse gp+psychiatrist 0 -',
    'A10/remission P3 client nurse gp+psychiatrist 14d -',
    'A11 P2 client nurse gp+psychiatrist 7d psychiatrist',
    'A12 P3 daemon nurse+psychiatrist gp 7d lead',
    'A13/routine P2 manual psychiatrist - 7d on_duty',
    'A13/urgent P1 manual psychiatrist - 4h on_duty',
    'A14/routine P3 daemon gp nurse 7d -',
    'A14/urgent P1 daemon gp nurse 1d -',
    'A15 P2 daemon nurse - 7d psychiatrist+lead',
    'A16 INFO daemon nurse+psychiatrist - 0 -',
    'A17 P2 manual gp psychiatrist 3d psychiatrist',
    'A18 P2 manual gp nurse 7d lead',
    'A19/routine P2 manual nurse psychiatrist 7d -',
    'A19/psychiatric P1 manual nurse psychiatrist 4h psychiatrist,on_duty,lead',
    'A22 P3 daemon nurse - 7d lead',
    'A20 INFO daemon lead - 0 -',
    'A21 INFO later nurse - 0 -',
  ];
  const parties = (m) => partyNames(m).join('+') || '-';
  const win = (ms) => (ms === 0 ? '0' : ms % DAY === 0 ? `${ms / DAY}d`
    : ms % HOUR === 0 ? `${ms / HOUR}h` : `${ms / MIN}m`);
  const got = ALERT_TYPES.map((t) => [alertTypeText({ type: t.code, variant: t.variant }),
    sev[t.severity], originName(t.origin), parties(t.owners), parties(t.cc), win(t.ack_ms),
    t.chain.map(parties).join(',') || '-'].join(' '));
  assert.deepEqual(got, want);
});

/* A raise as the handler decides it: the policy (a member whose role raises the type), then
 * the raise's own checks. */
function raiseRc(code, role, severity) {
  const t = T(code);
  const rc = alertDecide(role, 'alert_raise', { exists: true, member: true,
    raisers: alertRaisers(t) });
  return rc !== null ? rc : alertRaiseCheck(t, severity);
}

test('raise rules (test_alert_logic.c raise_rules)', () => {
  assert.equal(alertRaiseCheck(null, -1), 'UNKNOWN_ALERT_TYPE');
  assert.equal(raiseRc('A01', SES_ROLE_GP, -1), null);
  assert.equal(raiseRc('A01', SES_ROLE_ADMIN, -1), 'DENIED');
  assert.equal(raiseRc('A07', SES_ROLE_NURSE, -1), 'DENIED'); /* the daemon's */
  assert.equal(raiseRc('A14', SES_ROLE_PSYCHIATRIST, -1), 'DENIED'); /* a later one */
  assert.equal(raiseRc('A13', SES_ROLE_GP, -1), 'DENIED');
  assert.equal(raiseRc('A18', SES_ROLE_PSYCHIATRIST, -1), null);
  /* severity: at or above the type's, never below */
  assert.equal(raiseRc('A02', SES_ROLE_NURSE, SES_SEV_P0), null);
  assert.equal(raiseRc('A02', SES_ROLE_NURSE, SES_SEV_P1), 'SEVERITY_TOO_LOW');
  assert.equal(raiseRc('A04', SES_ROLE_NURSE, SES_SEV_P2), null);
  assert.equal(raiseRc('A04', SES_ROLE_NURSE, SES_SEV_P1), null);
  assert.equal(raiseRc('A04', SES_ROLE_NURSE, SES_SEV_P3), 'SEVERITY_TOO_LOW');
  assert.equal(raiseRc('A04', SES_ROLE_NURSE, SES_SEV_COUNT), 'BAD_FIELD');
  /* not a member of the thread */
  assert.equal(alertDecide(SES_ROLE_NURSE, 'alert_raise', { exists: true, member: false,
    raisers: alertRaisers(T('A04')) }), 'DENIED');
});

/* alert_of: raised by U1, owned by U2, escalated from U1 to U2 */
function alertOf(type, variant, state) {
  return { type, variant, state, raised_by: U1, owners: [U2], former: [U1, U2], cc: [] };
}

function decided(a, w, action) {
  return alertDecide(w.role, action, alertRelation(a, w.user, { member: w.member,
    onDuty: w.onDuty }));
}

const ackRc = (a, w) => decided(a, w, 'alert_ack') ?? alertAckCheck(a);
const resolveRc = (a, t, w, code, outcome, note) => decided(a, w, 'alert_resolve')
  ?? alertResolveCheck(a, t, code, outcome, note);
const cancelRc = (a, t, w, code) => decided(a, w, 'alert_cancel') ?? alertCancelCheck(a, t, code);

test('lifecycle rules with the policy (test_alert_logic.c lifecycle_rules)', () => {
  const a = alertOf('A01', 'item9_2', 'raised');
  a.cc.push(U3);
  const t = T('A01', 'item9_2');
  const who = (user, role, member, onDuty = false) => ({ user, role, member, onDuty });
  const owner = who(U2, SES_ROLE_NURSE, true);
  const former = who(U1, SES_ROLE_NURSE, true);
  const ccGp = who(U3, SES_ROLE_GP, true);
  const nurse3 = who(U3, SES_ROLE_NURSE, true);
  const psy = who(U3, SES_ROLE_PSYCHIATRIST, true);
  const duty = who(U3, SES_ROLE_PSYCHIATRIST, false, true); /* copied, not a member */
  const admin = who(U2, SES_ROLE_ADMIN, true);
  const outsider = who(U3, SES_ROLE_NURSE, false); /* copied only */
  /* ack: current and former owners only; only a raised alert */
  assert.equal(ackRc(a, owner), null);
  assert.equal(ackRc(a, former), null);
  assert.equal(ackRc(a, ccGp), 'NOT_OWNER');
  const acked = alertOf('A01', 'item9_2', 'acked');
  assert.equal(ackRc(acked, owner), 'BAD_STATE');
  assert.equal(ackRc(acked, ccGp), 'NOT_OWNER');
  /* resolve: the type's closers; a safety alert needs an outcome and a note */
  assert.equal(resolveRc(a, t, owner, 'RISK_ASSESSED', null, true), 'OUTCOME_REQUIRED');
  assert.equal(resolveRc(a, t, owner, 'RISK_ASSESSED', 'low', false), 'NOTE_REQUIRED');
  assert.equal(resolveRc(a, t, owner, 'RISK_ASSESSED', 'low', true), null);
  assert.equal(resolveRc(a, t, psy, 'RISK_ASSESSED', 'moderate', true), null);
  assert.equal(resolveRc(a, t, duty, 'RISK_ASSESSED', 'none', true), null);
  assert.equal(resolveRc(acked, t, owner, 'ADDRESSED', 'none', true), null);
  /* a cc-only GP, a former owner of a safety alert, an outsider, an admin */
  assert.equal(resolveRc(a, t, ccGp, 'DUPLICATE', 'imminent', true), 'NOT_OWNER');
  assert.equal(resolveRc(a, t, former, 'RISK_ASSESSED', 'low', true), 'NOT_OWNER');
  assert.equal(resolveRc(a, t, outsider, 'RISK_ASSESSED', 'low', true), 'DENIED');
  assert.equal(resolveRc(a, t, admin, 'RISK_ASSESSED', 'low', true), 'DENIED');
  assert.equal(resolveRc(a, t, owner, 'RISK_ASSESSED', 'bad', true), 'BAD_FIELD');
  assert.equal(resolveRc(a, t, owner, 'CONDITION_CLEARED', 'low', true), 'BAD_FIELD');
  /* a dismissal never closes a risk above low */
  assert.equal(resolveRc(a, t, owner, 'DUPLICATE', 'low', true), null);
  assert.equal(resolveRc(a, t, owner, 'DUPLICATE', 'moderate', true), 'OUTCOME_CONFLICT');
  assert.equal(resolveRc(a, t, owner, 'NO_ACTION_NEEDED', 'high', true), 'OUTCOME_CONFLICT');
  assert.equal(resolveRc(a, t, owner, 'REVIEWED', 'high', true), null);
  const done = alertOf('A04', '', 'resolved');
  assert.equal(resolveRc(done, T('A04'), owner, 'ADDRESSED', null, false), 'BAD_STATE');
  /* a task: its owners (current or former), its owning roles and psychiatrists; no note */
  const a04 = alertOf('A04', '', 'raised');
  const t04 = T('A04');
  assert.equal(resolveRc(a04, t04, owner, 'ADDRESSED', null, false), null);
  assert.equal(resolveRc(a04, t04, former, 'ADDRESSED', null, false), null);
  assert.equal(resolveRc(a04, t04, psy, 'ADDRESSED', null, false), null);
  assert.equal(resolveRc(a04, t04, nurse3, 'ADDRESSED', null, false), null);
  assert.equal(resolveRc(a04, t04, ccGp, 'ADDRESSED', null, false), 'NOT_OWNER');
  /* follow-ups of an assessment: what "imminent" means */
  assert.equal(alertFollowupCode('high'), 'A03');
  assert.equal(alertFollowupCode('imminent'), 'A02');
  assert.equal(T(alertFollowupCode('imminent')).severity, SES_SEV_P0);
  assert.equal(alertFollowupCode('moderate'), null);
  assert.equal(alertFollowupCode(null), null);
  /* cancel: the raiser or an admin, never a safety alert */
  const admin3 = who(U3, SES_ROLE_ADMIN, false);
  assert.equal(cancelRc(a04, t04, former, 'RAISED_IN_ERROR'), null); /* U1 raised it */
  assert.equal(cancelRc(a04, t04, admin3, 'DUPLICATE'), null);
  assert.equal(cancelRc(a04, t04, owner, 'RAISED_IN_ERROR'), 'DENIED');
  assert.equal(cancelRc(a04, t04, former, 'OOPS'), 'BAD_FIELD');
  assert.equal(cancelRc(a, t, former, 'RAISED_IN_ERROR'), 'BAD_STATE');
  assert.equal(cancelRc(done, t04, former, 'RAISED_IN_ERROR'), 'BAD_STATE');
  /* roles outside the policy */
  assert.equal(decided(a, who(U2, SES_ROLE_AUDITOR, true), 'alert_show'), 'DENIED');
  assert.equal(decided(a, who(U2, SES_ROLE_NONE, true), 'alert_ack'), 'DENIED');
});

test('escalation machine (test_alert_logic.c escalation_machine)', () => {
  const chain = [SES_PARTY_BACKUP, SES_PARTY_GP, SES_PARTY_ON_DUTY];
  let present = SES_PARTY_BACKUP | SES_PARTY_GP | SES_PARTY_ON_DUTY;
  const has = (party) => (party & present) !== 0;
  assert.deepEqual(escalationNextAll(chain, has), [1, 2, 3, 0]);
  present = SES_PARTY_GP | SES_PARTY_ON_DUTY; /* no backup configured: straight to the GP */
  assert.deepEqual(escalate(chain, 0, has), { step: 2, skipped: 1 });
  present = 0; /* nobody anywhere: exhausted, every step skipped */
  assert.deepEqual(escalate(chain, 0, has), { step: 0, skipped: 7 });
  const full = [SES_PARTY_BACKUP, SES_PARTY_GP, SES_PARTY_ON_DUTY, SES_PARTY_LEAD];
  present = SES_PARTY_LEAD;
  assert.equal(escalate(full, 0, has).step, 4);
  assert.equal(escalate(full, 4, has).step, 0);
  assert.equal(escalate([], 0, has).step, 0);
});

function escalationNextAll(chain, has) {
  return [0, 1, 2, 3].map((from) => escalate(chain, from, has).step);
}

test('new signal, new obligation (test_alert_logic.c repeat_rules)', () => {
  const cases = [
    ['item9_1', 'raised', SES_SEV_P1, 'item9_2', SES_SEV_P1, SES_REPEAT_UPGRADE],
    ['item9_1', 'acked', SES_SEV_P1, 'item9_2', SES_SEV_P1, SES_REPEAT_UPGRADE],
    ['item9_unanswered', 'raised', SES_SEV_P3, 'item9_1', SES_SEV_P1, SES_REPEAT_UPGRADE],
    ['item9_unanswered', 'acked', SES_SEV_P3, 'item9_2', SES_SEV_P1, SES_REPEAT_UPGRADE],
    ['item9_1', 'acked', SES_SEV_P1, 'item9_1', SES_SEV_P1, SES_REPEAT_REOPEN],
    ['item9_2', 'acked', SES_SEV_P1, 'item9_1', SES_SEV_P1, SES_REPEAT_REOPEN],
    ['item9_1', 'raised', SES_SEV_P1, 'item9_1', SES_SEV_P1, SES_REPEAT_COUNT],
    ['item9_2', 'raised', SES_SEV_P1, 'item9_1', SES_SEV_P1, SES_REPEAT_COUNT],
    ['item9_2', 'acked', SES_SEV_P1, 'item9_unanswered', SES_SEV_P3, SES_REPEAT_COUNT],
    ['item9_1', 'acked', SES_SEV_P1, 'item9_1', SES_SEV_P0, SES_REPEAT_UPGRADE],
    ['item9_2', 'raised', SES_SEV_P0, 'item9_2', SES_SEV_P1, SES_REPEAT_COUNT],
  ];
  for (const [cur, state, curSev, next, nextSev, want] of cases) {
    const a = { ...alertOf('A01', cur, state), severity: curSev };
    assert.equal(alertRepeatKind(a, T('A01', next), nextSev), want, `${cur}/${state} -> ${next}`);
  }
  let a13 = { ...alertOf('A13', 'routine', 'acked'), severity: SES_SEV_P2 };
  assert.equal(alertRepeatKind(a13, T('A13', 'urgent'), SES_SEV_P1), SES_REPEAT_UPGRADE);
  assert.equal(alertRepeatKind(a13, T('A13', 'routine'), SES_SEV_P2), SES_REPEAT_COUNT);
  /* a site's shorter window (alert_window = A13/routine 1m) */
  const site = (t) => (t.code === 'A13' && t.variant === 'routine' ? MIN : t.ack_ms);
  a13 = { ...alertOf('A13', 'urgent', 'raised'), severity: SES_SEV_P1 };
  assert.equal(alertRepeatKind(a13, T('A13', 'routine'), SES_SEV_P2, site), SES_REPEAT_COUNT);
  a13 = { ...alertOf('A13', 'routine', 'raised'), severity: SES_SEV_P2 };
  assert.equal(alertRepeatKind(a13, T('A13', 'urgent'), SES_SEV_P2, site), SES_REPEAT_COUNT);
  assert.equal(alertRepeatKind(a13, T('A13', 'urgent'), SES_SEV_P2), SES_REPEAT_UPGRADE);
});

test('re-notification of an exhausted alert (test_alert_logic.c chain_roles)', () => {
  assert.equal(alertRenotifyMs(SES_SEV_P0), 15 * MIN);
  assert.equal(alertRenotifyMs(SES_SEV_P1), 60 * MIN);
  assert.equal(alertRenotifyMs(SES_SEV_P2), 0);
  assert.equal(alertRenotifyMs(SES_SEV_INFO), 0);
});

test("the CLI's prechecks before anything is sent (cmd_alert.c)", () => {
  assert.equal(alertPrecheckRaise(alertTypeFind('A99'), -1, 'nurse'), 'UNKNOWN_ALERT_TYPE');
  assert.equal(alertPrecheckRaise(T('A02'), SES_SEV_P1, 'nurse'), 'SEVERITY_TOO_LOW');
  assert.equal(alertPrecheckRaise(T('A07'), -1, 'nurse'), 'DENIED');
  assert.equal(alertPrecheckRaise(T('A21'), -1, 'nurse'), 'DENIED');
  assert.equal(alertPrecheckRaise(T('A13'), -1, 'gp'), 'DENIED');
  assert.equal(alertPrecheckRaise(T('A13', 'urgent'), -1, 'nurse'), null);
  assert.equal(alertResolveOptsCheck('OOPS', null, null), 'BAD_FIELD');
  assert.equal(alertResolveOptsCheck('ADDRESSED', 'Low', null), 'BAD_FIELD');
  assert.equal(alertResolveOptsCheck('DUPLICATE', 'moderate', 'n'), 'OUTCOME_CONFLICT');
  assert.equal(alertResolveOptsCheck('RISK_ASSESSED', 'high', ''), 'INVALID_ARG');
  assert.equal(alertResolveOptsCheck('RISK_ASSESSED', 'high', 'seen today'), null);
  const a01 = { type: 'A01', variant: 'item9_2', state: 'raised' };
  assert.equal(alertResolvePrecheck({ ...a01, state: 'resolved' }, 'nurse', true, 'low', true),
    'BAD_STATE');
  assert.equal(alertResolvePrecheck(a01, 'gp', false, 'low', true), 'NOT_OWNER');
  assert.equal(alertResolvePrecheck(a01, 'nurse', false, 'low', true), 'NOT_OWNER',
    'a nurse who does not own a safety alert never closes it');
  assert.equal(alertResolvePrecheck(a01, 'nurse', true, 'low', true), null);
  assert.equal(alertResolvePrecheck(a01, 'psychiatrist', false, null, true), 'OUTCOME_REQUIRED');
  assert.equal(alertResolvePrecheck(a01, 'nurse', true, 'none', false), 'NOTE_REQUIRED');
  assert.equal(alertResolvePrecheck({ type: 'A04', variant: '', state: 'acked' }, 'gp', false,
    null, false), null, 'former owners may close a task: the server decides');
});

test('the alert note body (content type 3)', () => {
  assert.deepEqual(encodeAlertNote('vu \u00e0 10h'), new TextEncoder().encode('vu \u00e0 10h'));
  assert.equal(decodeAlertNote(encodeAlertNote('\ud83d\ude00 ok')), '\ud83d\ude00 ok');
  assert.equal(codeOf(() => encodeAlertNote('')), 'INVALID_ARG');
  assert.equal(codeOf(() => encodeAlertNote('a\u0000b')), 'INVALID_ARG');
  assert.equal(codeOf(() => encodeAlertNote('lone \ud800')), 'INVALID_ARG');
  assert.equal(codeOf(() => encodeAlertNote('x'.repeat(65535))), 'no error');
  assert.equal(codeOf(() => encodeAlertNote('x'.repeat(65536))), 'TOO_LARGE');
  assert.equal(decodeAlertNote(new Uint8Array([0xc3, 0x28])), null);
  assert.equal(decodeAlertNote(new Uint8Array([0xed, 0xa0, 0x80])), null);
  assert.equal(decodeAlertNote(new Uint8Array([0x61, 0x00])), null);
});

test('how alerts read: type text, safety, deadlines, the P0 banner', () => {
  assert.equal(alertTypeText({ type: 'A01', variant: 'item9_2' }), 'A01/item9_2');
  assert.equal(alertTypeText({ type: 'A04', variant: '' }), 'A04');
  assert.ok(isSafetyAlert({ type: 'A01', variant: 'item9_unanswered' }));
  assert.ok(isSafetyAlert({ type: 'A19', variant: 'psychiatric' }));
  assert.ok(!isSafetyAlert({ type: 'A19', variant: 'routine' }));
  assert.equal(formatDuration(25 * MIN), '25 min');
  assert.equal(formatDuration(200 * MIN), '3 h 20 min');
  assert.equal(formatDuration(6 * DAY + 23 * HOUR + 59 * MIN), '6 d 23 h');
  const now = 1767225600000;
  assert.equal(alertDeadline({ state: 'acked', deadline: now }, now), '-');
  assert.equal(alertDeadline({ state: 'raised', deadline: null }, now), 'none');
  assert.equal(alertDeadline({ state: 'raised', deadline: now + 30 * MIN }, now), 'in 30 min');
  assert.equal(alertDeadline({ state: 'raised', deadline: now + 1 }, now), 'in 1 min');
  assert.equal(alertDeadline({ state: 'raised', deadline: now - 2 * HOUR }, now),
    'overdue 2 h 0 min');
  assert.equal(alertDeadline({ state: 'raised', deadline: now + 15 * MIN, exhausted: true,
    renotified: 3 }, now), 'UNACKNOWLEDGED, chain exhausted (renotified 3, next in 15 min)');
  assert.deepEqual(alertP0Banner({ severity: 'P1' }, 'x'), []);
  const b = alertP0Banner({ severity: 'P0', name: 'SAFETY_IMMINENT', patient: 'P-7F3A',
    emergency: 'SAMU 15 /\n3114' }, 'Paul Roux (gp)');
  assert.equal(b.length, 3);
  assert.match(b[0], /P0 SAFETY_IMMINENT on P-7F3A: possible imminent danger to life/);
  assert.match(b[1], /phone now: SAMU 15 \/ 3114/);
  assert.match(alertP0Banner({ severity: 'P0' }, 'nobody')[1], /No emergency routes/);
});

test('roles (roles.c)', () => {
  assert.equal(roleName(SES_ROLE_PSYCHIATRIST), 'psychiatrist');
  assert.equal(roleName(9), 'none');
  assert.equal(roleFromName('gp'), SES_ROLE_GP);
  assert.equal(roleFromName('none'), SES_ROLE_NONE);
  assert.equal(roleFromName('Nurse'), SES_ROLE_NONE);
  assert.deepEqual(roleNames(T('A13').raisers), ['nurse']);
  assert.deepEqual(roleNames(T('A01').raisers), ['nurse', 'psychiatrist', 'gp']);
});
