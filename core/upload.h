/* SPDX-License-Identifier: MIT */
/*
 * core/upload.h - the IMAP sink: one folder of one IMAP account, fed with
 * messages by the engine (migrate) or by restore.  It decides what is in
 * the folder already (the state's records, then the folder's Message-IDs,
 * then the content itself where a Message-ID is missing or shared by
 * different messages), records an INTENT before each APPEND and DONE
 * after the server's OK, and on opening settles the INTENTs a killed run
 * left (docs/STATE.md §targets).  Uses imap, store, msg, digest, spool;
 * prints only log_* lines.
 */
#ifndef PV_UPLOAD_H
#define PV_UPLOAD_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "err.h"

struct net_conf;
struct spool;
struct store;
struct upload; /* opaque */

struct upload_conf {
	const struct net_conf *nc; /* proto NET_IMAP; borrowed */
	const char *key;           /* the account: "user@host:port" */
	const char *folder;        /* UTF-8 */
	const char *subfolder;     /* NULL, or (one folder per account) use
	                              folder<delim>subfolder, its delimiter
	                              characters replaced by '_' */
	const char *flags;         /* APPEND flags; NULL or "": none */
	unsigned window;           /* APPENDs in flight; 0: the default */
	uint64_t mem_max;          /* spool: bytes in memory per message */
	const char *tmpdir;        /* spool: where bigger ones go */
	/* Test hook: called after each state change (may _exit). */
	void (*step)(void *arg, const char *what);
	void *step_arg;
};

/* One message offered to the sink. */
struct upload_item {
	char sha256[65];        /* of the exact bytes */
	char canon[65];         /* canonical-content hash; "" if unknown */
	const char *message_id; /* normalized; NULL if none */
	uint64_t size;
	int64_t date; /* INTERNALDATE */
	int date_off;
	const char *date_src; /* "received", "date", "fetched", "archive" */
	void *tag;            /* the caller's, handed back to done() */
};

enum upload_outcome {
	UPLOAD_APPENDED, /* APPEND answered OK in this run */
	UPLOAD_PRESENT,  /* in the folder already */
	UPLOAD_FAILED    /* refused for this message only; the rest go on */
};

struct upload_res {
	enum upload_outcome outcome;
	uint32_t uid;     /* 0 if unknown */
	const char *text; /* FAILED: why (sanitized server text) */
	/* FAILED because the whole target refused (over quota, a BAD): the
	 * run's error says it once; callers need not name each message. */
	bool target_wide;
};

/* done() is called once per offered item, from upload_flush(): for
 * APPENDED and PRESENT inside the state transaction that records the
 * upload DONE (the caller may add its own rows there: a failure rolls
 * everything back), for FAILED after it.  'it' is a copy valid for the
 * call. */
typedef enum pv_code (*upload_done_fn)(void *arg, const struct upload_item *it,
    const struct upload_res *res, struct pv_err *err);

struct upload_stats {
	uint64_t appended, present, failed;
	uint64_t bytes;   /* appended */
	uint64_t settled; /* INTENTs of a killed run found in the folder */
};

/* Connect, log in, create the folder if missing, EXAMINE it, settle
 * earlier INTENTs, learn the Message-IDs it holds. */
enum pv_code upload_open(struct store *st, const struct upload_conf *c,
    upload_done_fn done, void *arg, volatile sig_atomic_t *abort,
    struct upload **out, struct pv_err *err);

/* Does the state record 'sha256' as DONE in this folder?  As the state
 * was when first asked (the rows are read once, for planning a run):
 * ask before the first upload_flush. */
enum pv_code upload_known(struct upload *u, const char *sha256, bool *done,
    struct pv_err *err);

/* Neither upload_present nor upload_add writes to the state: only
 * upload_flush does, in transactions of its own, so the caller must call
 * it outside any transaction of its own.  True when the caller should
 * flush now: the batch is full, or (sha256 not NULL) the same content
 * is waiting in it (upload_present would refuse it, PV_EINTERNAL). */
bool upload_wants_flush(const struct upload *u, const char *sha256);

/* Is the content in the folder already?  If so (*present true) it is
 * queued as PRESENT: recorded and reported at the next flush. */
enum pv_code upload_present(struct upload *u, const struct upload_item *it,
    bool *present, struct pv_err *err);

/* Queue it for APPEND, copying its bytes (it->size of them) from
 * 'body'.  Never flushes: see upload_wants_flush. */
enum pv_code upload_add(struct upload *u, const struct upload_item *it,
    struct spool *body, struct pv_err *err);

/* Record intents, APPEND what is queued, record the outcomes, call
 * done() for each.  An answer that concerns the folder or the account
 * (over quota, folder gone, BAD) is returned as an error after the
 * outcomes so far are recorded; the sink is unusable then. */
enum pv_code upload_flush(struct upload *u, struct pv_err *err);

const struct upload_stats *upload_stats(const struct upload *u);

/* LOGOUT and free (what is queued and not flushed is dropped: call
 * upload_flush first).  Accepts NULL (PV_OK). */
enum pv_code upload_close(struct upload *u, struct pv_err *err);

/* Drop the connection and free, without flushing.  Accepts NULL. */
void upload_abort(struct upload *u);

/* verify --to: the state's DONE uploads into (key, folder), checked
 * against what the folder holds (by UID where the folder's UIDVALIDITY
 * is the recorded one, else by Message-ID).  each() is called for every
 * one with its sha256, its Message-ID (NULL if unknown), whether it is
 * there and its UID there (0 if unknown). */
struct upload_check {
	uint64_t expected, present, missing;
	uint32_t in_folder; /* messages in the folder */
};
enum pv_code upload_verify(struct store *st, const struct upload_conf *c,
    void (*each)(void *arg, const char *sha256, const char *message_id,
        bool present, uint32_t uid),
    void *arg, struct upload_check *out, struct pv_err *err);

#endif /* PV_UPLOAD_H */
