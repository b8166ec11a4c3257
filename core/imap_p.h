/* SPDX-License-Identifier: MIT */
/*
 * core/imap_p.h - the pure parts of imap.c: the streaming response reader
 * (literals included), parsers of server bytes (status and response codes,
 * CAPABILITY, LIST, FETCH) and the encoders of what we send (modified
 * UTF-7 folder names, quoted strings, INTERNALDATE).  No I/O, no
 * allocation, no logging, so that unit tests and fuzzers can drive them
 * with any bytes.  Production callers include only imap.h.
 */
#ifndef PV_IMAP_P_H
#define PV_IMAP_P_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "imap.h"

#define IMAP_LINE_MAX    65536 /* one line of a response, literals apart */
#define IMAP_LITERAL_MAX 65536 /* one literal inside a buffered response */
#define IMAP_RESP_MAX    (4u * 65536u) /* a whole buffered response */
#define IMAP_TEXT_MAX    200  /* server text quoted in our own messages */
#define IMAP_DATE_LEN    26   /* "dd-Mon-yyyy hh:mm:ss +zzzz" */
#define IMAP_NAME_MAX    1024 /* a folder name, encoded or decoded */

/*
 * The response reader: collects one whole server response (a line, or
 * lines joined by literals "{n}" / "{n+}") from bytes fed in arbitrary
 * chunks, into a caller-owned buffer.  A literal's bytes are copied
 * verbatim, so "A005 OK" or CR LF inside a message is never taken for a
 * line.  The finished response is buf[0..len) without its final line
 * end; each literal stays in place as "{n}\r\n" followed by its n bytes.
 *
 *	imap_rd_init(&r, buf, sizeof(buf));
 *	while (!imap_rd_done(&r)) {
 *		rc = imap_rd_feed(&r, in + off, len - off, &used, err);
 *		off += used;   (read more when off == len)
 *	}
 *	... parse r.buf[0..r.len) ...; imap_rd_reset(&r);
 */
struct imap_rd {
	char *buf;  /* borrowed, cap bytes */
	size_t cap; /* the most a response may hold */
	size_t len;
	size_t seg;        /* private: where the current line part began */
	uint64_t lit_left; /* private: literal bytes still to come */
	bool in_lit;       /* private */
	bool done;
};

void imap_rd_init(struct imap_rd *r, char *buf, size_t cap);

/* Empty it for the next response (after done, or to start over). */
void imap_rd_reset(struct imap_rd *r);

/* Consume a prefix of in[0..n): on PV_OK *used says how much (all of it
 * unless the response ended inside it; nothing once done).  PV_EPROTO for
 * a line longer than IMAP_LINE_MAX, a literal above IMAP_LITERAL_MAX, or
 * a response beyond the buffer: the stream is then out of step. */
enum pv_code imap_rd_feed(struct imap_rd *r, const char *in, size_t n,
    size_t *used, struct pv_err *err);

bool imap_rd_done(const struct imap_rd *r);

enum imap_kind {
	IMAP_CONT,     /* "+ ..." continuation request */
	IMAP_UNTAGGED, /* "* ..." */
	IMAP_TAGGED    /* "tag ..." */
};

enum imap_status {
	IMAP_ST_NONE, /* untagged data ("* 3 EXISTS", "* LIST ...") */
	IMAP_OK,
	IMAP_NO,
	IMAP_BAD,
	IMAP_BYE,
	IMAP_PREAUTH
};

/* Response codes (RFC 3501, 4315, 5530, 7889). */
enum imap_rcode {
	IMAP_RC_NONE,  /* no "[...]" */
	IMAP_RC_OTHER, /* one we do not know */
	IMAP_RC_ALERT,
	IMAP_RC_APPENDUID,
	IMAP_RC_CAPABILITY,
	IMAP_RC_TRYCREATE,
	IMAP_RC_OVERQUOTA,
	IMAP_RC_LIMIT,
	IMAP_RC_TOOBIG,
	IMAP_RC_UIDVALIDITY,
	IMAP_RC_UIDNEXT,
	IMAP_RC_ALREADYEXISTS,
	IMAP_RC_NONEXISTENT,
	IMAP_RC_UNAVAILABLE,
	IMAP_RC_SERVERBUG,
	IMAP_RC_INUSE,
	IMAP_RC_CANNOT,
	IMAP_RC_PARSE,
	IMAP_RC_READ_ONLY
};

/* One parsed response; every pointer is borrowed from the parsed bytes
 * and none is NUL-terminated. */
struct imap_resp {
	enum imap_kind kind;
	const char *tag; /* IMAP_TAGGED only */
	size_t tag_len;
	enum imap_status status;
	enum imap_rcode rcode;
	const char *code_args; /* what follows the code name inside "[]" */
	size_t code_args_len;
	uint32_t uidvalidity; /* [APPENDUID v u] and [UIDVALIDITY v] */
	uint32_t uid;         /* [APPENDUID v u] and [UIDNEXT u] */
	const char *uidset;   /* [APPENDUID v set]: the whole set */
	size_t uidset_len;
	bool has_num; /* "* n WORD ..." */
	uint32_t num;
	const char *word; /* untagged data: "EXISTS", "LIST", "FETCH"... */
	size_t word_len;
	const char *text; /* status: the text after the code; data: the
	                     rest after the word; continuation: all */
	size_t text_len;
};

/* Parse a whole response as the reader delivers it.  PV_EPROTO for a
 * line that is none of the three kinds, a tagged line without a status,
 * or a number out of range. */
enum pv_code imap_parse_resp(const char *p, size_t n, struct imap_resp *r,
    struct pv_err *err);

/* Case-insensitive: is the untagged data word 'w'? */
bool imap_resp_is(const struct imap_resp *r, const char *w);

/* Note the capabilities of a space-separated list ("IMAP4rev1 LITERAL+
 * UIDPLUS APPENDLIMIT=35651584 ...") in 'caps', which is first cleared;
 * unknown ones are ignored. */
void imap_parse_caps(const char *p, size_t n, struct imap_caps *caps);

/* The data of "* LIST (flags) delim name": IMAP_MBOX_* flags, the
 * hierarchy delimiter (0 for NIL) and the raw (still modified UTF-7)
 * name, copied unescaped into name[0..cap) NUL-terminated.  The name may
 * be a quoted string, an atom or a literal.  PV_EPROTO for anything
 * malformed, a NUL in the name or a name that does not fit. */
enum pv_code imap_parse_list(const char *p, size_t n, unsigned *flags,
    char *delim, char *name, size_t cap, size_t *name_len, struct pv_err *err);

/* UTF-8 -> modified UTF-7 (RFC 3501 section 5.1.3), NUL-terminated in
 * out[0..cap).  PV_ECONFIG for invalid UTF-8 (overlong forms, surrogates,
 * beyond U+10FFFF, cut sequences) or a result that does not fit. */
enum pv_code imap_mutf7_encode(const char *in, size_t n, char *out, size_t cap,
    size_t *outn, struct pv_err *err);

/* Modified UTF-7 -> UTF-8, NUL-terminated in out[0..cap).  PV_EPROTO for
 * 8-bit bytes, bad base64, leftover bits, unpaired surrogates, a NUL, or a
 * result that does not fit. */
enum pv_code imap_mutf7_decode(const char *in, size_t n, char *out, size_t cap,
    size_t *outn, struct pv_err *err);

/* s[0..n) as an IMAP string argument, written to out[0..cap) (not
 * NUL-terminated): a quoted string with '"' and '\' escaped, or, when s
 * holds CR, LF or 8-bit bytes, a literal "{n}\r\n" + bytes ("{n+}" when
 * literal_plus).  *literal says a literal was written: without
 * literal_plus the caller must wait for "+" after its "\r\n".  PV_ECONFIG
 * for a NUL byte; PV_EINTERNAL when out is too small. */
enum pv_code imap_quote(const char *s, size_t n, bool literal_plus, char *out,
    size_t cap, size_t *outn, bool *literal, struct pv_err *err);

/* INTERNALDATE "dd-Mon-yyyy hh:mm:ss +zzzz" for the instant t in the zone
 * tz_min minutes east of UTC (the zone is kept, not converted), into
 * out[0..IMAP_DATE_LEN] NUL-terminated.  PV_EINTERNAL for a zone beyond
 * +-23:59 or a year outside 1..9999. */
enum pv_code imap_format_date(int64_t t, int tz_min,
    char out[IMAP_DATE_LEN + 1], struct pv_err *err);

/* What "* n FETCH (UID u BODY[HEADER.FIELDS (MESSAGE-ID)] {k}...)" says:
 * the UID and the header bytes (a literal, a quoted string, or NIL).
 * Other items are skipped.  'r' is the parsed response; the pointers
 * borrow from its bytes. */
struct imap_fetch {
	uint32_t seq;
	bool has_uid;
	uint32_t uid;
	bool has_hdr;
	const char *hdr;
	size_t hdr_len;
};

enum pv_code imap_parse_fetch(const struct imap_resp *r, struct imap_fetch *f,
    struct pv_err *err);

/* What a completed APPEND means: PV_OK for OK; for NO/BAD/BYE, the code
 * and the scope the engine acts on (see imap.h). */
/* The UIDs of an APPENDUID set (RFC 4315 uid-set: "5", "5:9", "3,7:8"), in
 * order, a range low to high whichever way it is written.  Returns how
 * many there are (each stored while it fits in max), or SIZE_MAX for a
 * malformed set, a zero UID or more than max. */
size_t imap_uidset_expand(const char *p, size_t n, uint32_t *out, size_t max);

enum pv_code imap_append_class(enum imap_status st, enum imap_rcode rc,
    enum imap_scope *scope);

#endif /* PV_IMAP_P_H */
