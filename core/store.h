/* SPDX-License-Identifier: MIT */
/*
 * core/store.h - the state db (SQLite, WAL, synchronous=FULL): the ground
 * truth for "done" and for the delete gate.  The only SQLite user.
 *
 * Model (docs/STATE.md):
 *  - a volume row per archive volume: PENDING from the moment its messages
 *    are recorded until its file is durable under its final name, DONE
 *    after;
 *  - a blob row per distinct content (SHA-256 of the exact bytes) naming
 *    the volume and member holding it;
 *  - a message row per (account, UIDL) naming its content and the volume
 *    whose manifest records it; its state follows its volume's, and it is
 *    marked deleted once the server was told to delete it and said so.
 * Journal before act: rows are written (PENDING) before the volume is
 * renamed into place; store_volume_done() afterwards.  A run that dies in
 * between leaves PENDING volumes that the next run settles by looking for
 * the file (store_volumes_pending, store_volume_done/_drop).
 *
 * UIDLs are bound as blobs (any bytes), never pasted into SQL text.
 * A sha256 is 64 lowercase hex digits (else PV_EINTERNAL).  A store opened
 * STORE_READONLY answers every write with PV_EINTERNAL.  Secrets are
 * never stored.
 */
#ifndef PV_STORE_H
#define PV_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct store; /* opaque */

#define STORE_SCHEMA_VERSION 3

enum store_open_flags {
	STORE_CREATE = 1u << 0,   /* create the file (and schema) if missing */
	STORE_READONLY = 1u << 1, /* status: no lock, no writes */
	STORE_NEW = 1u << 2,      /* rebuild-state: a new file, built out of
	                             sight until store_publish() */
};

enum store_state { STORE_PENDING = 0, STORE_DONE = 1 };

/* Its four const char * fields (account, uidl, message_id, date_src) are
 * borrowed when the struct is an argument (store_msg_add).  In a result
 * of store_msg_get they point to heap copies owned by the struct (uidl
 * has a NUL after its uidl_len bytes): release them with
 * store_msg_clear(), never on a struct you filled yourself. */
struct store_msg {
	const char *account;
	const char *uidl; /* any bytes, uidl_len of them */
	size_t uidl_len;
	char sha256[65];
	uint64_t size;          /* bytes stored */
	uint64_t list_size;     /* what LIST said */
	const char *message_id; /* NULL if none */
	char canon[65];         /* canonical-content hash, "" if none */
	int64_t date;           /* the date used as the member's mtime */
	int date_off;
	const char *date_src; /* "received", "date", "fetched" */
	int64_t first_seen;   /* first retrieval, unix seconds */
	int64_t volume_id;    /* volume whose manifest records this row; 0:
	                         none (migrate without an archive) */
	enum store_state state;
	int64_t deleted_at; /* 0: still on the server as far as we know */
};

struct store_volume {
	int64_t id;
	char *name; /* owned by the array; see store_volumes_free */
	enum store_state state;
	int64_t created;
};

/* Open (creating with STORE_CREATE) the state db at 'path' and, unless
 * STORE_READONLY, take the run lock on "<path>.lock" (fcntl): a second run
 * on the same state gets PV_EBUSY naming the holder's pid.  A file that is
 * not a popvault state db, is damaged, or has a newer schema version than
 * this program knows is PV_EIO/PV_ECONFIG with a clear text, never
 * silently replaced.  Older schemas are migrated forward.
 *  - A missing file without STORE_CREATE is PV_ECONFIG "no state at
 *    FILE" (and no lock file is left).  With STORE_CREATE the directory
 *    must exist (the caller creates it); the file appears complete or not
 *    at all, mode 0600.
 *  - The lock is an open-file-description fcntl lock: a second writable
 *    open of the same state in the same process is PV_EBUSY too.  Readers
 *    (STORE_READONLY) work while a writer holds it (WAL) and see only
 *    what it committed.
 *  - Every open checks the whole file (PRAGMA quick_check, ~0.1 s per
 *    100,000 messages).
 *  - STORE_CREATE | STORE_READONLY is PV_EINTERNAL.  The path ":memory:"
 *    (with STORE_CREATE) is a private in-memory state without a lock, for
 *    tests. */
enum pv_code store_open(const char *path, unsigned flags, struct store **out,
    struct pv_err *err);

/* With STORE_NEW (alone: not with STORE_CREATE or STORE_READONLY, not
 * ":memory:"), store_open makes a new state that nobody sees until it is
 * complete: PV_ECONFIG "state FILE exists" when 'path' exists (it is not
 * touched, not even locked); else, under the run lock of 'path', the
 * schema is built in "<path>.new" and the writes go there.
 * store_publish() makes it durable and gives it its name, never
 * replacing a file that appeared meanwhile (PV_EIO then), and opens it
 * there as a normal writable store (checked as every open is).  Closing
 * the store before (or a run killed before) leaves no file at 'path'. */
enum pv_code store_publish(struct store *st, struct pv_err *err);

/* Did this store_open create the file (STORE_CREATE finding none, or
 * STORE_NEW)?  For "a new state beside an archive that has volumes". */
bool store_created(const struct store *st);

/* Another connection to the state 'main' has open (writable, locked), for
 * another thread of this process: it shares main's run lock (and must be
 * closed before main), skips the file check and migration main did, and
 * waits up to a few seconds for another connection's write transaction.
 * Keep transactions short: a writer holds the whole file. */
enum pv_code store_open_more(const struct store *main, struct store **out,
    struct pv_err *err);

/* Size the page cache for the next transaction: it will write about
 * 'rows' rows (a big cache speeds up many inserts, and only costs memory
 * elsewhere).  Call again with 0 after it. */
enum pv_code store_reserve(struct store *st, size_t rows, struct pv_err *err);

/* Release the lock and close.  Accepts NULL. */
void store_close(struct store *st);

/* Explicit transaction (BEGIN IMMEDIATE / COMMIT / ROLLBACK) around a
 * batch of the writes below; outside one, each write is its own.  They do
 * not nest: store_begin inside one, or store_commit outside one, is
 * PV_EINTERNAL.  A failed store_commit has rolled back already.
 * store_rollback outside a transaction does nothing; store_close inside
 * one rolls it back. */
enum pv_code store_begin(struct store *st, struct pv_err *err);
enum pv_code store_commit(struct store *st, struct pv_err *err);
void store_rollback(struct store *st);

/* Look up (account, uidl).  *found false when unknown (then *out is
 * untouched).  On found, *out is filled with owned strings (release with
 * store_msg_clear). */
enum pv_code store_msg_get(struct store *st, const char *account,
    const char *uidl, size_t uidl_len, struct store_msg *out, bool *found,
    struct pv_err *err);
void store_msg_clear(struct store_msg *m);

/* Record a message row as PENDING in m->volume_id, which must be a
 * PENDING volume; m->state and m->deleted_at are not used.  PV_EINTERNAL
 * if (account, uidl) exists already, or the volume is unknown or DONE.
 * m->volume_id 0 (no archive: the message went to an IMAP target only)
 * records the row DONE at once, without a volume: call it in the
 * transaction that records its upload DONE (store_upload_done). */
enum pv_code store_msg_add(struct store *st, const struct store_msg *m,
    struct pv_err *err);

/* The server was told to delete it (DELE acknowledged, QUIT done).
 * 'when' > 0; a second call keeps the first time.  PV_EINTERNAL for an
 * unknown (account, uidl). */
enum pv_code store_msg_deleted(struct store *st, const char *account,
    const char *uidl, size_t uidl_len, int64_t when, struct pv_err *err);

/* Is content 'sha256' stored already (in a PENDING or DONE volume)?
 * If so and volume/member are non-NULL, they receive owned copies of the
 * holding volume's name and the member name (free()); when not found
 * they are untouched. */
enum pv_code store_blob_get(struct store *st, const char *sha256, bool *found,
    char **volume, char **member, struct pv_err *err);

/* Record that 'sha256' (size bytes) is member 'member' of volume_id, a
 * PENDING volume.  Content is stored once: PV_EINTERNAL if 'sha256' is
 * recorded already, or the volume is unknown or DONE. */
enum pv_code store_blob_add(struct store *st, const char *sha256, uint64_t size,
    int64_t volume_id, const char *member, struct pv_err *err);

/* A new PENDING volume row; *id receives its id. */
enum pv_code store_volume_add(struct store *st, const char *name,
    int64_t created, int64_t *id, struct pv_err *err);

/* The volume file is durable under its final name: the volume and every
 * message row recorded in it become DONE, in one transaction.  Call it
 * outside an explicit transaction (PV_EINTERNAL inside one).  Every
 * message of the volume must have its content (a blob row) in this
 * volume or in a DONE one: otherwise PV_EINTERNAL and nothing changes,
 * since DONE opens the delete gate.  A DONE volume again is PV_OK. */
enum pv_code store_volume_done(struct store *st, int64_t id,
    struct pv_err *err);

/* The volume never became visible: remove it and every row (messages,
 * blobs) that named it, in one transaction, outside an explicit one
 * (PV_EINTERNAL inside).  PENDING messages of other volumes whose
 * content was in this one go too (they will be fetched again).
 * PV_EINTERNAL for a DONE volume: a durable volume is never dropped. */
enum pv_code store_volume_drop(struct store *st, int64_t id,
    struct pv_err *err);

/* For a state being rebuilt from the volumes (STORE_NEW, before
 * store_publish; PV_EINTERNAL for any other store, or inside an explicit
 * transaction): every PENDING volume and every message in one becomes
 * DONE, in one transaction.  The volumes are durable already (they were
 * read from the archive directory), and they may refer to each other in
 * any order, which store_volume_done one at a time would refuse.  Every
 * such message must have its content (a blob row) in one of the volumes:
 * otherwise PV_EINTERNAL naming its account, and nothing changes. */
enum pv_code store_volumes_done_all(struct store *st, struct pv_err *err);

/* Every PENDING volume, oldest first (for recovery at the start of a
 * run); *vols is NULL when *n is 0.  Free the array with
 * store_volumes_free() (accepts NULL). */
enum pv_code store_volumes_pending(struct store *st, struct store_volume **vols,
    size_t *n, struct pv_err *err);
void store_volumes_free(struct store_volume *vols, size_t n);

/* For `popvault verify`: one call per DONE volume row (volume set,
 * account and sha256 NULL) and one per DONE message row (volume NULL,
 * account and sha256 set), every volume before the first message.
 * Strings are borrowed for the call.  PENDING rows are not listed.  A
 * callback's non-OK code stops the walk and is returned; the callback
 * must not call store functions. */
struct store_done {
	/* Message rows without a volume (never archived) are not listed. */
	const char *volume;  /* a DONE volume's name, or NULL */
	const char *account; /* a DONE message's account, or NULL */
	const char *sha256;  /* its content */
};
enum pv_code store_done_each(struct store *st,
    enum pv_code (
        *cb)(void *arg, const struct store_done *d, struct pv_err *err),
    void *arg, struct pv_err *err);

/* Runs: one row per run, one per account in it.  store_run_account again
 * for the same run and account replaces that row. */
struct store_run_acct {
	const char *account;
	uint64_t seen;     /* messages on the server */
	uint64_t fetched;  /* retrieved in this run */
	uint64_t stored;   /* new content written to a volume */
	uint64_t dups;     /* retrieved but content already stored */
	uint64_t deleted;  /* deleted on the server */
	uint64_t failed;   /* messages that could not be copied */
	uint64_t bytes;    /* bytes retrieved */
	const char *code;  /* pv_codename() of the outcome, "ok" when done */
	const char *error; /* the one-line error, or NULL */
	int64_t started, ended;
};
enum pv_code store_run_begin(struct store *st, const char *command,
    int64_t started, int64_t *run_id, struct pv_err *err);
enum pv_code store_run_account(struct store *st, int64_t run_id,
    const struct store_run_acct *a, struct pv_err *err);
enum pv_code store_run_end(struct store *st, int64_t run_id, int64_t ended,
    const char *outcome, struct pv_err *err);

/* Per-account summary for `popvault status`: one call per account known
 * from messages or from runs (an account whose every run failed is
 * listed too), in account order.  last_ok/last_fail are the 'ended' of
 * its store_run_account rows.  Strings are borrowed for the call.  A callback's
 * non-OK code stops the walk and is returned; the callback must not call
 * store_status_each. */
struct store_status {
	const char *account; /* borrowed for the callback */
	uint64_t messages;   /* DONE message rows */
	uint64_t bytes;      /* their size */
	uint64_t pending;    /* PENDING rows */
	uint64_t deleted;    /* rows deleted on the server */
	int64_t newest;      /* newest first_seen of a DONE row, 0 if none */
	int64_t last_ok;     /* end of the last run that completed it, or 0 */
	int64_t last_fail;   /* end of the last run that failed it, or 0 */
	const char *last_error; /* that failure's text, or NULL */
	const char *last_code;  /* the outcome of its latest run ("ok", or
	                           the failure's pv_codename); NULL: no run
	                           recorded.  Latest: by end time, then by
	                           run, so that a failure after a success in
	                           the same second counts as the latest */
};
enum pv_code store_status_each(struct store *st,
    enum pv_code (
        *cb)(void *arg, const struct store_status *s, struct pv_err *err),
    void *arg, struct pv_err *err);


/*
 * IMAP targets (schema 2).  A target is one folder of one IMAP account:
 * 'key' names the account ("user@host:port"), 'folder' is UTF-8.  An
 * upload row per (target, content sha256) records what was put there:
 *  - INTENT: written (and committed) before the APPEND is sent, with the
 *    folder's UIDNEXT at that moment, so that a run that dies between
 *    APPEND and its record can look at UIDs >= uidnext and settle it;
 *  - DONE: the server said OK (uid from APPENDUID, 0 without UIDPLUS),
 *    or the content was found in the folder already (how "found").
 * The same content is uploaded once per target, whichever account or
 * volume it came from.
 */
enum store_upl_state { STORE_UPL_INTENT = 0, STORE_UPL_DONE = 1 };

struct store_upload {
	char sha256[65];
	enum store_upl_state state;
	uint32_t uidvalidity; /* of the folder when recorded; 0 unknown */
	uint32_t uid;         /* DONE: its UID, 0 if unknown */
	uint32_t uidnext;     /* INTENT: the folder's UIDNEXT before APPEND */
	int64_t internaldate; /* what was sent as INTERNALDATE */
	int date_off;
	const char *date_src; /* "received", "date", "fetched", "archive" */
	const char *how;      /* DONE: "appended" or "found"; NULL: INTENT */
	int64_t when;         /* unix seconds of the record */
};

/* The id of target (key, folder), created if new.  'uidvalidity' is the
 * folder's now: if the row knew another non-zero one, the folder was
 * recreated and every upload row of the target is deleted first (*reset
 * true), in the same transaction.  Works inside or outside an explicit
 * transaction. */
enum pv_code store_target_get(struct store *st, const char *key,
    const char *folder, uint32_t uidvalidity, int64_t *id, bool *reset,
    struct pv_err *err);

/* The upload row of 'sha256' in target 'target_id'.  *found false when
 * none (then *out untouched).  On found, out->date_src and out->how point
 * to static strings (no release needed): one of those listed above. */
enum pv_code store_upload_get(struct store *st, int64_t target_id,
    const char *sha256, bool *found, struct store_upload *out,
    struct pv_err *err);

/* Insert or replace the row as INTENT (u->state and u->how ignored).
 * PV_EINTERNAL if a DONE row exists: a done upload never goes back. */
enum pv_code store_upload_intent(struct store *st, int64_t target_id,
    const struct store_upload *u, struct pv_err *err);

/* Insert or replace the row as DONE with u's uid, uidvalidity, dates and
 * how ("appended" or "found", else PV_EINTERNAL). */
enum pv_code store_upload_done(struct store *st, int64_t target_id,
    const struct store_upload *u, struct pv_err *err);

/* Remove the INTENT row of 'sha256' (the APPEND did not happen); a DONE
 * row is never removed (PV_EINTERNAL); no row: PV_OK. */
enum pv_code store_upload_drop(struct store *st, int64_t target_id,
    const char *sha256, struct pv_err *err);

/* Every upload row of the target in the given state, oldest first (by
 * rowid); 'u' is borrowed for the call.  The callback must not call
 * store functions.  A callback's non-OK code stops and is returned. */
enum pv_code store_upload_each(struct store *st, int64_t target_id,
    enum store_upl_state state,
    enum pv_code (
        *cb)(void *arg, const struct store_upload *u, struct pv_err *err),
    void *arg, struct pv_err *err);

/* For verify --to: every target row whose key is 'key', in folder
 * order (strings borrowed for the call). */
struct store_target {
	int64_t id;
	const char *key;
	const char *folder;
	uint32_t uidvalidity;
};
enum pv_code store_target_each(struct store *st, const char *key,
    enum pv_code (
        *cb)(void *arg, const struct store_target *t, struct pv_err *err),
    void *arg, struct pv_err *err);

/* For `popvault status`: one call per target (key, folder), in that
 * order, with its upload rows counted (strings borrowed for the call). */
struct store_target_status {
	const char *key;
	const char *folder;
	uint64_t appended; /* DONE, appended by popvault */
	uint64_t found;    /* DONE, found in the folder already */
	uint64_t intents;  /* INTENT rows a killed run left (settled on the
	                      next run against that target) */
	int64_t last;      /* the newest record, unix seconds; 0 if none */
};
enum pv_code store_target_status_each(struct store *st,
    enum pv_code (*cb)(void *arg, const struct store_target_status *t,
        struct pv_err *err),
    void *arg, struct pv_err *err);

/* For plan(): what the state knows of each message of 'account', in
 * UIDL order (SQLite's for BLOBs, which pop3_uidl_cmp follows: bytes as
 * memcmp, shorter first; the index's, so no sort).  'k'
 * is borrowed for the call; the callback must not call store
 * functions. */
struct store_known {
	const char *uidl; /* any bytes, uidl_len of them */
	size_t uidl_len;
	enum store_state state;
	int64_t first_seen;
	char sha256[65];
};
enum pv_code store_msg_known_each(struct store *st, const char *account,
    enum pv_code (
        *cb)(void *arg, const struct store_known *k, struct pv_err *err),
    void *arg, struct pv_err *err);

/* For verify --messages and verify --to: every message row (any state, with or
 * without a volume) of 'account', or of every account when NULL, in
 * (account, id) order; 'm' is borrowed for the call (its strings too).
 * The callback must not call store functions. */
enum pv_code store_msg_each(struct store *st, const char *account,
    enum pv_code (
        *cb)(void *arg, const struct store_msg *m, struct pv_err *err),
    void *arg, struct pv_err *err);

#endif /* PV_STORE_H */
