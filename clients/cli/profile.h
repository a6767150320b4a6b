/*
 * profile.h - the CLI's profile folder: who this device is, where its server is, and its keys.
 *
 * Folder (mode 0700), chosen by --home DIR, else $SESAME_HOME, else ~/.config/sesame:
 *   profile.json  (0600) server URL, user and device ids, role, name, site - no secrets
 *   keys.json     (0600) the device's key pairs, base64url (secret and public halves)
 *   ca.crt        the pinned copy of the CA certificate the server's TLS certificate must chain to
 * A profile is "enrolled" when profile.json and keys.json both exist. Every file is written
 * atomically (temporary file, fsync, rename).
 */
#ifndef SESAME_CLI_PROFILE_H
#define SESAME_CLI_PROFILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "keys.h"

struct ses_profile {
    char home[4096];
    char server[512];   /* wss://HOST:PORT */
    char ca_file[4096]; /* HOME/ca.crt */
    uint8_t user_id[16], device_id[16];
    char role[16];
    char name[128];
    char site[128]; /* "" when the server said null */
    struct ses_keys keys;
    int enrolled; /* 1 when profile.json + keys.json exist and were loaded */
};

/* Resolves the profile folder into out (cap bytes): home_opt if non-NULL and non-empty, else
 * $SESAME_HOME if set and non-empty, else $HOME/.config/sesame (the passwd entry's home when $HOME
 * is unset). Does not create it. Returns 0, SES_EINVALID_ARG if the path does not fit, or SES_EIO
 * if no home folder can be found. */
int ses_profile_home(char *out, size_t cap, const char *home_opt);

/* Loads the profile in folder home into *p (zeroed first; p->home and p->ca_file are set even on
 * error). Returns 0 with p->enrolled = 1; SES_ENOT_FOUND if profile.json or keys.json is missing
 * (not enrolled); SES_EIO if a file cannot be read or is malformed, or the keys do not match;
 * SES_EINVALID_ARG if home is too long. The caller wipes *p with ses_profile_wipe(). */
int ses_profile_load(const char *home, struct ses_profile *p);

/* Saves keys.json and then profile.json into p->home, creating the folder (0700) if needed. Both
 * files 0600, written atomically. Returns 0, SES_EIO, or SES_EINVALID_ARG (bad field in *p). */
int ses_profile_save(const struct ses_profile *p);

/* Saves only keys.json (0600, atomic), creating p->home (0700) if needed. Used before an
 * enrolment, so the keys are on disk before the server binds them. Returns 0 or SES_EIO. */
int ses_profile_save_keys(const struct ses_profile *p);

/* Copies the CA certificate file src to p->ca_file (atomic, 0600), creating p->home (0700) if
 * needed. Returns 0, SES_ENOT_FOUND if src does not exist, or SES_EIO. */
int ses_profile_copy_ca(const struct ses_profile *p, const char *src);

/* Removes keys.json, profile.json and ca.crt from p->home (missing files are fine; the folder
 * stays). Used to undo a failed enrolment. Returns 0 or SES_EIO. */
int ses_profile_remove(const struct ses_profile *p);

/* Wipes the whole profile, keys included (sodium_memzero). NULL-safe. */
void ses_profile_wipe(struct ses_profile *p);

/* Writes data to dir/name atomically: a temporary file in dir (mode), fsync, rename, fsync of
 * dir. Returns 0 or SES_EIO (the temporary file is removed on failure). */
int ses_write_atomic(const char *dir, const char *name, const void *data, size_t len, mode_t mode);

#endif
