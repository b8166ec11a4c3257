/* SPDX-License-Identifier: MIT */
/*
 * core/pop3.h - our POP3 (RFC 1939, 2449) over a net.h connection: CAPA,
 * UIDL, LIST, RETR pipelined in a bounded window, DELE, QUIT.  The bytes of
 * a message are handed on as they arrive, dot-unstuffed, CRLF kept, without
 * the terminating ".\r\n"; a message whose terminator never came is an
 * error, never a short message.  QUIT is the only commit point: an error
 * drops the connection without it, so the server deletes nothing.
 */
#ifndef PV_POP3_H
#define PV_POP3_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct net_conf; /* net.h */
struct pop3;     /* opaque: one logged-in session */

struct pop3_item {
	size_t num;       /* message number in this session, 1-based */
	const char *uidl; /* borrowed from the session; NUL-terminated but may
	                    hold any byte but CR, LF and NUL: never use it raw
	                    in a path or in SQL text */
	size_t uidl_len;
	uint64_t size; /* octets, as LIST reports them */
};

struct pop3_caps {
	bool pipelining;
	bool uidl; /* advertised in CAPA (UIDL is tried even if not) */
	bool top;
	bool resp_codes;
	bool capa; /* the server answered CAPA at all */
};

/* Connect and log in through net_open(), then CAPA.  window is the most
 * RETR/DELE commands in flight when the server offers PIPELINING (0 picks
 * the default); without PIPELINING one at a time.  On PV_OK *out is a new
 * session that the caller ends with pop3_quit() or pop3_close(). */
enum pv_code pop3_open(const struct net_conf *conf, unsigned window,
    struct pop3 **out, struct pv_err *err);

const struct pop3_caps *pop3_caps(const struct pop3 *p);

/* UIDL + LIST (pipelined when possible).  *items (sorted by num) stays
 * owned by 'p' and is valid until the next pop3_list() or the end of the
 * session (pop3_quit() or pop3_close()).  A server without UIDL
 * gives PV_EPROTO ("server does not support UIDL").  A message in LIST but
 * missing from UIDL (or the reverse) is left out and counted in *nmissing;
 * duplicate UIDLs are kept and flagged by pop3_uidl_is_unique(). */
enum pv_code pop3_list(struct pop3 *p, const struct pop3_item **items,
    size_t *nitems, size_t *nmissing, struct pv_err *err);

/* The items of the last pop3_list() in UIDL order (pop3_uidl_cmp),
 * nitems of them; valid as long as the items. */
const struct pop3_item *const *pop3_by_uidl(const struct pop3 *p);

/* UIDL order: bytes as memcmp, a UIDL before a longer one it begins.
 * SQLite orders BLOBs the same way, so a walk of the state's rows ORDER
 * BY uidl can be merged with pop3_by_uidl(). */
int pop3_uidl_cmp(const char *a, size_t alen, const char *b, size_t blen);

/* False if another item of the last pop3_list() shares this one's UIDL:
 * such messages can be fetched but must never be deleted by UIDL logic. */
bool pop3_uidl_is_unique(const struct pop3 *p, const struct pop3_item *it);

/* Callbacks for pop3_retr(): begin(i) before the first byte of nums[i],
 * data(...) any number of times, end(i) after its terminator was seen.
 * failed(i, text) when the server answered -ERR to RETR nums[i]: that
 * message alone is skipped (text is the server's reason, sanitized).
 * A callback returning non-PV_OK (with err filled) stops pop3_retr(), which
 * then returns that code; the session is then unusable (drop it). */
struct pop3_retr_cb {
	enum pv_code (*begin)(void *arg, size_t i, struct pv_err *err);
	enum pv_code (
	    *data)(void *arg, const char *p, size_t n, struct pv_err *err);
	enum pv_code (*end)(void *arg, size_t i, struct pv_err *err);
	enum pv_code (
	    *failed)(void *arg, size_t i, const char *text, struct pv_err *err);
};

/* RETR nums[0..n) in that order, keeping up to 'window' commands in
 * flight.  Returns PV_OK when every message was either delivered (end) or
 * refused (failed).  PV_ENET/PV_EPROTO/PV_EABORT or a callback's code
 * otherwise; messages whose end() was called before the error are
 * complete and may be kept. */
enum pv_code pop3_retr(struct pop3 *p, const size_t *nums, size_t n,
    const struct pop3_retr_cb *cb, void *arg, struct pv_err *err);

/* DELE nums[0..n), pipelined.  Marks only: nothing is deleted before a
 * successful pop3_quit().  *ndeleted counts +OK answers; a -ERR to one
 * DELE is logged, not counted, and flagged in refused[i] (PV_OK still;
 * refused has n entries). */
enum pv_code pop3_dele(struct pop3 *p, const size_t *nums, size_t n,
    bool *refused, size_t *ndeleted, struct pv_err *err);

/* QUIT: the commit point (the server deletes what was marked), then free.
 * On failure the marks may or may not have taken effect; the session is
 * freed either way. */
enum pv_code pop3_quit(struct pop3 *p, struct pv_err *err);

/* Drop the connection WITHOUT QUIT (the server deletes nothing) and free.
 * Accepts NULL. */
void pop3_close(struct pop3 *p);

#endif /* PV_POP3_H */
