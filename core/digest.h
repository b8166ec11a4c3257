/* SPDX-License-Identifier: MIT */
/*
 * core/digest.h - SHA-256 (OpenSSL EVP), streaming and one-shot, as
 * lower-case hex.  The only OpenSSL user besides net.c.
 */
#ifndef PV_DIGEST_H
#define PV_DIGEST_H

#include <stddef.h>

#define DIGEST_HEX_LEN 64 /* plus a NUL: char hex[DIGEST_HEX_LEN + 1] */

struct digest; /* opaque: one running SHA-256 */

/* A new running digest (already reset).  Free with digest_free(). */
struct digest *digest_new(void);

/* Start over. */
void digest_reset(struct digest *d);

void digest_update(struct digest *d, const void *p, size_t n);

/* Finish into hex[] (NUL-terminated) and reset for the next message. */
void digest_final_hex(struct digest *d, char hex[DIGEST_HEX_LEN + 1]);

/* Accepts NULL. */
void digest_free(struct digest *d);

/* One-shot SHA-256 of p[0..n). */
void digest_sha256_hex(const void *p, size_t n, char hex[DIGEST_HEX_LEN + 1]);

/* True if s is exactly 64 lower-case hex digits. */
_Bool digest_is_hex(const char *s);

#endif /* PV_DIGEST_H */
