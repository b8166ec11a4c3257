/* SPDX-License-Identifier: MIT */
/*
 * core/pop3_p.h - the pure parts of pop3.c: parsers of server bytes and the
 * streaming dot-unstuffing decoder.  No I/O, no allocation, no logging, so
 * that unit tests and fuzzers can drive them with any bytes.  Production
 * callers include only pop3.h.
 */
#ifndef PV_POP3_P_H
#define PV_POP3_P_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "pop3.h"

#define POP3_LINE_MAX 8192 /* status and listing lines, line end included */
#define POP3_UIDL_MAX 1000 /* RFC 1939 says 70; real servers go beyond */
#define POP3_TEXT_MAX 200  /* server text quoted in our own messages */
#define POP3_NUM_MAX  100000000u /* message numbers above are nonsense */

/* RFC 2449 / RFC 3206 response codes on -ERR (and +OK) lines. */
enum pop3_rcode {
	POP3_RC_NONE,        /* none, or one we do not know */
	POP3_RC_IN_USE,      /* [IN-USE]: another session holds the maildrop */
	POP3_RC_LOGIN_DELAY, /* [LOGIN-DELAY]: logged in too recently */
	POP3_RC_SYS_TEMP,    /* [SYS/TEMP]: transient server failure */
	POP3_RC_SYS_PERM,    /* [SYS/PERM]: permanent server failure */
	POP3_RC_AUTH         /* [AUTH]: the credentials are wrong */
};

struct pop3_status {
	bool ok;          /* "+OK" rather than "-ERR" */
	const char *text; /* borrowed from the line: what follows the status
	                     word and its spaces (may be empty, not
	                     NUL-terminated) */
	size_t text_len;
	enum pop3_rcode rcode;
};

/* Parse a status line (without its CR LF): "+OK text" or "-ERR text".
 * PV_EPROTO for anything else (err quotes the line, sanitized). */
enum pv_code pop3_parse_status(const char *line, size_t n,
    struct pop3_status *st, struct pv_err *err);

/* The response code that 'text' (the part after "-ERR ") starts with:
 * "[IN-USE] ..." gives POP3_RC_IN_USE.  Case-insensitive; a code with
 * more levels than we know ("[SYS/TEMP/FOO]") maps to its known parent. */
enum pop3_rcode pop3_parse_rcode(const char *text, size_t n);

/* What a -ERR carrying 'rc' means for the account: PV_EBUSY for IN-USE
 * and LOGIN-DELAY, PV_ENET for SYS/TEMP, 'dflt' otherwise. */
enum pv_code pop3_rcode_class(enum pop3_rcode rc, enum pv_code dflt);

/* Note one line of a CAPA listing (already unstuffed, without CR LF) in
 * 'caps': PIPELINING, UIDL, TOP, RESP-CODES (case-insensitive keyword,
 * arguments ignored).  Unknown capabilities are ignored. */
void pop3_parse_capa_line(const char *line, size_t n, struct pop3_caps *caps);

/* The leading message number of a listing line: 1..POP3_NUM_MAX, digits
 * only, followed by the end of the line or by spaces.  On PV_OK *num is
 * the number and *used the offset of what follows it (spaces skipped).
 * PV_EPROTO otherwise. */
enum pv_code pop3_parse_msgnum(const char *line, size_t n, size_t *num,
    size_t *used, struct pv_err *err);

/* "n uidl": the UIDL is the rest of the line after the spaces, verbatim
 * (it may hold spaces and any byte but CR, LF and NUL).  *uidl points into
 * 'line'.  PV_EPROTO for a bad number, an empty UIDL, a NUL or CR in it,
 * or one longer than POP3_UIDL_MAX. */
enum pv_code pop3_parse_uidl_line(const char *line, size_t n, size_t *num,
    const char **uidl, size_t *uidl_len, struct pv_err *err);

/* "n size [anything]": PV_EPROTO for a bad number, a missing size, a
 * size with non-digits or one that overflows uint64_t. */
enum pv_code pop3_parse_list_line(const char *line, size_t n, size_t *num,
    uint64_t *size, struct pv_err *err);

/* One line of a multi-line listing (UIDL, LIST, CAPA), without its line
 * end: true if it is the terminating ".", else strips one leading '.'
 * (RFC 1939 byte-stuffing) by adjusting *line and *n. */
bool pop3_unstuff_line(const char **line, size_t *n);

/*
 * The body of a multi-line response (RETR), decoded as it streams in,
 * without buffering lines: a 1 GB line costs no memory.  Line starts are
 * the first byte of the body and every byte after CR LF; there a '.'
 * followed by CR LF ends the body, and any other leading '.' is removed
 * (RFC 1939 section 3).  Everything else, bare CR and bare LF included,
 * is message content, and the CR LF before the terminating "." belongs to
 * the message.
 *
 *	pop3_dec_init(&d);
 *	while (off < len && !pop3_dec_done(&d)) {
 *		off += pop3_dec_feed(&d, buf + off, len - off, &out, &outn);
 *		deliver(out, outn);
 *	}
 *
 * Every call with n > 0 on a decoder that is not done either consumes at
 * least one byte or produces output, so the loop above always ends.
 */
struct pop3_dec {
	int state; /* private */
	bool done;
};

void pop3_dec_init(struct pop3_dec *d);

/* Decode a prefix of in[0..n).  Returns how many input bytes it consumed;
 * *out and *outn receive the message bytes produced (possibly none):
 * either a span of 'in' or a static string, valid until the caller's
 * buffer changes.  Once the terminator is consumed the decoder is done and the
 * bytes after it (the next response) are not consumed. */
size_t pop3_dec_feed(struct pop3_dec *d, const char *in, size_t n,
    const char **out, size_t *outn);

bool pop3_dec_done(const struct pop3_dec *d);

#endif /* PV_POP3_P_H */
