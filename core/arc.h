/* SPDX-License-Identifier: MIT */
/*
 * core/arc.h - archive volumes (libarchive + zlib): standard compressed tar
 * (ustar/pax) that tar and bsdtar read.  A volume is written under a hidden
 * temporary name in the archive directory and becomes visible only through
 * arc_commit(): close, fsync the file, rename into place, fsync the
 * directory.  An existing volume is never opened for writing again.
 * The only libarchive user.
 */
#ifndef PV_ARC_H
#define PV_ARC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct arc;    /* opaque: one volume being written */
struct arc_rd; /* opaque: one volume being read */

enum arc_filter { ARC_GZIP, ARC_ZSTD, ARC_XZ, ARC_NONE };

/* The file-name suffix for a filter: ".tar.gz", ".tar.zst", ".tar.xz",
 * ".tar". */
const char *arc_suffix(enum arc_filter f);

/* Start a new volume that will be named dir/name once committed ('name'
 * includes the suffix).  PV_EIO if dir/name exists already (volumes are
 * immutable) or the temporary file cannot be created.  level: compression
 * level, or -1 for the filter's default. */
enum pv_code arc_open(const char *dir, const char *name, enum arc_filter f,
    int level, struct arc **out, struct pv_err *err);

/* Add a regular-file member of exactly 'size' bytes with the given mtime:
 * arc_entry_begin, then arc_entry_data until 'size' bytes were given, then
 * arc_entry_end (PV_EINTERNAL if the byte count differs). */
enum pv_code arc_entry_begin(struct arc *a, const char *member, int64_t mtime,
    uint64_t size, struct pv_err *err);
enum pv_code arc_entry_data(struct arc *a, const void *p, size_t n,
    struct pv_err *err);
enum pv_code arc_entry_end(struct arc *a, struct pv_err *err);

/* Bytes written to the (compressed) file so far. */
uint64_t arc_bytes_written(const struct arc *a);

/* Make it durable and visible (see above).  On failure the temporary file
 * is removed and nothing is visible.  Frees 'a' either way. */
enum pv_code arc_commit(struct arc *a, struct pv_err *err);

/* Abandon: remove the temporary file, free.  Accepts NULL. */
void arc_abort(struct arc *a);

/* Remove temporary files left in 'dir' by a run that died (only ours, by
 * their name pattern).  Call only while holding the state lock.
 * *nremoved counts them. */
enum pv_code arc_cleanup(const char *dir, size_t *nremoved, struct pv_err *err);

/* Reading (restore, verify, rebuilding the state, tests). */
enum pv_code arc_rd_open(const char *path, struct arc_rd **out,
    struct pv_err *err);
/* Next member: *member (borrowed until the next call), *size, *mtime.
 * *eof set at the end (outputs untouched then).  PV_EIO on a damaged
 * volume (truncated, bad checksum), naming the volume. */
enum pv_code arc_rd_next(struct arc_rd *r, const char **member, uint64_t *size,
    int64_t *mtime, _Bool *eof, struct pv_err *err);
/* Read up to cap bytes of the current member; *got 0 at its end. */
enum pv_code arc_rd_data(struct arc_rd *r, void *p, size_t cap, size_t *got,
    struct pv_err *err);
/* Accepts NULL. */
void arc_rd_close(struct arc_rd *r);

/* Is 's' the name of a complete volume:
 * <account-safe>-YYYYmmddTHHMMSSZ-<n>.tar[.gz|.zst|.xz] (docs/ARCHIVE.md
 * §1)?  A hidden name (a partial volume) never is. */
bool arc_is_volume_name(const char *s);

/* The complete volumes (regular files) in 'dir', sorted by name: *names
 * is an array of *n owned strings (free each, then the array; NULL when
 * *n is 0).  PV_EIO if 'dir' cannot be listed. */
enum pv_code arc_list(const char *dir, char ***names, size_t *n,
    struct pv_err *err);

#endif /* PV_ARC_H */
