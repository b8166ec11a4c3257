/* SPDX-License-Identifier: MIT */
/*
 * core/spool.h - holds the bytes of one message while it is received: in
 * memory up to a threshold, beyond it in an unlinked temporary file, so
 * that a 200 MB message costs no more memory than a 200 KB one.  libc only.
 */
#ifndef PV_SPOOL_H
#define PV_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct spool; /* opaque */

/* mem_max: bytes kept in memory before spilling; tmpdir: where the
 * temporary file goes (NULL: $TMPDIR or /tmp).  Free with spool_free(). */
struct spool *spool_new(size_t mem_max, const char *tmpdir);

/* Empty it for the next message (keeps the memory and the file). */
void spool_reset(struct spool *s);

/* Append.  PV_EIO if the temporary file cannot be written (disk full). */
enum pv_code spool_write(struct spool *s, const void *p, size_t n,
    struct pv_err *err);

uint64_t spool_size(const struct spool *s);

/* Call fn(arg, chunk, len) over the whole content in order; stops at and
 * returns the first non-PV_OK code. */
enum pv_code spool_each(struct spool *s,
    enum pv_code (*fn)(void *arg, const void *p, size_t n, struct pv_err *err),
    void *arg, struct pv_err *err);

/* Accepts NULL. */
void spool_free(struct spool *s);

#endif /* PV_SPOOL_H */
