/* SPDX-License-Identifier: MIT */
/*
 * core/manifest.h - the manifest inside each archive volume: one text
 * record per message that the volume holds or refers to, enough to rebuild
 * the state db from the volumes alone.  Pure: libc only, fuzzed.
 *
 * Format (docs/ARCHIVE.md): UTF-8/ASCII text, LF line ends.
 *   popvault-manifest 1
 *   volume <name>
 *   created <unix seconds>
 *   m <kind> <account> <uidl> <sha256> <size> <date> <date_off> <date_src>
 *     <message-id> <entry> <canon> <first_seen>     (one line, TAB-separated)
 * Every field is percent-encoded: bytes outside 0x21..0x7e and '%' become
 * %XX; an empty or absent field is written "-" (and a field whose value is
 * "-" is written "%2D").  kind is "stored" (entry is a member of this
 * volume) or "ref" (the bytes were stored earlier, in another volume; entry
 * names that volume's member as "<volume>/<entry>").
 */
#ifndef PV_MANIFEST_H
#define PV_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct buf;

#define MANIFEST_NAME    "MANIFEST.popvault"
#define MANIFEST_VERSION 1

enum manifest_kind { MANIFEST_STORED, MANIFEST_REF };

struct manifest_rec {
	enum manifest_kind kind;
	char *account; /* each string owned by the record after a parse */
	char *uidl;    /* raw bytes, may contain anything but NUL */
	size_t uidl_len;
	char sha256[65];
	uint64_t size;
	int64_t date;
	int date_off;
	char *date_src;   /* "received", "date", "fetched" */
	char *message_id; /* NULL if none */
	char *entry;      /* member name (see kind) */
	char canon[65];   /* "" if none */
	int64_t first_seen;
};

/* Append the header lines for a volume to 'out'.  False if 'out' is full. */
bool manifest_format_header(struct buf *out, const char *volume,
    int64_t created);

/* Append one record line (with its LF).  False if 'out' is full. */
bool manifest_format_rec(struct buf *out, const struct manifest_rec *r);

/* Parse a whole manifest p[0..n): calls rec(arg, r) for every record (r is
 * borrowed for the call).  Fills *volume (owned, free()) and *created.
 * PV_EPROTO naming the line on anything malformed or an unknown version;
 * a callback's non-OK code stops and is returned. */
enum pv_code manifest_parse(const char *p, size_t n, char **volume,
    int64_t *created,
    enum pv_code (
        *rec)(void *arg, const struct manifest_rec *r, struct pv_err *err),
    void *arg, struct pv_err *err);

/* Free the strings in r and zero it. */
void manifest_rec_clear(struct manifest_rec *r);

/* dst: a copy of src owning its own strings (free with
 * manifest_rec_clear); a callback's record outlives the call this way. */
void manifest_rec_copy(struct manifest_rec *dst,
    const struct manifest_rec *src);

#endif /* PV_MANIFEST_H */
