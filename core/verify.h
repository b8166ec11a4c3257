/* SPDX-License-Identifier: MIT */
/*
 * core/verify.h - check an archive directory, and reconcile it with the
 * state db: every volume is read to its end, every message member is
 * re-hashed while it streams and compared with its name and with its
 * manifest record; the state's DONE rows must find their volumes and their
 * content.  Level 2: uses arc, manifest, digest and store; never prints
 * (the caller reports) and never writes anything.
 *
 * Memory: one member's data is never held whole (it is hashed in chunks);
 * what is kept is 36 bytes per good member of the whole archive (its
 * SHA-256 and its volume), one volume's member list and manifest at a
 * time, and one entry per problem found.
 */
#ifndef PV_VERIFY_H
#define PV_VERIFY_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct store;

enum verify_status {
	VERIFY_VOL_OK,      /* read to its end, everything matched */
	VERIFY_VOL_CORRUPT, /* damaged, or something in it did not match */
	VERIFY_VOL_MISSING  /* DONE in the state, no such file in the directory
	                     */
};

enum verify_kind {
	VERIFY_DAMAGED,        /* the volume cannot be read to its end */
	VERIFY_BAD_MEMBER,     /* bytes do not hash to the member's name */
	VERIFY_MISMATCH,       /* member and manifest record disagree */
	VERIFY_BAD_MANIFEST,   /* manifest missing, unparsable, misnamed */
	VERIFY_NO_MEMBER,      /* "stored" record without its member */
	VERIFY_NO_RECORD,      /* member without a record */
	VERIFY_BAD_REF,        /* "ref" record to a member that is nowhere */
	VERIFY_MISSING,        /* DONE message whose content is nowhere */
	VERIFY_MISSING_VOLUME, /* DONE volume without its file */
	VERIFY_EXTRA           /* volume the state does not know (warning) */
};

struct verify_volume {
	char *name;       /* owned by the report */
	uint64_t members; /* members read (the manifest included) */
	uint64_t bytes;   /* size of the file */
	enum verify_status status;
};

struct verify_account {
	char *account;     /* owned by the report */
	uint64_t messages; /* DONE message rows in the state */
	uint64_t found;    /* whose content a good member holds */
	uint64_t missing;  /* the others */
};

struct verify_problem {
	enum verify_kind kind;
	bool warning; /* VERIFY_EXTRA: reported, but not a failure */
	char *volume; /* owned; NULL if none */
	char *member; /* owned; member, manifest entry or account/sha256 */
	char *detail; /* owned; one line of text */
};

struct verify_report {
	struct verify_volume *vols; /* in name order; missing ones last */
	size_t nvols;
	struct verify_account *accts; /* in account order; with a state */
	size_t naccts;
	struct verify_problem *probs; /* in the order found */
	size_t nprobs;
	size_t nerrors; /* problems that are not warnings */
	bool with_state;
	void *good; /* private: the good members, for verify_holder() */
	size_t ngood;
};

/* Verify every complete volume in 'dir' (names
 * <account>-YYYYmmddTHHMMSSZ-<n>.tar[.gz|.zst|.xz]; hidden files, such as
 * the partial files of a running backup, are skipped), then, if 'st' is
 * not NULL (open, read-only is enough), reconcile its DONE rows with
 * them.  A damaged volume is a problem, not a failure: the others are
 * still checked.  On PV_OK *out holds the report (release it with
 * verify_report_free) and out->nerrors says whether anything is wrong.
 * Failures (with *out empty): PV_EIO if 'dir' cannot be listed, a store
 * error as the store returned it, PV_EABORT when *abort became non-zero
 * ('abort' may be NULL). */
enum pv_code verify_run(const char *dir, struct store *st,
    const volatile sig_atomic_t *abort, struct verify_report *out,
    struct pv_err *err);

/* verify_run, telling the caller about each volume file as soon as it
 * was read to its end and checked on its own (rebuild-state takes its
 * records from it, so that every volume is read once): 'v' is its entry
 * in the report, its status so far (its "ref" records are checked only
 * once every volume was read, which may make it corrupt later);
 * 'manifest' the manifest's bytes, or NULL when the volume has none that
 * could be read whole.  Both borrowed for the call.  A non-OK code from
 * 'cb' stops the run and is returned. */
enum pv_code verify_run_each(const char *dir, struct store *st,
    const volatile sig_atomic_t *abort,
    enum pv_code (*cb)(void *arg, const struct verify_volume *v,
        const char *manifest, size_t len, struct pv_err *err),
    void *arg, struct verify_report *out, struct pv_err *err);

/* The name of a volume holding a good copy of content 'sha256' (valid
 * as long as the report), or NULL when no good member holds it. */
const char *verify_holder(const struct verify_report *r, const char *sha256);

/* Free everything in r and zero it.  Accepts an empty report. */
void verify_report_free(struct verify_report *r);

/* A stable short name for a kind ("damaged", "missing", ...), for JSON
 * and messages. */
const char *verify_kind_name(enum verify_kind k);

/* "ok", "corrupt", "missing". */
const char *verify_status_name(enum verify_status s);

#endif /* PV_VERIFY_H */
