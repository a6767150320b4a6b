/*
 * limits.h - protocol version and every explicit limit of the Sesame wire protocol (v1).
 * Each limit is tested at its boundary; PROTOCOL.md lists the same numbers.
 */
#ifndef SESAME_LIMITS_H
#define SESAME_LIMITS_H

#define SES_PROTO_VERSION 1
#define SES_SUBPROTOCOL "sesame.1"

#define SES_MAX_FRAME (256 * 1024)     /* bytes of one reassembled frame after login */
#define SES_MAX_PREAUTH_FRAME 1024     /* bytes of a frame before login (auth, enroll) */
#define SES_PREAUTH_TIMEOUT_S 10       /* seconds a connection may stay unauthenticated */
#define SES_MAX_JSON_DEPTH 16          /* nesting of arrays/objects; the top-level object is 1 */
#define SES_MAX_RECIPIENTS 32          /* recipient devices per message */
#define SES_MAX_NAME_LEN 64            /* bytes of a display name, device name or site */
#define SES_AUTH_SKEW_MS (60 * 1000)   /* allowed |client time - server time| at login */
#define SES_CODE_TTL_DEFAULT_S 86400   /* enrolment code lifetime unless the admin says otherwise */
#define SES_CODE_TTL_MAX_S (7 * 86400) /* longest lifetime an admin may give a code */
#define SES_LINK_TTL_DEFAULT_S 600     /* a device-link code (an enrolled device's own) */
#define SES_LINK_TTL_MIN_S 60
#define SES_LINK_TTL_MAX_S 3600
#define SES_LINK_MAX_OPEN 3 /* usable codes a user may hold at once (device_link: RATE_LIMITED) */
#define SES_CODE_MAX_ATTEMPTS 20   /* wrong secrets for one ticket, in all, before it locks */
#define SES_CODE_SOURCE_ATTEMPTS 5 /* wrong secrets for one ticket from one address: locked there  \
                                    */
#define SES_REQUEST_ID_MAX 9007199254740991LL /* 2^53-1: ids must survive a JS number */
/* A fetch reply carries at most this many bytes of envelopes (base64url), at least one message:
 * with the JSON around them a reply stays below 1 MiB, the largest message clients accept. */
#define SES_FETCH_MAX_BYTES (512 * 1024)

#define SES_ID_BYTES 16    /* user, device ids */
#define SES_ID_TEXT_LEN 26 /* base32 text of an id, without NUL */
#define SES_NONCE_BYTES 32 /* server and client nonces */
#define SES_SIGN_PK_BYTES 32
#define SES_SIGN_SK_BYTES 64
#define SES_SIG_BYTES 64
#define SES_BOX_PK_BYTES 32
#define SES_BOX_SK_BYTES 32

/* Enrolment code: a 5-byte public ticket id and a 16-byte (128-bit) secret, as base32 text
 * "TTTTTTTT-SSSSSSSSSSSSSSSSSSSSSSSSSS" (8 + 1 + 26 characters). */
#define SES_CODE_TICKET_BYTES 5
#define SES_CODE_SECRET_BYTES 16
#define SES_CODE_TEXT_LEN 35

#endif
