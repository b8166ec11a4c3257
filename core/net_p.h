/* SPDX-License-Identifier: MIT */
/*
 * core/net_p.h - the pure parts of net.c: redaction of protocol lines for
 * the trace, and the classification of a refused login by the server's
 * text.  No I/O and no libcurl, so that tests and fuzzers can drive them.
 * Production callers include only net.h.
 */
#ifndef PV_NET_P_H
#define PV_NET_P_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "net.h"

#define NET_REDACTED "<redacted>"

/* The state of one connection's trace: a SASL exchange makes every line
 * the client sends secret until the server's final answer. */
struct net_redact {
	enum net_proto proto;
	bool in_auth; /* between AUTH/AUTHENTICATE/LOGIN and its answer */
};

void net_redact_init(struct net_redact *r, enum net_proto proto);

/*
 * One protocol line (without its line end) as it may be shown: copied to
 * dst (cap >= 1, NUL-terminated, at most cap - 1 bytes, control bytes
 * replaced by '?') with secrets replaced by NET_REDACTED:
 *   POP3, client: "PASS x", "APOP user digest", "AUTH mech initial-resp",
 *     and any line sent while a SASL exchange is under way;
 *   IMAP, client: "tag LOGIN ...", "tag AUTHENTICATE mech initial-resp",
 *     and any line sent while such a command is under way.
 * Server lines ('in') are never redacted but end an exchange: "+OK"/"-ERR"
 * (POP3) or any line not starting with '+' (IMAP).  Returns the length
 * written.
 */
size_t net_redact(struct net_redact *r, bool in, const char *line, size_t n,
    char *dst, size_t cap);

/* Is this server line the answer that refuses a command ("-ERR ..." on
 * POP3; a tagged "NO"/"BAD" or an untagged "BYE" on IMAP)? */
bool net_is_refusal(enum net_proto proto, const char *line, size_t n);

/* What a refused login means, from the server's refusal line: PV_EBUSY
 * for "[IN-USE]"/"[LOGIN-DELAY]" (POP3) or "[INUSE]" (IMAP), PV_ENET for
 * "[SYS/TEMP]" (POP3) or "[UNAVAILABLE]" (IMAP), else PV_EAUTH.  The code
 * may stand anywhere in the line; case-insensitive. */
enum pv_code net_login_class(enum net_proto proto, const char *line, size_t n);

#endif /* PV_NET_P_H */
