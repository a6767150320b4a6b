/*
 * store_principal.c - users, devices and enrolment codes (store.h).
 */
#include <stdio.h>
#include <string.h>

#include "sesame/err.h"

#include "store_internal.h"

static void copy_text(char *dst, size_t cap, sqlite3_stmt *s, int col)
{
    const unsigned char *t = sqlite3_column_text(s, col);
    snprintf(dst, cap, "%s", t ? (const char *)t : "");
}

static void copy_blob(uint8_t *dst, size_t n, sqlite3_stmt *s, int col)
{
    memset(dst, 0, n);
    if ((size_t)sqlite3_column_bytes(s, col) == n)
        memcpy(dst, sqlite3_column_blob(s, col), n);
}

void store_read_user(sqlite3_stmt *s, void *out)
{
    struct ses_user *u = out;
    char role[32];
    memset(u, 0, sizeof *u);
    copy_blob(u->id, sizeof u->id, s, 0);
    copy_text(role, sizeof role, s, 1);
    u->role = ses_role_from_name(role);
    copy_text(u->name, sizeof u->name, s, 2);
    copy_text(u->site, sizeof u->site, s, 3);
    u->revoked = strcmp((const char *)sqlite3_column_text(s, 4), "revoked") == 0;
    u->created_ms = sqlite3_column_int64(s, 5);
    u->n_devices = sqlite3_column_int(s, 6);
}

static void read_device(sqlite3_stmt *s, void *out)
{
    struct ses_device *d = out;
    memset(d, 0, sizeof *d);
    copy_blob(d->id, sizeof d->id, s, 0);
    copy_blob(d->user_id, sizeof d->user_id, s, 1);
    copy_text(d->name, sizeof d->name, s, 2);
    copy_blob(d->sign_pk, sizeof d->sign_pk, s, 3);
    copy_blob(d->box_pk, sizeof d->box_pk, s, 4);
    d->revoked = strcmp((const char *)sqlite3_column_text(s, 5), "revoked") == 0;
    d->created_ms = sqlite3_column_int64(s, 6);
    d->last_login_ms = sqlite3_column_int64(s, 7);
}

typedef void (*row_reader)(sqlite3_stmt *s, void *out);

/* Binds key as ?1, steps once and reads the row: 0, SES_ENOT_FOUND or SES_EIO. */
static int get_row(struct ses_store *st, enum stmt_id id, const void *key, int key_len,
                   row_reader read, void *out)
{
    sqlite3_stmt *s = store_stmt(st, id);
    if (s == NULL)
        return SES_EIO;
    sqlite3_bind_blob(s, 1, key, key_len, SQLITE_STATIC);
    int step = sqlite3_step(s), rc = SES_ENOT_FOUND;
    if (step == SQLITE_ROW) {
        read(s, out);
        rc = 0;
    } else if (step != SQLITE_DONE) {
        rc = SES_EIO;
    }
    store_done(s);
    return rc;
}

/* Binds id as ?1 and now as ?2 and runs a "mark revoked" update: 0, SES_ECONFLICT (already
 * revoked) or SES_EIO. The caller has checked that the row exists. */
static int revoke_row(struct ses_store *st, enum stmt_id id, const uint8_t key[SES_ID_BYTES],
                      int64_t now_ms)
{
    sqlite3_stmt *s = store_stmt(st, id);
    if (s == NULL)
        return SES_EIO;
    sqlite3_bind_blob(s, 1, key, SES_ID_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, now_ms);
    return store_exec_one(st, s);
}

int ses_store_user_insert(struct ses_store *st, const struct ses_user *u)
{
    sqlite3_stmt *s = store_stmt(st, ST_USER_INSERT);
    if (s == NULL)
        return SES_EIO;
    sqlite3_bind_blob(s, 1, u->id, SES_ID_BYTES, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, ses_role_name(u->role), -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, u->name, -1, SQLITE_STATIC);
    if (u->site[0])
        sqlite3_bind_text(s, 4, u->site, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, u->created_ms);
    return store_exec(st, s);
}

int ses_store_user_get(struct ses_store *st, const uint8_t id[SES_ID_BYTES], struct ses_user *u)
{
    return get_row(st, ST_USER_GET, id, SES_ID_BYTES, store_read_user, u);
}

int ses_store_user_list(struct ses_store *st, ses_user_cb cb, void *ud)
{
    sqlite3_stmt *s = store_stmt(st, ST_USER_LIST);
    struct ses_user u;
    int step;
    if (s == NULL)
        return SES_EIO;
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        store_read_user(s, &u);
        cb(ud, &u);
    }
    store_done(s);
    return step == SQLITE_DONE ? 0 : SES_EIO;
}

int ses_store_user_revoke(struct ses_store *st, const uint8_t id[SES_ID_BYTES], int64_t now_ms)
{
    struct ses_user u;
    int rc = ses_store_user_get(st, id, &u);
    return rc != 0 ? rc : revoke_row(st, ST_USER_REVOKE, id, now_ms);
}

int ses_store_count_active_admins(struct ses_store *st, int *n)
{
    sqlite3_stmt *s = store_stmt(st, ST_ADMIN_COUNT);
    int rc = SES_EIO;
    if (s == NULL)
        return SES_EIO;
    if (sqlite3_step(s) == SQLITE_ROW) {
        *n = sqlite3_column_int(s, 0);
        rc = 0;
    }
    store_done(s);
    return rc;
}

int ses_store_device_insert(struct ses_store *st, const struct ses_device *d)
{
    sqlite3_stmt *s = store_stmt(st, ST_DEVICE_INSERT);
    if (s == NULL)
        return SES_EIO;
    sqlite3_bind_blob(s, 1, d->id, SES_ID_BYTES, SQLITE_STATIC);
    sqlite3_bind_blob(s, 2, d->user_id, SES_ID_BYTES, SQLITE_STATIC);
    if (d->name[0])
        sqlite3_bind_text(s, 3, d->name, -1, SQLITE_STATIC);
    sqlite3_bind_blob(s, 4, d->sign_pk, SES_SIGN_PK_BYTES, SQLITE_STATIC);
    sqlite3_bind_blob(s, 5, d->box_pk, SES_BOX_PK_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(s, 6, d->created_ms);
    return store_exec(st, s);
}

int ses_store_device_get(struct ses_store *st, const uint8_t id[SES_ID_BYTES], struct ses_device *d)
{
    return get_row(st, ST_DEVICE_GET, id, SES_ID_BYTES, read_device, d);
}

int ses_store_device_list(struct ses_store *st, const uint8_t *user_id, ses_device_cb cb, void *ud)
{
    sqlite3_stmt *s = store_stmt(st, user_id ? ST_DEVICE_LIST_USER : ST_DEVICE_LIST);
    struct ses_device d;
    int step;
    if (s == NULL)
        return SES_EIO;
    if (user_id)
        sqlite3_bind_blob(s, 1, user_id, SES_ID_BYTES, SQLITE_STATIC);
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        read_device(s, &d);
        cb(ud, &d);
    }
    store_done(s);
    return step == SQLITE_DONE ? 0 : SES_EIO;
}

int ses_store_device_revoke(struct ses_store *st, const uint8_t id[SES_ID_BYTES], int64_t now_ms)
{
    struct ses_device d;
    int rc = ses_store_device_get(st, id, &d);
    return rc != 0 ? rc : revoke_row(st, ST_DEVICE_REVOKE, id, now_ms);
}

int ses_store_device_revoke_user(struct ses_store *st, const uint8_t user_id[SES_ID_BYTES],
                                 int64_t now_ms)
{
    sqlite3_stmt *s = store_stmt(st, ST_DEVICE_REVOKE_USER);
    if (s == NULL)
        return SES_EIO;
    sqlite3_bind_blob(s, 1, user_id, SES_ID_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, now_ms);
    return store_exec(st, s);
}

int ses_store_device_touch_login(struct ses_store *st, const uint8_t id[SES_ID_BYTES],
                                 int64_t now_ms)
{
    sqlite3_stmt *s = store_stmt(st, ST_DEVICE_TOUCH);
    if (s == NULL)
        return SES_EIO;
    sqlite3_bind_blob(s, 1, id, SES_ID_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, now_ms);
    return store_exec_one(st, s);
}

int ses_store_code_insert(struct ses_store *st, const struct ses_code *c)
{
    sqlite3_stmt *s = store_stmt(st, ST_CODE_INSERT);
    if (s == NULL)
        return SES_EIO;
    sqlite3_bind_blob(s, 1, c->ticket, SES_CODE_TICKET_BYTES, SQLITE_STATIC);
    sqlite3_bind_blob(s, 2, c->secret_hash, sizeof c->secret_hash, SQLITE_STATIC);
    sqlite3_bind_blob(s, 3, c->user_id, SES_ID_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, c->created_ms);
    sqlite3_bind_int64(s, 5, c->expires_ms);
    sqlite3_bind_int(s, 6, c->attempts_left);
    return store_exec(st, s);
}

static void read_code(sqlite3_stmt *s, void *out)
{
    struct ses_code *c = out;
    memset(c, 0, sizeof *c);
    copy_blob(c->ticket, sizeof c->ticket, s, 0);
    copy_blob(c->secret_hash, sizeof c->secret_hash, s, 1);
    copy_blob(c->user_id, sizeof c->user_id, s, 2);
    c->created_ms = sqlite3_column_int64(s, 3);
    c->expires_ms = sqlite3_column_int64(s, 4);
    c->attempts_left = sqlite3_column_int(s, 5);
    c->used_ms = sqlite3_column_int64(s, 6);
}

int ses_store_code_get(struct ses_store *st, const uint8_t ticket[SES_CODE_TICKET_BYTES],
                       struct ses_code *c)
{
    return get_row(st, ST_CODE_GET, ticket, SES_CODE_TICKET_BYTES, read_code, c);
}

int ses_store_code_set_attempts(struct ses_store *st, const uint8_t ticket[SES_CODE_TICKET_BYTES],
                                int attempts_left)
{
    sqlite3_stmt *s = store_stmt(st, ST_CODE_ATTEMPTS);
    if (s == NULL)
        return SES_EIO;
    sqlite3_bind_blob(s, 1, ticket, SES_CODE_TICKET_BYTES, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, attempts_left);
    return store_exec_one(st, s);
}

int ses_store_code_mark_used(struct ses_store *st, const uint8_t ticket[SES_CODE_TICKET_BYTES],
                             int64_t now_ms, const uint8_t device_id[SES_ID_BYTES])
{
    sqlite3_stmt *s = store_stmt(st, ST_CODE_USED);
    if (s == NULL)
        return SES_EIO;
    sqlite3_bind_blob(s, 1, ticket, SES_CODE_TICKET_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, now_ms);
    sqlite3_bind_blob(s, 3, device_id, SES_ID_BYTES, SQLITE_STATIC);
    return store_exec_one(st, s);
}

int ses_store_code_open_count(struct ses_store *st, const uint8_t user_id[SES_ID_BYTES],
                              int64_t now_ms, int *n)
{
    sqlite3_stmt *s =
        store_stmt_sql(st, ST_CODE_OPEN_COUNT,
                       "SELECT count(*) FROM enrol_codes WHERE user_id = ?1 "
                       "AND used_ms IS NULL AND expires_ms > ?2 AND attempts_left > 0");
    if (s == NULL)
        return SES_EIO;
    sqlite3_bind_blob(s, 1, user_id, SES_ID_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, now_ms);
    int rc = sqlite3_step(s) == SQLITE_ROW ? 0 : SES_EIO;
    if (rc == 0)
        *n = sqlite3_column_int(s, 0);
    store_done(s);
    return rc;
}
