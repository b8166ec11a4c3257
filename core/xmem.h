/* SPDX-License-Identifier: MIT */
/*
 * core/xmem.h - allocation that cannot fail: on out-of-memory the process
 * prints one line and exits with EX_OSERR, so callers never test the result.
 */
#ifndef PV_XMEM_H
#define PV_XMEM_H

#include <stddef.h>

#include "err.h"

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
/* reallocarray with overflow check. */
void *xreallocarray(void *p, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* A new string, printf-formatted; free() it. */
char *xasprintf(const char *fmt, ...) PV_PRINTF(1, 2);

/* Free and set the pointer to NULL. */
#define XFREE(p)            \
	do {                \
		free(p);    \
		(p) = NULL; \
	} while (0)

/* Wipe a secret string (explicit_bzero) and free it.  Accepts NULL. */
void xfree_secret(char *s);

#endif /* PV_XMEM_H */
