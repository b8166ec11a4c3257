/* SPDX-License-Identifier: MIT */
/*
 * core/engine.h - the batch flow for one account (DESIGN.md §1): list,
 * fetch what the state does not know (pipelined), identify, write each new
 * content once into an archive volume, make the volume durable, record it,
 * and only then let DELE through the delete gate; QUIT last.
 * Sees only level-0/1 headers; prints nothing but log_* lines.
 */
#ifndef PV_ENGINE_H
#define PV_ENGINE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "err.h"

struct config;
struct config_account;
struct store;
struct upload_conf;
struct engine; /* opaque */

struct engine_opts {
	const struct config *cfg;     /* borrowed; outlives the engine */
	bool dry_run;                 /* list only: no RETR, no writes */
	volatile sig_atomic_t *abort; /* set by SIGINT/SIGTERM */
	long stop_after; /* test hook: _exit(100) after this many state
	                    transitions (tests/README); 0: off */
	int64_t now;     /* the run's clock, unix seconds */
	/* migrate: the IMAP target (its nc, key, folder, flags, window);
	 * NULL for a backup.  With cfg->archive NULL, the target is the only
	 * sink. */
	const struct upload_conf *target;
	bool per_account; /* one folder per account under target->folder */
	bool progress;    /* the live progress line (one account at a time) */
};

struct engine_stats {
	uint64_t seen;     /* messages on the server */
	uint64_t known;    /* already stored by an earlier run */
	uint64_t fetched;  /* retrieved in this run */
	uint64_t stored;   /* new content written to a volume */
	uint64_t dups;     /* retrieved, content already stored */
	uint64_t deleted;  /* deleted on the server (QUIT done) */
	uint64_t failed;   /* could not be copied (refused, too big, ...) */
	uint64_t uploaded; /* APPENDed to the target in this run */
	uint64_t present;  /* found in the target already */
	uint64_t bytes;    /* bytes retrieved */
	uint64_t volumes;  /* volumes written */
	uint64_t would_fetch, would_fetch_bytes, would_delete; /* dry run */
};

/* 'st' may be NULL only with dry_run (no state yet).  Free with
 * engine_free().  Engines may run in threads of their own, each with its
 * own store connection (store_open_more); the test hook's steps are
 * counted for the whole process. */
struct engine *engine_new(struct store *st, const struct engine_opts *o);

/* Settle what a run that died left behind (needs the state lock): PENDING
 * volumes whose file exists become DONE (after an fsync of the directory),
 * the others are dropped; partial volume files are removed. */
enum pv_code engine_recover(struct engine *e, struct pv_err *err);

/* Back up (or migrate, with o->target) one account into the archive
 * directory and/or the IMAP target.  'password' is borrowed (a secret).
 * *s is filled as far as the run got, also on failure.  PV_EMSG: the
 * account was done but some messages could not be copied (they stay on
 * the server).  The delete gate lets a message through only once it is
 * durable in every sink and recorded so. */
enum pv_code engine_backup(struct engine *e, const struct config_account *a,
    const char *password, struct engine_stats *s, struct pv_err *err);

/* A file-name-safe form of an account name: bytes outside
 * [A-Za-z0-9._@+-] become '_'.  free() it. */
char *engine_safe_name(const char *account);

/* Accepts NULL. */
void engine_free(struct engine *e);

#endif /* PV_ENGINE_H */
