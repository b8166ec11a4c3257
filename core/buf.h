/* SPDX-License-Identifier: MIT */
/*
 * core/buf.h - a growable byte buffer with a hard limit (curl's dynbuf
 * idea): no server can make us allocate without bound.  The contents are
 * always NUL-terminated for convenience; len does not count the NUL.
 */
#ifndef PV_BUF_H
#define PV_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct buf {
	char *data; /* owned; NULL until the first add */
	size_t len;
	size_t cap;
	size_t max; /* the most len may ever be */
};

/* An empty buffer that will never hold more than 'max' bytes. */
void buf_init(struct buf *b, size_t max);

/* Append; false (and nothing appended) if len would exceed max. */
bool buf_add(struct buf *b, const void *p, size_t n);
bool buf_addstr(struct buf *b, const char *s);

/* Drop the first n bytes (n <= len), keeping the rest. */
void buf_consume(struct buf *b, size_t n);

/* Empty it, keeping the memory. */
void buf_reset(struct buf *b);

/* Release the memory; the buffer is empty and reusable afterwards. */
void buf_free(struct buf *b);

#endif /* PV_BUF_H */
