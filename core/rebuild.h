/* SPDX-License-Identifier: MIT */
/*
 * core/rebuild.h - a lost state db made again from the archive volumes
 * alone (docs/STATE.md §11): every volume is read once and checked as
 * `popvault verify` checks it (verify_run_each: every member re-hashed
 * against its name and its manifest record); a volume that passes is
 * recorded DONE with a blob row per stored member and a message row per
 * manifest record, all DONE, so that the next backup neither fetches
 * them again nor stores them again, and deletes them by the account's
 * rule.  A damaged volume is skipped (its messages are fetched again if
 * they are still on the server) and the others are still rebuilt.
 * Level 2: uses verify, manifest, store and text; never prints (but
 * log_*), never writes anything but the store it is given.
 *
 * Memory: verify's (36 bytes per good member), one volume's records at
 * a time, 32 bytes per recorded content, and the "ref" records until
 * every volume was read (their content may be in a volume read later).
 */
#ifndef PV_REBUILD_H
#define PV_REBUILD_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "verify.h"

struct store;

struct rebuild_volume {
	char *name;       /* owned by the report */
	bool rebuilt;     /* its rows are in the state */
	uint64_t records; /* manifest records it holds (rebuilt ones) */
};

struct rebuild_account {
	char *account;     /* owned by the report */
	uint64_t messages; /* message rows written */
	uint64_t bytes;    /* their size */
};

struct rebuild_report {
	struct verify_report verify; /* reading the volumes: its problems
	                                say what is damaged, and where */
	struct rebuild_volume *vols; /* every volume file, in name order */
	size_t nvols;
	size_t nskipped;               /* volumes not rebuilt */
	struct rebuild_account *accts; /* in account order */
	size_t naccts;
	uint64_t messages;   /* message rows written */
	uint64_t blobs;      /* content rows written (stored members) */
	uint64_t dups;       /* records of an (account, UIDL) recorded from an
	                        earlier volume already: that row is kept */
	uint64_t unresolved; /* "ref" records whose content is in no rebuilt
	                        volume: not recorded (fetched again) */
};

/* Fill 'st' (a new state: store_open with STORE_NEW, nothing in it yet;
 * the caller publishes it) from every volume in 'dir'.  PV_OK when the
 * rows of every volume that could be read are written and DONE
 * (store_volumes_done_all); out->nskipped, out->unresolved and
 * out->verify.nerrors then say whether anything was damaged.  Failures
 * (*out empty): PV_EIO when 'dir' cannot be listed or holds no volume, a
 * store error as the store returned it, PV_EABORT when *abort became
 * non-zero ('abort' may be NULL).  Release *out with
 * rebuild_report_free either way. */
enum pv_code rebuild_run(const char *dir, struct store *st,
    const volatile sig_atomic_t *abort, struct rebuild_report *out,
    struct pv_err *err);

/* Free everything in r and zero it.  Accepts an empty report. */
void rebuild_report_free(struct rebuild_report *r);

#endif /* PV_REBUILD_H */
