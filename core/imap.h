/* SPDX-License-Identifier: MIT */
/*
 * core/imap.h - our IMAP (RFC 3501, 7888 LITERAL+/-, 4315 UIDPLUS, 7889
 * APPENDLIMIT) over a net.h connection, for uploading: CAPABILITY,
 * LIST/CREATE with modified UTF-7 names, SELECT/EXAMINE, APPEND with flags
 * and INTERNALDATE (pipelined with LITERAL+, synchronizing otherwise),
 * UID FETCH of Message-ID headers, LOGOUT.  Folder names are UTF-8 at
 * this interface.  Our tags are "pv1", "pv2", ..., never libcurl's "A001".
 */
#ifndef PV_IMAP_H
#define PV_IMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct net_conf; /* net.h */
struct imap;     /* opaque: one logged-in session */

struct imap_caps {
	bool imap4rev1;
	bool literal_plus;  /* LITERAL+: any literal may be non-synchronizing */
	bool literal_minus; /* LITERAL-: up to 4096 bytes only */
	bool uidplus;       /* APPENDUID in APPEND's OK */
	bool multiappend;
	bool starttls;
	bool has_appendlimit; /* APPENDLIMIT=n (a bare APPENDLIMIT is per
	                         folder: has_appendlimit stays false) */
	uint64_t appendlimit;
};

/* LIST flags (RFC 3501, 5258). */
#define IMAP_MBOX_NOSELECT      (1u << 0)
#define IMAP_MBOX_NOINFERIORS   (1u << 1)
#define IMAP_MBOX_HASCHILDREN   (1u << 2)
#define IMAP_MBOX_HASNOCHILDREN (1u << 3)
#define IMAP_MBOX_NONEXISTENT   (1u << 4)
#define IMAP_MBOX_MARKED        (1u << 5)
#define IMAP_MBOX_UNMARKED      (1u << 6)

/* Who a failure concerns, so that the engine knows what to skip:
 * MSG: this message only (too big, refused content): record it, go on;
 * FOLDER: the folder (missing: [TRYCREATE], [NONEXISTENT]): create it or
 *   give up on that folder, the session stays usable;
 * ACCOUNT: the whole target (over quota, server unavailable, BYE, BAD):
 *   stop uploading to it. */
enum imap_scope {
	IMAP_SCOPE_NONE, /* success */
	IMAP_SCOPE_MSG,
	IMAP_SCOPE_FOLDER,
	IMAP_SCOPE_ACCOUNT
};

/* Connect and log in through net_open() (conf->proto must be NET_IMAP),
 * then CAPABILITY.  window: the most APPENDs in flight with LITERAL+ (0:
 * the default); window_bytes: the most message bytes in flight (0: the
 * default).  On PV_OK *out is a session the caller ends with
 * imap_logout() or imap_close(). */
enum pv_code imap_open(const struct net_conf *conf, unsigned window,
    size_t window_bytes, struct imap **out, struct pv_err *err);

/* The capabilities after login; valid until the session ends. */
const struct imap_caps *imap_caps(const struct imap *s);

/* One mailbox of a LIST: valid during the callback only. */
struct imap_mailbox {
	const char *name; /* UTF-8, NUL-terminated */
	char delim;       /* hierarchy delimiter, 0 if none */
	unsigned flags;   /* IMAP_MBOX_* */
};

/* LIST "" pattern (pattern in UTF-8, with % and * wildcards), calling
 * cb for each mailbox.  A callback's non-PV_OK code stops the listing
 * after its end and is returned.  A name the server sends in invalid
 * modified UTF-7 is skipped with a warning. */
enum pv_code imap_list(struct imap *s, const char *pattern,
    enum pv_code (
        *cb)(void *arg, const struct imap_mailbox *mb, struct pv_err *err),
    void *arg, struct pv_err *err);

/* Make sure the folder exists: LIST it, and CREATE it if missing (a
 * CREATE answered NO [ALREADYEXISTS] counts as existing: another client
 * won the race).  *created (on PV_OK) says whether we created it. */
enum pv_code imap_create(struct imap *s, const char *folder, bool *created,
    struct pv_err *err);

struct imap_mbox_info {
	uint32_t uidvalidity;
	uint32_t uidnext; /* 0 if the server did not say */
	uint32_t exists;
};

/* SELECT (read-write) or EXAMINE (read-only) the folder (UTF-8 name),
 * filling *info on PV_OK.  A refusal (NO: missing folder, no rights) is
 * PV_EPROTO naming the folder and the server's text; the session stays
 * usable.  PV_ENET/PV_EPROTO/PV_EABORT on a broken stream. */
enum pv_code imap_select(struct imap *s, const char *folder,
    struct imap_mbox_info *info, struct pv_err *err);
enum pv_code imap_examine(struct imap *s, const char *folder,
    struct imap_mbox_info *info, struct pv_err *err);

/* One message to append.  Its bytes come from the body callback. */
struct imap_append_msg {
	uint64_t size;     /* exact octets the body callback will put */
	int64_t date;      /* INTERNALDATE, unix time */
	int tz_min;        /* its zone, minutes east of UTC */
	bool has_date;     /* false: the server's time of arrival */
	const char *flags; /* e.g. "\\Seen", space-separated; NULL: none */
};

/* The outcome of one APPEND. */
struct imap_append_res {
	enum pv_code code;     /* PV_OK, or PV_EMSG/PV_EPROTO/PV_ENET/PV_EIO */
	enum imap_scope scope; /* IMAP_SCOPE_NONE on PV_OK */
	bool has_uid;          /* APPENDUID given (UIDPLUS) */
	uint32_t uidvalidity;
	uint32_t uid;
	const char *text; /* the server's text, sanitized, NUL-terminated;
	                     valid during the callback only */
};

/* The function a body callback hands its bytes to (spool_each's shape:
 * spool_each(spool, put, w, err) works as is). */
typedef enum pv_code (
    *imap_put_fn)(void *w, const void *p, size_t n, struct pv_err *err);

struct imap_append_cb {
	/* Put exactly msgs[i].size bytes through put(w, ...). */
	enum pv_code (*body)(void *arg, size_t i, imap_put_fn put, void *w,
	    struct pv_err *err);
	/* Called once per message, in order, with its outcome. */
	enum pv_code (*result)(void *arg, size_t i,
	    const struct imap_append_res *res, struct pv_err *err);
};

/* APPEND msgs[0..n) to the folder (UTF-8 name).  Each message gets one
 * result() call, in order, with a code and a scope (see enum imap_scope):
 * PV_OK with the APPENDUID when the server has UIDPLUS; PV_EMSG/MSG for
 * [TOOBIG], [LIMIT], [PARSE], [CANNOT] or a NO without a code;
 * PV_EPROTO/FOLDER for [TRYCREATE], [NONEXISTENT], [READ-ONLY];
 * PV_EIO/ACCOUNT for [OVERQUOTA]; PV_ENET/ACCOUNT for [UNAVAILABLE],
 * [SERVERBUG], [INUSE]; PV_EPROTO/ACCOUNT for BAD.  The session goes on
 * after a refused message whatever its scope: a result() returning
 * non-PV_OK is how the caller stops early (the session is then unusable).  With
 * LITERAL+ (or LITERAL- for messages up to 4096 bytes) up to the window's count
 * and bytes are in flight; otherwise each literal waits for the server's
 * "+".  A message above APPENDLIMIT is not sent: its result is PV_EMSG
 * at once.  Returns PV_OK when every message got a result (each may have
 * failed on its own).  Otherwise the session is unusable (drop it):
 * PV_ENET/PV_EPROTO/PV_EABORT, a callback's code, or PV_EINTERNAL when a
 * body callback put a different number of bytes than announced. */
enum pv_code imap_append(struct imap *s, const char *folder,
    const struct imap_append_msg *msgs, size_t n,
    const struct imap_append_cb *cb, void *arg, struct pv_err *err);

/* On the selected folder: UID FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS
 * (MESSAGE-ID)]), calling cb with each message's UID and header bytes
 * (as the server sent them, possibly empty; valid during the call).
 * A callback's non-PV_OK code is returned after the command ends. */
enum pv_code imap_fetch_message_ids(struct imap *s,
    enum pv_code (*cb)(void *arg, uint32_t uid, const char *hdr, size_t n,
        struct pv_err *err),
    void *arg, struct pv_err *err);

/* Streaming receipt of whole messages (imap_fetch_bodies). */
struct imap_body_cb {
	/* A message of 'size' bytes begins (sequence number 'seq'). */
	enum pv_code (
	    *begin)(void *arg, uint32_t seq, uint64_t size, struct pv_err *err);
	/* Its next bytes, in order, exactly as the server sent them. */
	enum pv_code (
	    *data)(void *arg, const char *p, size_t n, struct pv_err *err);
	/* It is complete; 'uid' is its UID. */
	enum pv_code (*end)(void *arg, uint32_t uid, struct pv_err *err);
};

/* On the selected folder: UID FETCH uidset (UID BODY.PEEK[]), handing
 * each message's bytes to cb as they arrive (bounded memory however big
 * the message).  uidset is an IMAP sequence set of UIDs ("5:*",
 * "3,9,12").  A callback's non-PV_OK code stops at once and leaves the
 * session unusable.  PV_EPROTO for a FETCH whose body comes without a
 * UID, or a refusal (the session stays usable then). */
enum pv_code imap_fetch_bodies(struct imap *s, const char *uidset,
    const struct imap_body_cb *cb, void *arg, struct pv_err *err);

/* LOGOUT, then free.  The session is freed either way. */
enum pv_code imap_logout(struct imap *s, struct pv_err *err);

/* Drop the connection without LOGOUT and free.  Accepts NULL. */
void imap_close(struct imap *s);

#endif /* PV_IMAP_H */
