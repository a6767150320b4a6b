/*
 * registry.c - the open connections and the fan-out to them (registry.h).
 */
#include <stdlib.h>
#include <string.h>

#include "sesame/codec.h"

#include "ids.h"
#include "registry.h"
#include "session.h"

void ses_registry_add(struct ses_registry *r, struct ses_session *s)
{
    s->serial = ++r->serial;
    s->prev = NULL;
    s->next = r->head;
    if (r->head)
        r->head->prev = s;
    r->head = s;
    r->n++;
}

void ses_registry_remove(struct ses_registry *r, struct ses_session *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        r->head = s->next;
    if (s->next)
        s->next->prev = s->prev;
    s->prev = s->next = NULL;
    r->n--;
}

struct ses_session *ses_registry_find(const struct ses_registry *r, uint64_t serial)
{
    for (struct ses_session *s = r->head; s; s = s->next)
        if (s->serial == serial)
            return s->state == SES_S_CLOSING ? NULL : s;
    return NULL;
}

static bool in_audience(const struct ses_audience *a, const struct ses_session *s)
{
    if (a == NULL)
        return true;
    if (s->state != SES_S_AUTHED || (a->except != 0 && s->serial == a->except))
        return false;
    if (a->users != NULL && !ses_id_among(a->users, a->n_users, s->user_id))
        return false;
    return a->devices == NULL || ses_id_among(a->devices, a->n_devices, s->device_id);
}

int ses_registry_each(const struct ses_registry *r, const struct ses_audience *a, ses_session_fn fn,
                      void *ud)
{
    int n = 0;
    for (struct ses_session *s = r->head; s; s = s->next)
        if (in_audience(a, s)) {
            fn(ud, s);
            n++;
        }
    return n;
}

struct frame {
    ses_frame_build_fn build;
    void *ud;
    char *text;
    size_t len;
    bool failed;
};

static void send_frame(void *ud, struct ses_session *s)
{
    struct frame *f = ud;
    if (f->text == NULL && !f->failed) {
        f->text = f->build(f->ud, &f->len);
        f->failed = f->text == NULL;
    }
    if (f->text != NULL)
        (void)ses_session_send_text(s, f->text, f->len);
}

int ses_registry_push_built(const struct ses_registry *r, const struct ses_audience *a,
                            ses_frame_build_fn build, void *ud)
{
    struct frame f = {.build = build, .ud = ud};
    int n = ses_registry_each(r, a, send_frame, &f);
    free(f.text);
    return f.failed ? 0 : n;
}

static char *encode_json(void *ud, size_t *len)
{
    char *text = ses_encode(ud);
    *len = text ? strlen(text) : 0;
    return text;
}

int ses_registry_push(const struct ses_registry *r, const struct ses_audience *a, json_t *msg)
{
    int n = msg != NULL ? ses_registry_push_built(r, a, encode_json, msg) : 0;
    json_decref(msg);
    return n;
}
