// people.js - the team directory (PROTOCOL.md §11 `directory`), asked once per session and
// shared by every screen that shows a name for a user id. Roles that may not ask (auditors) get
// ids only.
const cache = new WeakMap(); // session -> Promise<Map<id, user>>
const DIRECTORY_ROLES = ['nurse', 'psychiatrist', 'gp', 'admin'];

/** Resolves with a Map from user id to {user, name, role, site}. */
export function directory(session) {
  if (!cache.has(session)) {
    const p = DIRECTORY_ROLES.includes(session.profile.role)
      ? session.request({ t: 'directory' }).then((r) => new Map(r.users.map((u) => [u.user, u])))
      : Promise.resolve(new Map());
    p.catch(() => cache.delete(session));
    cache.set(session, p);
  }
  return cache.get(session);
}

/** A user's display name from the directory map, else a short form of the id. */
export function nameOf(dir, id) {
  if (!id) return '—';
  const u = dir?.get(id);
  return u ? u.name : `${id.slice(0, 6)}…`;
}
