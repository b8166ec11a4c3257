/* SPDX-License-Identifier: MIT */
/*
 * core/restore.h - archive volumes -> an IMAP folder, from the volumes
 * alone: their manifests say which messages there are, with their dates
 * and Message-IDs; the state db is used only for the upload records (a
 * new, empty one will do).  Two passes over the volumes: the manifests
 * (the last member of each), then the members to upload.  Each distinct
 * content is uploaded once; what the folder holds already is skipped
 * (upload.h).  Level 2: uses arc, manifest, digest, msg, spool, upload;
 * prints only log_* lines.
 */
#ifndef PV_RESTORE_H
#define PV_RESTORE_H

#include <signal.h>
#include <stdint.h>

#include "err.h"

struct store;
struct upload_conf;

struct restore_filter {
	const char *account;    /* only this account's messages; NULL: all */
	int64_t since;          /* message date >= since; 0: no bound */
	int64_t until;          /* message date < until; 0: no bound */
	const char *message_id; /* normalized (no angle brackets); NULL */
};

struct restore_stats {
	uint64_t volumes;  /* volumes read */
	uint64_t damaged;  /* volumes that could not be read to the end */
	uint64_t records;  /* manifest records seen */
	uint64_t selected; /* distinct contents the filter selected */
	uint64_t uploaded, present, failed;
	uint64_t bytes; /* uploaded */
};

/* Restore what the filter selects from the volumes in 'dir' into the
 * target.  *s is filled as far as it got.  PV_EMSG when the run went
 * through but some message could not be restored (refused by the server,
 * damaged in the archive, its volume unreadable); PV_EIO when 'dir'
 * cannot be read; connection and protocol errors as upload.h says. */
enum pv_code restore_run(struct store *st, const char *dir,
    const struct restore_filter *f, const struct upload_conf *uc,
    volatile sig_atomic_t *abort, struct restore_stats *s, struct pv_err *err);

#endif /* PV_RESTORE_H */
