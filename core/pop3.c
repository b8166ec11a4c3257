/* SPDX-License-Identifier: MIT */
/*
 * core/pop3.c - our POP3 (RFC 1939, 2449, 3206) over a net.h connection:
 * CAPA, UIDL + LIST, RETR and DELE pipelined in a bounded window, QUIT.
 * The parsers of server bytes (pop3_p.h) are pure and fuzzed; the session
 * code below only moves bytes between them and net.c.  Never sends QUIT
 * on its own: QUIT is the commit point of deletions, the caller's call.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "log.h"
#include "net.h"
#include "pop3.h"
#include "pop3_p.h"
#include "text.h"
#include "xmem.h"

#define POP3_RBUF       65536     /* read buffer; >= POP3_LINE_MAX */
#define POP3_WINDOW_DEF 64        /* commands in flight by default */
#define POP3_WINDOW_MAX 1024      /* and at most */
#define POP3_CMD_MAX    32        /* "RETR 100000000\r\n" fits */
#define POP3_MSGS_MAX   10000000u /* listing entries */
#define POP3_ARENA_MAX  (512u * 1024u * 1024u) /* all UIDLs together */
#define POP3_CAPA_LINES 1000

/* ---- pure parsers (pop3_p.h) ------------------------------------------- */

static bool
is_space(char ch)
{
	return ch == ' ' || ch == '\t';
}

enum pop3_rcode
pop3_parse_rcode(const char *text, size_t n)
{
	static const struct {
		const char *name;
		enum pop3_rcode rc;
	} codes[] = {
	    {"IN-USE", POP3_RC_IN_USE},
	    {"LOGIN-DELAY", POP3_RC_LOGIN_DELAY},
	    {"SYS/TEMP", POP3_RC_SYS_TEMP},
	    {"SYS/PERM", POP3_RC_SYS_PERM},
	    {"AUTH", POP3_RC_AUTH},
	};
	const char *close;
	size_t len, i;

	if (n < 2 || text[0] != '[')
		return POP3_RC_NONE;
	close = memchr(text, ']', n);
	if (close == NULL)
		return POP3_RC_NONE;
	len = (size_t)(close - text) - 1;
	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		size_t cl = strlen(codes[i].name);

		/* RFC 2449 codes are hierarchical: "SYS/TEMP/QUOTA" is a
		 * kind of "SYS/TEMP". */
		if (len >= cl &&
		    strncasecmp(text + 1, codes[i].name, cl) == 0 &&
		    (len == cl || text[1 + cl] == '/'))
			return codes[i].rc;
	}
	return POP3_RC_NONE;
}

enum pv_code
pop3_rcode_class(enum pop3_rcode rc, enum pv_code dflt)
{
	switch (rc) {
	case POP3_RC_IN_USE:
	case POP3_RC_LOGIN_DELAY:
		return PV_EBUSY;
	case POP3_RC_SYS_TEMP:
		return PV_ENET;
	case POP3_RC_NONE:
	case POP3_RC_SYS_PERM:
	case POP3_RC_AUTH:
		return dflt;
	}
	return dflt;
}

enum pv_code
pop3_parse_status(const char *line, size_t n, struct pop3_status *st,
    struct pv_err *err)
{
	char shown[POP3_TEXT_MAX];
	size_t skip;
	bool ok;

	if (n >= 3 && strncasecmp(line, "+OK", 3) == 0) {
		ok = true;
		skip = 3;
	} else if (n >= 4 && strncasecmp(line, "-ERR", 4) == 0) {
		ok = false;
		skip = 4;
	} else {
		(void)text_sanitize(line, n, shown, sizeof(shown));
		return pv_errf(err, PV_EPROTO, "unexpected reply \"%s\"",
		    shown);
	}
	while (skip < n && is_space(line[skip]))
		skip++;
	st->ok = ok;
	st->text = line + skip;
	st->text_len = n - skip;
	st->rcode = pop3_parse_rcode(st->text, st->text_len);
	return PV_OK;
}

void
pop3_parse_capa_line(const char *line, size_t n, struct pop3_caps *caps)
{
	size_t len = 0;

	while (len < n && !is_space(line[len]))
		len++;
#define CAPA_IS(w) (len == strlen(w) && strncasecmp(line, (w), len) == 0)
	if (CAPA_IS("PIPELINING"))
		caps->pipelining = true;
	else if (CAPA_IS("UIDL"))
		caps->uidl = true;
	else if (CAPA_IS("TOP"))
		caps->top = true;
	else if (CAPA_IS("RESP-CODES"))
		caps->resp_codes = true;
#undef CAPA_IS
}

enum pv_code
pop3_parse_msgnum(const char *line, size_t n, size_t *num, size_t *used,
    struct pv_err *err)
{
	size_t i = 0, v = 0;

	while (i < n && line[i] >= '0' && line[i] <= '9') {
		size_t d = (size_t)(line[i] - '0');

		if (v > (POP3_NUM_MAX - d) / 10)
			return pv_errf(err, PV_EPROTO,
			    "message number too large");
		v = v * 10 + d;
		i++;
	}
	if (i == 0)
		return pv_errf(err, PV_EPROTO, "message number expected");
	if (i < n && !is_space(line[i]))
		return pv_errf(err, PV_EPROTO, "bad message number");
	if (v == 0)
		return pv_errf(err, PV_EPROTO, "message number 0");
	while (i < n && is_space(line[i]))
		i++;
	*num = v;
	*used = i;
	return PV_OK;
}

enum pv_code
pop3_parse_uidl_line(const char *line, size_t n, size_t *num, const char **uidl,
    size_t *uidl_len, struct pv_err *err)
{
	size_t v, used, len;
	enum pv_code rc;

	rc = pop3_parse_msgnum(line, n, &v, &used, err);
	if (rc != PV_OK)
		return rc;
	len = n - used;
	if (len == 0)
		return pv_errf(err, PV_EPROTO, "message %zu: no UIDL", v);
	if (len > POP3_UIDL_MAX)
		return pv_errf(err, PV_EPROTO,
		    "message %zu: UIDL longer than %d bytes", v, POP3_UIDL_MAX);
	if (memchr(line + used, '\0', len) != NULL ||
	    memchr(line + used, '\r', len) != NULL ||
	    memchr(line + used, '\n', len) != NULL)
		return pv_errf(err, PV_EPROTO,
		    "message %zu: UIDL holds a NUL, CR or LF byte", v);
	*num = v;
	*uidl = line + used;
	*uidl_len = len;
	return PV_OK;
}

enum pv_code
pop3_parse_list_line(const char *line, size_t n, size_t *num, uint64_t *size,
    struct pv_err *err)
{
	size_t v, i;
	uint64_t s = 0;
	enum pv_code rc;

	rc = pop3_parse_msgnum(line, n, &v, &i, err);
	if (rc != PV_OK)
		return rc;
	if (i == n || line[i] < '0' || line[i] > '9')
		return pv_errf(err, PV_EPROTO, "message %zu: size expected", v);
	while (i < n && line[i] >= '0' && line[i] <= '9') {
		uint64_t d = (uint64_t)(line[i] - '0');

		if (s > (UINT64_MAX - d) / 10)
			return pv_errf(err, PV_EPROTO,
			    "message %zu: size too large", v);
		s = s * 10 + d;
		i++;
	}
	/* RFC 1939 allows more after the size, separated by a space. */
	if (i < n && !is_space(line[i]))
		return pv_errf(err, PV_EPROTO, "message %zu: bad size", v);
	*num = v;
	*size = s;
	return PV_OK;
}

bool
pop3_unstuff_line(const char **line, size_t *n)
{
	if (*n == 0 || (*line)[0] != '.')
		return false;
	if (*n == 1)
		return true;
	(*line)++;
	(*n)--;
	return false;
}

enum {
	DEC_BOL,  /* at the start of a line */
	DEC_MID,  /* inside a line */
	DEC_CR,   /* just after a CR inside a line */
	DEC_DOT,  /* after a '.' at the start of a line (held back) */
	DEC_DOTCR /* after ".\r" at the start of a line (both held back) */
};

void
pop3_dec_init(struct pop3_dec *d)
{
	d->state = DEC_BOL;
	d->done = false;
}

bool
pop3_dec_done(const struct pop3_dec *d)
{
	return d->done;
}

size_t
pop3_dec_feed(struct pop3_dec *d, const char *in, size_t n, const char **out,
    size_t *outn)
{
	size_t i = 0, start = 0;

	*out = in;
	*outn = 0;
	if (d->done)
		return 0;
	while (i < n) {
		const char *cr;

		switch (d->state) {
		case DEC_BOL:
			if (in[i] != '.') {
				d->state = DEC_MID;
				break;
			}
			if (i > start) {
				/* Hand over the bytes before the dot first;
				 * the dot itself is consumed, never output. */
				*out = in + start;
				*outn = i - start;
				d->state = DEC_DOT;
				return i + 1;
			}
			i++;
			start = i;
			d->state = DEC_DOT;
			break;
		case DEC_DOT:
			/* start == i: the dot is not part of the span. */
			if (in[i] == '\r') {
				i++;
				start = i;
				d->state = DEC_DOTCR;
			} else {
				d->state = DEC_MID; /* ".x" -> "x" */
			}
			break;
		case DEC_DOTCR:
			if (in[i] == '\n') {
				d->done = true;
				return i + 1;
			}
			/* ".\rx": the dot goes, the CR was content. */
			*out = "\r";
			*outn = 1;
			d->state = DEC_MID;
			return i;
		case DEC_MID:
			cr = memchr(in + i, '\r', n - i);
			if (cr == NULL) {
				i = n;
			} else {
				i = (size_t)(cr - in) + 1;
				d->state = DEC_CR;
			}
			break;
		case DEC_CR:
			if (in[i] == '\n')
				d->state = DEC_BOL;
			else if (in[i] != '\r')
				d->state = DEC_MID;
			i++;
			break;
		default:
			d->state = DEC_MID;
			break;
		}
	}
	*out = in + start;
	*outn = i - start;
	return i;
}

/* ---- the session -------------------------------------------------------- */

struct uidl_ent {
	size_t num;
	size_t off; /* into the arena */
	size_t len;
};

struct list_ent {
	size_t num;
	uint64_t size;
};

struct pop3 {
	struct net *net; /* owned */
	struct pop3_caps caps;
	unsigned window; /* commands in flight */
	bool broken;     /* a reply was cut short or not understood */
	char *rbuf;      /* owned, POP3_RBUF bytes */
	size_t rpos, rlen;
	char *cmds;              /* owned: window * POP3_CMD_MAX */
	struct pop3_item *items; /* owned; the last pop3_list() */
	size_t nitems;
	bool *dup;                        /* owned, parallel to items */
	const struct pop3_item **by_uidl; /* owned: items in UIDL order */
	struct buf arena; /* the UIDLs of the last listing, NUL-ended */
};

/* Name the command right after the peer: "host:port: RETR 2: reason",
 * whether or not the reason (from net.c) already starts with the peer. */
static enum pv_code
context(struct pop3 *p, const char *what, struct pv_err *err)
{
	return net_errcontext(p->net, what, err);
}

static enum pv_code
unusable(struct pop3 *p, struct pv_err *err)
{
	return pv_errf(err, PV_EPROTO,
	    "%s: session unusable after an earlier error", net_peer(p->net));
}

/* Read more bytes into the buffer, moving what is unread to its start. */
static enum pv_code
fill(struct pop3 *p, struct pv_err *err)
{
	size_t got = 0;
	enum pv_code rc;

	if (p->rpos > 0) {
		memmove(p->rbuf, p->rbuf + p->rpos, p->rlen - p->rpos);
		p->rlen -= p->rpos;
		p->rpos = 0;
	}
	rc =
	    net_recv(p->net, p->rbuf + p->rlen, POP3_RBUF - p->rlen, &got, err);
	if (rc != PV_OK)
		return rc;
	p->rlen += got;
	return PV_OK;
}

/* The next line, without its LF (and CR); valid until the next read. */
static enum pv_code
read_line(struct pop3 *p, const char **line, size_t *n, struct pv_err *err)
{
	size_t scanned = 0;

	for (;;) {
		const char *start = p->rbuf + p->rpos;
		size_t avail = p->rlen - p->rpos;
		const char *nl = memchr(start + scanned, '\n', avail - scanned);
		enum pv_code rc;

		if (nl != NULL) {
			*line = start;
			*n = (size_t)(nl - start);
			if (*n > 0 && start[*n - 1] == '\r')
				(*n)--;
			p->rpos += (size_t)(nl - start) + 1;
			return PV_OK;
		}
		scanned = avail;
		if (avail >= POP3_LINE_MAX)
			return pv_errf(err, PV_EPROTO,
			    "line too long (over %d bytes)", POP3_LINE_MAX);
		rc = fill(p, err);
		if (rc != PV_OK)
			return rc;
	}
}

static enum pv_code
send_text(struct pop3 *p, const char *cmds, size_t n, struct pv_err *err)
{
	size_t off = 0;

	/* Trace each command line of a pipelined batch. */
	while (off < n) {
		const char *nl = memchr(cmds + off, '\n', n - off);
		size_t end = nl != NULL ? (size_t)(nl - cmds) : n;
		size_t len = end - off;

		if (len > 0 && cmds[off + len - 1] == '\r')
			len--;
		net_trace(p->net, false, cmds + off, len);
		off = end + 1;
	}
	return net_send(p->net, cmds, n, err);
}

/* A status line: "what" names the command for error texts. */
static enum pv_code
read_status(struct pop3 *p, const char *what, struct pop3_status *st,
    struct pv_err *err)
{
	const char *line = NULL;
	size_t n = 0;
	enum pv_code rc;

	rc = read_line(p, &line, &n, err);
	if (rc != PV_OK)
		return context(p, what, err);
	net_trace(p->net, true, line, n);
	rc = pop3_parse_status(line, n, st, err);
	if (rc != PV_OK)
		return context(p, what, err);
	return PV_OK;
}

/* The lines of a multi-line listing, one at a time; *end at the ".". */
static enum pv_code
read_listing_line(struct pop3 *p, const char *what, const char **line,
    size_t *n, bool *end, struct pv_err *err)
{
	enum pv_code rc;

	rc = read_line(p, line, n, err);
	if (rc != PV_OK)
		return context(p, what, err);
	*end = pop3_unstuff_line(line, n);
	return PV_OK;
}

static enum pv_code
capa(struct pop3 *p, struct pv_err *err)
{
	struct pop3_status st;
	const char *line = NULL;
	size_t n = 0, count = 0;
	bool end = false;
	enum pv_code rc;

	rc = send_text(p, "CAPA\r\n", 6, err);
	if (rc == PV_OK)
		rc = read_status(p, "CAPA", &st, err);
	if (rc != PV_OK)
		return rc;
	memset(&p->caps, 0, sizeof(p->caps));
	if (!st.ok)
		return PV_OK; /* RFC 1939 server: no extensions at all */
	p->caps.capa = true;
	for (;;) {
		rc = read_listing_line(p, "CAPA", &line, &n, &end, err);
		if (rc != PV_OK)
			return rc;
		if (end)
			break;
		if (++count > POP3_CAPA_LINES)
			return pv_errf(err, PV_EPROTO,
			    "%s: CAPA: more than %d lines", net_peer(p->net),
			    POP3_CAPA_LINES);
		net_trace(p->net, true, line, n);
		pop3_parse_capa_line(line, n, &p->caps);
	}
	return PV_OK;
}

enum pv_code
pop3_open(const struct net_conf *conf, unsigned window, struct pop3 **out,
    struct pv_err *err)
{
	struct net *net = NULL;
	struct pop3 *p;
	enum pv_code rc;

	rc = net_open(conf, &net, err);
	if (rc != PV_OK)
		return rc;
	p = xcalloc(1, sizeof(*p));
	p->net = net;
	p->rbuf = xmalloc(POP3_RBUF);
	buf_init(&p->arena, POP3_ARENA_MAX);
	rc = capa(p, err);
	if (rc != PV_OK) {
		pop3_close(p);
		return rc;
	}
	if (!p->caps.pipelining)
		p->window = 1;
	else if (window == 0)
		p->window = POP3_WINDOW_DEF;
	else
		p->window = window < POP3_WINDOW_MAX ? window : POP3_WINDOW_MAX;
	p->cmds = xmalloc((size_t)p->window * POP3_CMD_MAX);
	log_debug(LOG_POP3, "%s: pipelining %s, window %u", net_peer(p->net),
	    p->caps.pipelining ? "yes" : "no", p->window);
	*out = p;
	return PV_OK;
}

const struct pop3_caps *
pop3_caps(const struct pop3 *p)
{
	return &p->caps;
}

static void
free_listing(struct pop3 *p)
{
	XFREE(p->items);
	XFREE(p->dup);
	XFREE(p->by_uidl);
	p->nitems = 0;
	buf_free(&p->arena);
}

static int
cmp_uidl_num(const void *a, const void *b)
{
	const struct uidl_ent *x = a, *y = b;

	return (x->num > y->num) - (x->num < y->num);
}

static int
cmp_list_num(const void *a, const void *b)
{
	const struct list_ent *x = a, *y = b;

	return (x->num > y->num) - (x->num < y->num);
}

static int
cmp_item_uidl(const void *a, const void *b)
{
	const struct pop3_item *x = *(const struct pop3_item *const *)a;
	const struct pop3_item *y = *(const struct pop3_item *const *)b;

	return pop3_uidl_cmp(x->uidl, x->uidl_len, y->uidl, y->uidl_len);
}

/* Read a UIDL listing into *ents (and the arena). */
/* A UIDL or LIST line that did not parse ('why' says how).  If its
 * message number is readable, that one message is left out (counted as
 * missing by pop3_list), not the whole mailbox: PV_OK after a warning.
 * Otherwise the listing cannot be trusted: PV_EPROTO. */
static enum pv_code
bad_entry(struct pop3 *p, const char *what, const char *line, size_t len,
    const struct pv_err *why, struct pv_err *err)
{
	size_t num, used;
	struct pv_err e2;

	if (pop3_parse_msgnum(line, len, &num, &used, &e2) != PV_OK)
		return pv_errf(err, PV_EPROTO, "%s: %s: %s", net_peer(p->net),
		    what, e2.msg);
	log_warnx("%s: %s: %s; leaving that message out", net_peer(p->net),
	    what, why->msg);
	return PV_OK;
}

/* Room for entry n of a listing, or PV_EPROTO past POP3_MSGS_MAX. */
static enum pv_code
entry_room(struct pop3 *p, const char *what, size_t n, struct pv_err *err)
{
	if (n < POP3_MSGS_MAX)
		return PV_OK;
	return pv_errf(err, PV_EPROTO, "%s: %s: more than %u messages",
	    net_peer(p->net), what, POP3_MSGS_MAX);
}

static enum pv_code
read_uidl(struct pop3 *p, struct uidl_ent **ents, size_t *nents,
    struct pv_err *err)
{
	struct uidl_ent *v = NULL;
	size_t n = 0, cap = 0;
	enum pv_code rc;

	for (;;) {
		const char *line = NULL, *uidl = NULL;
		size_t len = 0, num = 0, ulen = 0;
		bool end = false;
		struct pv_err e2;

		rc = read_listing_line(p, "UIDL", &line, &len, &end, err);
		if (rc != PV_OK)
			goto fail;
		if (end)
			break;
		if (pop3_parse_uidl_line(line, len, &num, &uidl, &ulen, &e2) !=
		    PV_OK) {
			rc = bad_entry(p, "UIDL", line, len, &e2, err);
			if (rc != PV_OK)
				goto fail;
			continue;
		}
		rc = entry_room(p, "UIDL", n, err);
		if (rc != PV_OK)
			goto fail;
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			v = xreallocarray(v, cap, sizeof(*v));
		}
		v[n].num = num;
		v[n].off = p->arena.len;
		v[n].len = ulen;
		if (!buf_add(&p->arena, uidl, ulen) ||
		    !buf_add(&p->arena, "", 1)) {
			rc = pv_errf(err, PV_EPROTO,
			    "%s: UIDL: listing too large", net_peer(p->net));
			goto fail;
		}
		n++;
	}
	*ents = v;
	*nents = n;
	return PV_OK;
fail:
	free(v);
	return rc;
}

static enum pv_code
read_list(struct pop3 *p, struct list_ent **ents, size_t *nents,
    struct pv_err *err)
{
	struct list_ent *v = NULL;
	size_t n = 0, cap = 0;
	enum pv_code rc;

	for (;;) {
		const char *line = NULL;
		size_t len = 0, num = 0;
		uint64_t size = 0;
		bool end = false;
		struct pv_err e2;

		rc = read_listing_line(p, "LIST", &line, &len, &end, err);
		if (rc != PV_OK)
			goto fail;
		if (end)
			break;
		if (pop3_parse_list_line(line, len, &num, &size, &e2) !=
		    PV_OK) {
			rc = bad_entry(p, "LIST", line, len, &e2, err);
			if (rc != PV_OK)
				goto fail;
			continue;
		}
		rc = entry_room(p, "LIST", n, err);
		if (rc != PV_OK)
			goto fail;
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			v = xreallocarray(v, cap, sizeof(*v));
		}
		v[n].num = num;
		v[n].size = size;
		n++;
	}
	*ents = v;
	*nents = n;
	return PV_OK;
fail:
	free(v);
	return rc;
}

/* The answer to UIDL or LIST; a refusal is an error for the account. */
static enum pv_code
listing_status(struct pop3 *p, const char *what, struct pv_err *err)
{
	struct pop3_status st;
	char shown[POP3_TEXT_MAX];
	enum pv_code rc;

	rc = read_status(p, what, &st, err);
	if (rc != PV_OK || st.ok)
		return rc;
	(void)text_sanitize(st.text, st.text_len, shown, sizeof(shown));
	if (strcmp(what, "UIDL") == 0 && st.rcode == POP3_RC_NONE)
		return pv_errf(err, PV_EPROTO,
		    "%s: server does not support UIDL (-ERR %s)",
		    net_peer(p->net), shown);
	return pv_errf(err, pop3_rcode_class(st.rcode, PV_EPROTO),
	    "%s: %s refused: -ERR %s", net_peer(p->net), what, shown);
}

static enum pv_code
dup_num(struct pop3 *p, const char *what, size_t num, struct pv_err *err)
{
	return pv_errf(err, PV_EPROTO, "%s: %s: message %zu listed twice",
	    net_peer(p->net), what, num);
}

enum pv_code
pop3_list(struct pop3 *p, const struct pop3_item **items, size_t *nitems,
    size_t *nmissing, struct pv_err *err)
{
	struct uidl_ent *u = NULL;
	struct list_ent *l = NULL;
	const struct pop3_item **idx;
	size_t nu = 0, nl = 0, i, j, k, missing = 0;
	enum pv_code rc;

	if (p->broken)
		return unusable(p, err);
	free_listing(p);
	/* Both commands at once when the server pipelines: one round trip
	 * for the whole listing. */
	if (p->caps.pipelining) {
		rc = send_text(p, "UIDL\r\nLIST\r\n", 12, err);
		if (rc == PV_OK)
			rc = listing_status(p, "UIDL", err);
	} else {
		rc = send_text(p, "UIDL\r\n", 6, err);
		if (rc == PV_OK)
			rc = listing_status(p, "UIDL", err);
	}
	if (rc == PV_OK)
		rc = read_uidl(p, &u, &nu, err);
	if (rc == PV_OK && !p->caps.pipelining)
		rc = send_text(p, "LIST\r\n", 6, err);
	if (rc == PV_OK)
		rc = listing_status(p, "LIST", err);
	if (rc == PV_OK)
		rc = read_list(p, &l, &nl, err);
	if (rc != PV_OK)
		goto fail;

	/* Servers list in order; sort only when one does not. */
	for (i = 1; i < nu; i++)
		if (u[i].num <= u[i - 1].num)
			break;
	if (i < nu)
		qsort(u, nu, sizeof(*u), cmp_uidl_num);
	for (i = 1; i < nl; i++)
		if (l[i].num <= l[i - 1].num)
			break;
	if (i < nl)
		qsort(l, nl, sizeof(*l), cmp_list_num);
	for (i = 1; i < nu; i++)
		if (u[i].num == u[i - 1].num) {
			rc = dup_num(p, "UIDL", u[i].num, err);
			goto fail;
		}
	for (i = 1; i < nl; i++)
		if (l[i].num == l[i - 1].num) {
			rc = dup_num(p, "LIST", l[i].num, err);
			goto fail;
		}

	p->items = xreallocarray(NULL, nu > 0 ? nu : 1, sizeof(*p->items));
	for (i = j = k = 0; i < nu || j < nl;) {
		if (i < nu && j < nl && u[i].num == l[j].num) {
			p->items[k].num = u[i].num;
			p->items[k].uidl = p->arena.data + u[i].off;
			p->items[k].uidl_len = u[i].len;
			p->items[k].size = l[j].size;
			k++;
			i++;
			j++;
		} else if (j == nl || (i < nu && u[i].num < l[j].num)) {
			missing++;
			i++;
		} else {
			missing++;
			j++;
		}
	}
	p->nitems = k;

	/* The items in UIDL order (kept: pop3_by_uidl), and duplicate
	 * UIDLs flagged: equal neighbours. */
	p->dup = xcalloc(k > 0 ? k : 1, sizeof(*p->dup));
	idx = xreallocarray(NULL, k > 0 ? k : 1, sizeof(*idx));
	for (i = 0; i < k; i++)
		idx[i] = &p->items[i];
	if (k > 1)
		qsort(idx, k, sizeof(*idx), cmp_item_uidl);
	for (i = 1; i < k; i++)
		if (cmp_item_uidl(&idx[i - 1], &idx[i]) == 0) {
			p->dup[idx[i - 1] - p->items] = true;
			p->dup[idx[i] - p->items] = true;
		}
	p->by_uidl = idx;
	if (missing > 0)
		log_debug(LOG_POP3, "%s: %zu messages in only one of UIDL/LIST",
		    net_peer(p->net), missing);
	*items = p->items;
	*nitems = p->nitems;
	*nmissing = missing;
	rc = PV_OK;
	goto out;
fail:
	p->broken = true;
	free_listing(p);
out:
	free(u);
	free(l);
	return rc;
}

const struct pop3_item *const *
pop3_by_uidl(const struct pop3 *p)
{
	return p->by_uidl;
}

int
pop3_uidl_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c;
	return (alen > blen) - (alen < blen);
}

bool
pop3_uidl_is_unique(const struct pop3 *p, const struct pop3_item *it)
{
	uintptr_t a = (uintptr_t)p->items, x = (uintptr_t)it;

	if (p->items == NULL || x < a || x >= a + p->nitems * sizeof(*p->items))
		return false; /* not from this listing: never "unique" */
	return !p->dup[it - p->items];
}

/* Queue commands for nums[*sent..upto) and send them in one write. */
static enum pv_code
send_window(struct pop3 *p, const char *verb, const size_t *nums, size_t *sent,
    size_t upto, struct pv_err *err)
{
	size_t len = 0, i;
	enum pv_code rc;

	for (i = *sent; i < upto; i++) {
		int k;

		if (nums[i] == 0 || nums[i] > POP3_NUM_MAX)
			return pv_errf(err, PV_EINTERNAL,
			    "%s: bad message number %zu", verb, nums[i]);
		k = snprintf(p->cmds + len, POP3_CMD_MAX, "%s %zu\r\n", verb,
		    nums[i]);
		if (k < 0 || k >= POP3_CMD_MAX)
			return pv_errf(err, PV_EINTERNAL,
			    "%s: command too long", verb);
		len += (size_t)k;
	}
	rc = send_text(p, p->cmds, len, err);
	if (rc != PV_OK)
		return context(p, verb, err);
	*sent = upto;
	return PV_OK;
}

/* Stream one message body through the decoder into cb->data(). */
static enum pv_code
read_body(struct pop3 *p, size_t num, const struct pop3_retr_cb *cb, void *arg,
    struct pv_err *err)
{
	char what[POP3_CMD_MAX];
	struct pop3_dec d;
	enum pv_code rc;

	pop3_dec_init(&d);
	for (;;) {
		while (p->rpos < p->rlen) {
			const char *out = NULL;
			size_t outn = 0;

			p->rpos += pop3_dec_feed(&d, p->rbuf + p->rpos,
			    p->rlen - p->rpos, &out, &outn);
			if (outn > 0) {
				rc = cb->data(arg, out, outn, err);
				if (rc != PV_OK)
					return rc;
			}
			if (pop3_dec_done(&d))
				return PV_OK;
		}
		/* Everything buffered is consumed: read straight into the
		 * whole buffer, no line assembly for bodies. */
		p->rpos = p->rlen = 0;
		rc = fill(p, err);
		if (rc != PV_OK) {
			if (rc == PV_ENET && net_eof(p->net))
				return pv_errf(err, PV_ENET,
				    "%s: RETR %zu: connection closed before the "
				    "end of the message",
				    net_peer(p->net), num);
			(void)snprintf(what, sizeof(what), "RETR %zu", num);
			return context(p, what, err);
		}
	}
}

static enum pv_code
retr_one(struct pop3 *p, size_t num, size_t i, const struct pop3_retr_cb *cb,
    void *arg, struct pv_err *err)
{
	struct pop3_status st;
	char what[POP3_CMD_MAX], shown[POP3_TEXT_MAX];
	enum pv_code rc;

	(void)snprintf(what, sizeof(what), "RETR %zu", num);
	rc = read_status(p, what, &st, err);
	if (rc != PV_OK) {
		if (rc == PV_ENET && net_eof(p->net))
			return pv_errf(err, PV_ENET,
			    "%s: RETR %zu: connection closed before the "
			    "message",
			    net_peer(p->net), num);
		return rc;
	}
	if (!st.ok) {
		(void)text_sanitize(st.text, st.text_len, shown, sizeof(shown));
		return cb->failed(arg, i, shown, err);
	}
	rc = cb->begin(arg, i, err);
	if (rc == PV_OK)
		rc = read_body(p, num, cb, arg, err);
	if (rc == PV_OK)
		rc = cb->end(arg, i, err);
	return rc;
}

enum pv_code
pop3_retr(struct pop3 *p, const size_t *nums, size_t n,
    const struct pop3_retr_cb *cb, void *arg, struct pv_err *err)
{
	size_t sent = 0, done = 0;
	enum pv_code rc;

	if (p->broken)
		return unusable(p, err);
	while (done < n) {
		/* Keep the window full: the server never waits for us. */
		if (sent < n && sent - done < p->window) {
			size_t upto = done + p->window;

			rc = send_window(p, "RETR", nums, &sent,
			    upto < n ? upto : n, err);
			if (rc != PV_OK)
				goto fail;
		}
		rc = retr_one(p, nums[done], done, cb, arg, err);
		if (rc != PV_OK)
			goto fail;
		done++;
	}
	return PV_OK;
fail:
	/* Replies may still be in flight or half read: the stream is out
	 * of step, so the session can only be dropped. */
	p->broken = true;
	return rc;
}

enum pv_code
pop3_dele(struct pop3 *p, const size_t *nums, size_t n, bool *refused,
    size_t *ndeleted, struct pv_err *err)
{
	size_t sent = 0, done = 0, ok = 0;
	char what[POP3_CMD_MAX], shown[POP3_TEXT_MAX];
	enum pv_code rc;

	if (p->broken)
		return unusable(p, err);
	while (done < n) {
		struct pop3_status st;

		if (sent < n && sent - done < p->window) {
			size_t upto = done + p->window;

			rc = send_window(p, "DELE", nums, &sent,
			    upto < n ? upto : n, err);
			if (rc != PV_OK)
				goto fail;
		}
		(void)snprintf(what, sizeof(what), "DELE %zu", nums[done]);
		rc = read_status(p, what, &st, err);
		if (rc != PV_OK)
			goto fail;
		refused[done] = !st.ok;
		if (st.ok) {
			ok++;
		} else {
			(void)text_sanitize(st.text, st.text_len, shown,
			    sizeof(shown));
			log_warnx("%s: %s: -ERR %s", net_peer(p->net), what,
			    shown);
		}
		done++;
	}
	*ndeleted = ok;
	return PV_OK;
fail:
	p->broken = true;
	return rc;
}

enum pv_code
pop3_quit(struct pop3 *p, struct pv_err *err)
{
	struct pop3_status st = {false, NULL, 0, POP3_RC_NONE};
	char shown[POP3_TEXT_MAX];
	enum pv_code rc;

	if (p->broken) {
		/* QUIT would commit deletions on a session we no longer
		 * understand: drop it instead, the server deletes nothing. */
		rc = pv_errf(err, PV_EPROTO,
		    "%s: QUIT not sent after an earlier error; nothing was "
		    "deleted",
		    net_peer(p->net));
		pop3_close(p);
		return rc;
	}
	rc = send_text(p, "QUIT\r\n", 6, err);
	if (rc == PV_OK)
		rc = read_status(p, "QUIT", &st, err);
	if (rc == PV_OK && !st.ok) {
		(void)text_sanitize(st.text, st.text_len, shown, sizeof(shown));
		rc = pv_errf(err, pop3_rcode_class(st.rcode, PV_EPROTO),
		    "%s: QUIT: -ERR %s", net_peer(p->net), shown);
	}
	pop3_close(p);
	return rc;
}

void
pop3_close(struct pop3 *p)
{
	if (p == NULL)
		return;
	net_close(p->net);
	free_listing(p);
	free(p->rbuf);
	free(p->cmds);
	free(p);
}
