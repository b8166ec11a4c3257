/* SPDX-License-Identifier: MIT */
/*
 * core/imap.c - our IMAP over a net.h connection, for uploading: the pure
 * parsers and encoders (imap_p.h, fuzzed) and a small session layer that
 * only moves bytes between them and net.c.  Tags are "pvN", distinct from
 * the "A001" style libcurl used for the login.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "imap.h"
#include "imap_p.h"
#include "log.h"
#include "net.h"
#include "text.h"
#include "xmem.h"

/* ---- pure parts (imap_p.h) --------------------------------------------- */

void
imap_rd_init(struct imap_rd *r, char *buf, size_t cap)
{
	r->buf = buf;
	r->cap = cap;
	imap_rd_reset(r);
}

void
imap_rd_reset(struct imap_rd *r)
{
	r->len = 0;
	r->seg = 0;
	r->lit_left = 0;
	r->in_lit = false;
	r->done = false;
}

bool
imap_rd_done(const struct imap_rd *r)
{
	return r->done;
}

/* Does the line part p[0..n) (line end removed) end with "{digits}" or
 * "{digits+}"?  *size gets the number; false if absent or absurd. */
static bool
literal_at_end(const char *p, size_t n, uint64_t *size, bool *bad)
{
	size_t i, end;
	uint64_t v = 0;

	*bad = false;
	if (n < 3 || p[n - 1] != '}')
		return false;
	end = n - 1;
	if (p[end - 1] == '+')
		end--;
	i = end;
	while (i > 0 && p[i - 1] >= '0' && p[i - 1] <= '9')
		i--;
	if (i == end || i == 0 || p[i - 1] != '{')
		return false;
	if (end - i > 19) {
		*bad = true;
		return true;
	}
	for (; i < end; i++)
		v = v * 10 + (uint64_t)(p[i] - '0');
	*size = v;
	return true;
}

enum pv_code
imap_rd_feed(struct imap_rd *r, const char *in, size_t n, size_t *used,
    struct pv_err *err)
{
	size_t i = 0;

	while (i < n && !r->done) {
		size_t k;

		if (r->in_lit) {
			k = n - i;
			if (k > r->lit_left)
				k = (size_t)r->lit_left;
			if (k > r->cap - r->len)
				return pv_errf(err, PV_EPROTO,
				    "response longer than %zu bytes", r->cap);
			memcpy(r->buf + r->len, in + i, k);
			r->len += k;
			r->lit_left -= k;
			i += k;
			if (r->lit_left == 0) {
				r->in_lit = false;
				r->seg = r->len;
			}
		} else {
			const char *nl = memchr(in + i, '\n', n - i);
			size_t line;
			uint64_t size = 0;
			bool bad = false;

			k = nl != NULL ? (size_t)(nl - (in + i)) + 1 : n - i;
			if (r->len - r->seg + k > IMAP_LINE_MAX + 2)
				return pv_errf(err, PV_EPROTO,
				    "line too long (over %d bytes)",
				    IMAP_LINE_MAX);
			if (k > r->cap - r->len)
				return pv_errf(err, PV_EPROTO,
				    "response longer than %zu bytes", r->cap);
			memcpy(r->buf + r->len, in + i, k);
			r->len += k;
			i += k;
			if (nl == NULL)
				continue;
			/* A whole line part: r->buf[seg..len) ends in LF. */
			line = r->len - 1;
			if (line > r->seg && r->buf[line - 1] == '\r')
				line--;
			if (literal_at_end(r->buf + r->seg, line - r->seg,
			        &size, &bad)) {
				if (bad || size > IMAP_LITERAL_MAX)
					return pv_errf(err, PV_EPROTO,
					    "literal larger than %d bytes",
					    IMAP_LITERAL_MAX);
				r->lit_left = size;
				r->in_lit = size > 0;
				r->seg = r->len;
				continue;
			}
			r->len = line;
			r->done = true;
		}
	}
	*used = i;
	return PV_OK;
}

static bool
ci_eq(const char *p, size_t n, const char *w)
{
	return n == strlen(w) && strncasecmp(p, w, n) == 0;
}

bool
imap_resp_is(const struct imap_resp *r, const char *w)
{
	return r->word != NULL && ci_eq(r->word, r->word_len, w);
}

/* An nz-number or number up to UINT32_MAX at p[*pos]; moves *pos. */
static bool
parse_u32(const char *p, size_t n, size_t *pos, uint32_t *out)
{
	size_t i = *pos;
	uint64_t v = 0;

	if (i >= n || p[i] < '0' || p[i] > '9')
		return false;
	while (i < n && p[i] >= '0' && p[i] <= '9') {
		v = v * 10 + (uint64_t)(p[i] - '0');
		if (v > UINT32_MAX)
			return false;
		i++;
	}
	*pos = i;
	*out = (uint32_t)v;
	return true;
}

size_t
imap_uidset_expand(const char *p, size_t n, uint32_t *out, size_t max)
{
	size_t pos = 0, count = 0;

	if (n == 0)
		return SIZE_MAX;
	for (;;) {
		uint32_t a, b, u;

		if (!parse_u32(p, n, &pos, &a) || a == 0)
			return SIZE_MAX;
		b = a;
		if (pos < n && p[pos] == ':') {
			pos++;
			if (!parse_u32(p, n, &pos, &b) || b == 0)
				return SIZE_MAX;
		}
		if (a > b) {
			u = a;
			a = b;
			b = u;
		}
		if ((uint64_t)b - a + 1 > max - count)
			return SIZE_MAX;
		for (u = a;; u++) {
			out[count++] = u;
			if (u == b)
				break;
		}
		if (pos == n)
			return count;
		if (p[pos] != ',')
			return SIZE_MAX;
		pos++;
	}
}

static size_t
token_end(const char *p, size_t n, size_t i)
{
	while (i < n && p[i] != ' ')
		i++;
	return i;
}

static void
parse_code(const char *p, size_t n, struct imap_resp *r)
{
	static const struct {
		const char *name;
		enum imap_rcode rc;
	} codes[] = {
	    {"ALERT", IMAP_RC_ALERT},
	    {"APPENDUID", IMAP_RC_APPENDUID},
	    {"CAPABILITY", IMAP_RC_CAPABILITY},
	    {"TRYCREATE", IMAP_RC_TRYCREATE},
	    {"OVERQUOTA", IMAP_RC_OVERQUOTA},
	    {"LIMIT", IMAP_RC_LIMIT},
	    {"TOOBIG", IMAP_RC_TOOBIG},
	    {"UIDVALIDITY", IMAP_RC_UIDVALIDITY},
	    {"UIDNEXT", IMAP_RC_UIDNEXT},
	    {"ALREADYEXISTS", IMAP_RC_ALREADYEXISTS},
	    {"NONEXISTENT", IMAP_RC_NONEXISTENT},
	    {"UNAVAILABLE", IMAP_RC_UNAVAILABLE},
	    {"SERVERBUG", IMAP_RC_SERVERBUG},
	    {"INUSE", IMAP_RC_INUSE},
	    {"CANNOT", IMAP_RC_CANNOT},
	    {"PARSE", IMAP_RC_PARSE},
	    {"READ-ONLY", IMAP_RC_READ_ONLY},
	};
	const char *close;
	size_t len, nl, i, pos;

	r->rcode = IMAP_RC_NONE;
	if (n < 2 || p[0] != '[')
		return;
	close = memchr(p, ']', n);
	if (close == NULL)
		return;
	len = (size_t)(close - p) - 1;
	nl = 0;
	while (nl < len && p[1 + nl] != ' ')
		nl++;
	r->rcode = IMAP_RC_OTHER;
	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (ci_eq(p + 1, nl, codes[i].name))
			r->rcode = codes[i].rc;
	r->code_args = p + 1 + nl;
	r->code_args_len = len - nl;
	if (r->code_args_len > 0) {
		r->code_args++;
		r->code_args_len--;
	}
	/* The text follows the "]" and one space. */
	pos = (size_t)(close - p) + 1;
	if (pos < n && p[pos] == ' ')
		pos++;
	r->text = p + pos;
	r->text_len = n - pos;
	pos = 0;
	switch (r->rcode) {
	case IMAP_RC_APPENDUID:
		/* "v u": u may be a set after MULTIAPPEND; keep its first */
		if (!parse_u32(r->code_args, r->code_args_len, &pos,
		        &r->uidvalidity) ||
		    pos >= r->code_args_len || r->code_args[pos] != ' ') {
			r->rcode = IMAP_RC_OTHER;
			r->uidvalidity = 0;
			break;
		}
		pos++;
		r->uidset = r->code_args + pos;
		r->uidset_len =
		    token_end(r->code_args, r->code_args_len, pos) - pos;
		if (!parse_u32(r->code_args, r->code_args_len, &pos, &r->uid) ||
		    r->uidvalidity == 0 || r->uid == 0) {
			r->rcode = IMAP_RC_OTHER;
			r->uidvalidity = r->uid = 0;
			r->uidset = NULL;
			r->uidset_len = 0;
		}
		break;
	case IMAP_RC_UIDVALIDITY:
		if (!parse_u32(r->code_args, r->code_args_len, &pos,
		        &r->uidvalidity))
			r->rcode = IMAP_RC_OTHER;
		break;
	case IMAP_RC_UIDNEXT:
		if (!parse_u32(r->code_args, r->code_args_len, &pos, &r->uid))
			r->rcode = IMAP_RC_OTHER;
		break;
	default:
		break;
	}
}

static enum imap_status
status_word(const char *p, size_t n)
{
	if (ci_eq(p, n, "OK"))
		return IMAP_OK;
	if (ci_eq(p, n, "NO"))
		return IMAP_NO;
	if (ci_eq(p, n, "BAD"))
		return IMAP_BAD;
	if (ci_eq(p, n, "BYE"))
		return IMAP_BYE;
	if (ci_eq(p, n, "PREAUTH"))
		return IMAP_PREAUTH;
	return IMAP_ST_NONE;
}

static enum pv_code
bad_resp(const char *p, size_t n, const char *why, struct pv_err *err)
{
	char shown[IMAP_TEXT_MAX];

	(void)text_sanitize(p, n, shown, sizeof(shown));
	return pv_errf(err, PV_EPROTO, "%s: \"%s\"", why, shown);
}

enum pv_code
imap_parse_resp(const char *p, size_t n, struct imap_resp *r,
    struct pv_err *err)
{
	struct imap_resp v;
	size_t pos, e;

	memset(&v, 0, sizeof(v));
	if (n >= 1 && p[0] == '+') {
		v.kind = IMAP_CONT;
		pos = n >= 2 && p[1] == ' ' ? 2 : 1;
		v.text = p + pos;
		v.text_len = n - pos;
		*r = v;
		return PV_OK;
	}
	if (n >= 2 && p[0] == '*' && p[1] == ' ') {
		v.kind = IMAP_UNTAGGED;
		pos = 2;
	} else {
		e = token_end(p, n, 0);
		if (e == 0 || e == n)
			return bad_resp(p, n, "unexpected response", err);
		v.kind = IMAP_TAGGED;
		v.tag = p;
		v.tag_len = e;
		pos = e + 1;
	}
	if (v.kind == IMAP_UNTAGGED && pos < n && p[pos] >= '0' &&
	    p[pos] <= '9') {
		if (!parse_u32(p, n, &pos, &v.num) ||
		    (pos < n && p[pos] != ' '))
			return bad_resp(p, n, "bad message number", err);
		v.has_num = true;
		if (pos < n)
			pos++;
	}
	e = token_end(p, n, pos);
	v.status = v.has_num ? IMAP_ST_NONE : status_word(p + pos, e - pos);
	if (v.kind == IMAP_TAGGED && v.status != IMAP_OK &&
	    v.status != IMAP_NO && v.status != IMAP_BAD)
		return bad_resp(p, n, "tagged response without a status", err);
	if (v.status == IMAP_ST_NONE) {
		if (e == pos)
			return bad_resp(p, n, "empty untagged response", err);
		v.word = p + pos;
		v.word_len = e - pos;
		pos = e < n ? e + 1 : e;
		v.text = p + pos;
		v.text_len = n - pos;
		*r = v;
		return PV_OK;
	}
	pos = e < n ? e + 1 : e;
	v.text = p + pos;
	v.text_len = n - pos;
	parse_code(p + pos, n - pos, &v);
	*r = v;
	return PV_OK;
}

void
imap_parse_caps(const char *p, size_t n, struct imap_caps *caps)
{
	size_t pos = 0;

	memset(caps, 0, sizeof(*caps));
	while (pos < n) {
		size_t e = token_end(p, n, pos), len = e - pos;
		const char *t = p + pos;

		if (ci_eq(t, len, "IMAP4rev1"))
			caps->imap4rev1 = true;
		else if (ci_eq(t, len, "LITERAL+"))
			caps->literal_plus = true;
		else if (ci_eq(t, len, "LITERAL-"))
			caps->literal_minus = true;
		else if (ci_eq(t, len, "UIDPLUS"))
			caps->uidplus = true;
		else if (ci_eq(t, len, "MULTIAPPEND"))
			caps->multiappend = true;
		else if (ci_eq(t, len, "STARTTLS"))
			caps->starttls = true;
		else if (len > 12 && strncasecmp(t, "APPENDLIMIT=", 12) == 0) {
			uint64_t v = 0;
			size_t i;
			bool ok = true;

			for (i = 12; i < len; i++) {
				if (t[i] < '0' || t[i] > '9' ||
				    v > (UINT64_MAX - 9) / 10) {
					ok = false;
					break;
				}
				v = v * 10 + (uint64_t)(t[i] - '0');
			}
			if (ok) {
				caps->has_appendlimit = true;
				caps->appendlimit = v;
			}
		}
		pos = e < n ? e + 1 : e;
	}
}

/* An astring, NIL-less: a quoted string, a literal "{n}\r\n..." as the
 * reader kept it, or an atom.  Copies the value (unescaped) to out. */
static enum pv_code
parse_astring(const char *p, size_t n, size_t *pos, char *out, size_t cap,
    size_t *outn, bool *nil, struct pv_err *err)
{
	size_t i = *pos, o = 0;

	*nil = false;
	if (i >= n)
		return pv_errf(err, PV_EPROTO, "string expected");
	if (p[i] == '"') {
		for (i++; i < n && p[i] != '"'; i++) {
			if (p[i] == '\\') {
				i++;
				if (i >= n || (p[i] != '"' && p[i] != '\\'))
					return pv_errf(err, PV_EPROTO,
					    "bad escape in a quoted string");
			}
			if (p[i] == '\r' || p[i] == '\n')
				return pv_errf(err, PV_EPROTO,
				    "line end in a quoted string");
			if (o + 1 >= cap)
				return pv_errf(err, PV_EPROTO,
				    "string too long");
			out[o++] = p[i];
		}
		if (i >= n)
			return pv_errf(err, PV_EPROTO, "unterminated string");
		i++;
	} else if (p[i] == '{') {
		uint32_t size = 0;

		i++;
		if (!parse_u32(p, n, &i, &size))
			return pv_errf(err, PV_EPROTO, "bad literal");
		if (i < n && p[i] == '+')
			i++;
		if (i + 3 > n || p[i] != '}' || p[i + 1] != '\r' ||
		    p[i + 2] != '\n')
			return pv_errf(err, PV_EPROTO, "bad literal");
		i += 3;
		if (size > n - i)
			return pv_errf(err, PV_EPROTO, "literal cut short");
		if ((size_t)size + 1 > cap)
			return pv_errf(err, PV_EPROTO, "string too long");
		memcpy(out, p + i, size);
		o = size;
		i += size;
	} else {
		size_t s = i;

		while (i < n && p[i] != ' ' && p[i] != '(' && p[i] != ')' &&
		       (unsigned char)p[i] > 0x20 &&
		       (unsigned char)p[i] < 0x7f && p[i] != '"' && p[i] != '{')
			i++;
		if (i == s)
			return pv_errf(err, PV_EPROTO, "string expected");
		if (i - s + 1 > cap)
			return pv_errf(err, PV_EPROTO, "string too long");
		memcpy(out, p + s, i - s);
		o = i - s;
		*nil = ci_eq(out, o, "NIL");
	}
	if (memchr(out, '\0', o) != NULL)
		return pv_errf(err, PV_EPROTO, "NUL byte in a string");
	out[o] = '\0';
	*pos = i;
	*outn = o;
	return PV_OK;
}

enum pv_code
imap_parse_list(const char *p, size_t n, unsigned *flags, char *delim,
    char *name, size_t cap, size_t *name_len, struct pv_err *err)
{
	static const struct {
		const char *name;
		unsigned flag;
	} fl[] = {
	    {"\\Noselect", IMAP_MBOX_NOSELECT},
	    {"\\Noinferiors", IMAP_MBOX_NOINFERIORS},
	    {"\\HasChildren", IMAP_MBOX_HASCHILDREN},
	    {"\\HasNoChildren", IMAP_MBOX_HASNOCHILDREN},
	    {"\\NonExistent", IMAP_MBOX_NONEXISTENT},
	    {"\\Marked", IMAP_MBOX_MARKED},
	    {"\\Unmarked", IMAP_MBOX_UNMARKED},
	};
	size_t pos = 0, j, len = 0;
	unsigned f = 0;
	char d = 0, tmp[4];
	bool nil = false;
	enum pv_code rc;

	if (n == 0 || p[0] != '(')
		return pv_errf(err, PV_EPROTO, "LIST: flags expected");
	pos = 1;
	while (pos < n && p[pos] != ')') {
		size_t s = pos;

		while (pos < n && p[pos] != ' ' && p[pos] != ')')
			pos++;
		for (j = 0; j < sizeof(fl) / sizeof(fl[0]); j++)
			if (ci_eq(p + s, pos - s, fl[j].name))
				f |= fl[j].flag;
		if (pos < n && p[pos] == ' ')
			pos++;
	}
	if (pos >= n || pos + 1 >= n || p[pos + 1] != ' ')
		return pv_errf(err, PV_EPROTO, "LIST: bad flags");
	pos += 2;
	rc = parse_astring(p, n, &pos, tmp, sizeof(tmp), &len, &nil, err);
	if (rc != PV_OK)
		return pv_errf(err, PV_EPROTO, "LIST: bad delimiter");
	if (!nil) {
		if (len != 1)
			return pv_errf(err, PV_EPROTO, "LIST: bad delimiter");
		d = tmp[0];
	}
	if (pos >= n || p[pos] != ' ')
		return pv_errf(err, PV_EPROTO, "LIST: name expected");
	pos++;
	rc = parse_astring(p, n, &pos, name, cap, &len, &nil, err);
	if (rc != PV_OK)
		return pv_errprefix(err, "LIST");
	/* RFC 5258 extended data may follow; ignored. */
	*flags = f;
	*delim = d;
	*name_len = len;
	return PV_OK;
}

/* ---- modified UTF-7 ------------------------------------------------------ */

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static int
b64_val(char c)
{
	const char *q;

	if (c == '\0')
		return -1;
	q = strchr(b64, c);
	return q != NULL ? (int)(q - b64) : -1;
}

/* One code point from UTF-8 at in[*i]; false if invalid. */
static bool
utf8_next(const char *in, size_t n, size_t *i, uint32_t *cp)
{
	const unsigned char *s = (const unsigned char *)in + *i;
	size_t left = n - *i, len, k;
	uint32_t c, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		(*i)++;
		return true;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		c = s[0] & 0x1f;
		min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		c = s[0] & 0x0f;
		min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		c = s[0] & 0x07;
		min = 0x10000;
	} else {
		return false;
	}
	if (left < len)
		return false;
	for (k = 1; k < len; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return false;
		c = (c << 6) | (s[k] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return false;
	*cp = c;
	*i += len;
	return true;
}

struct obuf {
	char *p;
	size_t cap, len;
	bool full;
};

static void
oput(struct obuf *o, char c)
{
	if (o->len + 1 >= o->cap) {
		o->full = true;
		return;
	}
	o->p[o->len++] = c;
}

enum pv_code
imap_mutf7_encode(const char *in, size_t n, char *out, size_t cap, size_t *outn,
    struct pv_err *err)
{
	struct obuf o = {out, cap, 0, cap == 0};
	size_t i = 0;
	uint32_t bits = 0;
	int nbits = 0;
	bool shifted = false;

	while (i < n) {
		uint32_t cp;

		if (!utf8_next(in, n, &i, &cp))
			return pv_errf(err, PV_ECONFIG,
			    "folder name is not valid UTF-8");
		if (cp == 0) /* the decoder refuses it too: no round trip */
			return pv_errf(err, PV_ECONFIG,
			    "folder name holds a NUL byte");
		if (cp >= 0x20 && cp <= 0x7e) {
			if (shifted) {
				if (nbits > 0)
					oput(&o,
					    b64[(bits << (6 - nbits)) & 0x3f]);
				oput(&o, '-');
				shifted = false;
				nbits = 0;
				bits = 0;
			}
			oput(&o, (char)cp);
			if (cp == '&')
				oput(&o, '-');
			continue;
		}
		if (!shifted) {
			oput(&o, '&');
			shifted = true;
		}
		{
			uint32_t u[2];
			int nu = 1, k;

			if (cp >= 0x10000) {
				cp -= 0x10000;
				u[0] = 0xd800 | (cp >> 10);
				u[1] = 0xdc00 | (cp & 0x3ff);
				nu = 2;
			} else {
				u[0] = cp;
			}
			for (k = 0; k < nu; k++) {
				bits = (bits << 16) | u[k];
				nbits += 16;
				while (nbits >= 6) {
					nbits -= 6;
					oput(&o, b64[(bits >> nbits) & 0x3f]);
				}
				bits &= (1u << nbits) - 1;
			}
		}
	}
	if (shifted) {
		if (nbits > 0)
			oput(&o, b64[(bits << (6 - nbits)) & 0x3f]);
		oput(&o, '-');
	}
	if (o.full)
		return pv_errf(err, PV_ECONFIG, "folder name too long");
	out[o.len] = '\0';
	*outn = o.len;
	return PV_OK;
}

static void
utf8_put(struct obuf *o, uint32_t c)
{
	if (c < 0x80) {
		oput(o, (char)c);
	} else if (c < 0x800) {
		oput(o, (char)(0xc0 | (c >> 6)));
		oput(o, (char)(0x80 | (c & 0x3f)));
	} else if (c < 0x10000) {
		oput(o, (char)(0xe0 | (c >> 12)));
		oput(o, (char)(0x80 | ((c >> 6) & 0x3f)));
		oput(o, (char)(0x80 | (c & 0x3f)));
	} else {
		oput(o, (char)(0xf0 | (c >> 18)));
		oput(o, (char)(0x80 | ((c >> 12) & 0x3f)));
		oput(o, (char)(0x80 | ((c >> 6) & 0x3f)));
		oput(o, (char)(0x80 | (c & 0x3f)));
	}
}

enum pv_code
imap_mutf7_decode(const char *in, size_t n, char *out, size_t cap, size_t *outn,
    struct pv_err *err)
{
	struct obuf o = {out, cap, 0, cap == 0};
	size_t i = 0;

	while (i < n) {
		unsigned char c = (unsigned char)in[i];
		uint32_t bits = 0, hi = 0;
		int nbits = 0;
		size_t start;

		if (c < 0x20 || c > 0x7e)
			return pv_errf(err, PV_EPROTO,
			    "folder name: byte 0x%02x in modified UTF-7", c);
		if (c != '&') {
			oput(&o, (char)c);
			i++;
			continue;
		}
		i++;
		if (i < n && in[i] == '-') {
			oput(&o, '&');
			i++;
			continue;
		}
		start = i;
		while (i < n && in[i] != '-') {
			int v = b64_val(in[i]);

			if (v < 0)
				return pv_errf(err, PV_EPROTO,
				    "folder name: bad modified base64");
			bits = (bits << 6) | (uint32_t)v;
			nbits += 6;
			if (nbits >= 16) {
				uint32_t u;

				nbits -= 16;
				u = (bits >> nbits) & 0xffff;
				bits &= (1u << nbits) - 1;
				if (hi != 0) {
					if (u < 0xdc00 || u > 0xdfff)
						return pv_errf(err, PV_EPROTO,
						    "folder name: unpaired "
						    "surrogate");
					utf8_put(&o, 0x10000 +
					                 ((hi - 0xd800) << 10) +
					                 (u - 0xdc00));
					hi = 0;
				} else if (u >= 0xd800 && u <= 0xdbff) {
					hi = u;
				} else if (u >= 0xdc00 && u <= 0xdfff) {
					return pv_errf(err, PV_EPROTO,
					    "folder name: unpaired surrogate");
				} else if (u >= 0x20 && u <= 0x7e) {
					return pv_errf(err, PV_EPROTO,
					    "folder name: ASCII in base64");
				} else if (u == 0) {
					return pv_errf(err, PV_EPROTO,
					    "folder name: NUL");
				} else {
					utf8_put(&o, u);
				}
			}
			i++;
		}
		if (i >= n || i == start || nbits >= 6 || bits != 0 || hi != 0)
			return pv_errf(err, PV_EPROTO,
			    "folder name: bad modified base64");
		i++; /* '-' */
	}
	if (o.full)
		return pv_errf(err, PV_EPROTO, "folder name too long");
	out[o.len] = '\0';
	*outn = o.len;
	return PV_OK;
}

enum pv_code
imap_quote(const char *s, size_t n, bool literal_plus, char *out, size_t cap,
    size_t *outn, bool *literal, struct pv_err *err)
{
	size_t i, o = 0;
	bool lit = false;
	int k;

	if (memchr(s, '\0', n) != NULL)
		return pv_errf(err, PV_ECONFIG, "NUL byte in a string");
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\r' || c == '\n' || c >= 0x80)
			lit = true;
	}
	if (lit) {
		k = snprintf(out, cap, "{%zu%s}\r\n", n,
		    literal_plus ? "+" : "");
		if (k < 0 || (size_t)k >= cap || cap - (size_t)k < n)
			return pv_errf(err, PV_EINTERNAL, "string too long");
		memcpy(out + k, s, n);
		*outn = (size_t)k + n;
		*literal = true;
		return PV_OK;
	}
	if (cap < 2)
		return pv_errf(err, PV_EINTERNAL, "string too long");
	out[o++] = '"';
	for (i = 0; i < n; i++) {
		if (o + 3 > cap)
			return pv_errf(err, PV_EINTERNAL, "string too long");
		if (s[i] == '"' || s[i] == '\\')
			out[o++] = '\\';
		out[o++] = s[i];
	}
	if (o + 1 > cap)
		return pv_errf(err, PV_EINTERNAL, "string too long");
	out[o++] = '"';
	*outn = o;
	*literal = false;
	return PV_OK;
}

enum pv_code
imap_format_date(int64_t t, int tz_min, char out[IMAP_DATE_LEN + 1],
    struct pv_err *err)
{
	static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	struct tm tm;
	time_t local;
	int az = tz_min < 0 ? -tz_min : tz_min, k;

	if (tz_min <= -24 * 60 || tz_min >= 24 * 60)
		return pv_errf(err, PV_EINTERNAL, "bad time zone offset %d",
		    tz_min);
	/* Bounds keep the addition and the year in range: years 1..9999. */
	if (t < -62135596800LL + 86400 || t > 253402300799LL - 86400)
		return pv_errf(err, PV_EINTERNAL, "date out of range");
	local = (time_t)(t + (int64_t)tz_min * 60);
	if (gmtime_r(&local, &tm) == NULL)
		return pv_errf(err, PV_EINTERNAL, "date out of range");
	k = snprintf(out, IMAP_DATE_LEN + 1,
	    "%02d-%s-%04d %02d:%02d:%02d %c%02d%02d", tm.tm_mday,
	    mon[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    tz_min < 0 ? '-' : '+', az / 60, az % 60);
	if (k != IMAP_DATE_LEN)
		return pv_errf(err, PV_EINTERNAL, "date out of range");
	return PV_OK;
}

/* Skip one value of a FETCH item list: atom, number, NIL, quoted string,
 * literal, or a parenthesized list (bounded depth). */
static bool
skip_value(const char *p, size_t n, size_t *pos, int depth)
{
	size_t i = *pos;

	if (i >= n || depth > 20)
		return false;
	if (p[i] == '(') {
		i++;
		while (i < n && p[i] != ')') {
			if (p[i] == ' ') {
				i++;
				continue;
			}
			if (!skip_value(p, n, &i, depth + 1))
				return false;
		}
		if (i >= n)
			return false;
		*pos = i + 1;
		return true;
	}
	if (p[i] == '"') {
		for (i++; i < n && p[i] != '"'; i++)
			if (p[i] == '\\')
				i++;
		if (i >= n)
			return false;
		*pos = i + 1;
		return true;
	}
	if (p[i] == '{') {
		uint32_t size = 0;

		i++;
		if (!parse_u32(p, n, &i, &size))
			return false;
		if (i < n && p[i] == '+')
			i++;
		if (i + 3 > n || p[i] != '}' || p[i + 1] != '\r' ||
		    p[i + 2] != '\n')
			return false;
		i += 3;
		if (size > n - i)
			return false;
		*pos = i + size;
		return true;
	}
	while (i < n && p[i] != ' ' && p[i] != ')' && p[i] != '(') {
		if (p[i] == '[') {
			const char *c = memchr(p + i, ']', n - i);

			if (c == NULL)
				return false;
			i = (size_t)(c - p);
		}
		i++;
	}
	if (i == *pos)
		return false;
	*pos = i;
	return true;
}

enum pv_code
imap_parse_fetch(const struct imap_resp *r, struct imap_fetch *f,
    struct pv_err *err)
{
	struct imap_fetch v;
	const char *p = r->text;
	size_t n = r->text_len, pos = 0;

	if (r->kind != IMAP_UNTAGGED || !r->has_num ||
	    !imap_resp_is(r, "FETCH"))
		return pv_errf(err, PV_EPROTO, "not a FETCH response");
	memset(&v, 0, sizeof(v));
	v.seq = r->num;
	if (n == 0 || p[0] != '(')
		return pv_errf(err, PV_EPROTO, "FETCH: '(' expected");
	pos = 1;
	for (;;) {
		size_t ks, ke;

		while (pos < n && p[pos] == ' ')
			pos++;
		if (pos >= n)
			return pv_errf(err, PV_EPROTO, "FETCH: ')' missing");
		if (p[pos] == ')')
			break;
		ks = pos;
		/* item name: atom with an optional [section] and <origin> */
		while (pos < n && p[pos] != ' ' && p[pos] != '(' &&
		       p[pos] != ')') {
			if (p[pos] == '[') {
				const char *c = memchr(p + pos, ']', n - pos);

				if (c == NULL)
					return pv_errf(err, PV_EPROTO,
					    "FETCH: ']' missing");
				pos = (size_t)(c - p);
			}
			pos++;
		}
		ke = pos;
		if (ke == ks || pos >= n || p[pos] != ' ')
			return pv_errf(err, PV_EPROTO, "FETCH: bad item");
		pos++;
		if (ci_eq(p + ks, ke - ks, "UID")) {
			if (!parse_u32(p, n, &pos, &v.uid) || v.uid == 0)
				return pv_errf(err, PV_EPROTO,
				    "FETCH: bad UID");
			v.has_uid = true;
		} else if (ke - ks > 5 &&
		           strncasecmp(p + ks, "BODY[", 5) == 0) {
			size_t vs = pos;

			if (p[pos] == '{') {
				uint32_t size = 0;

				pos++;
				if (!parse_u32(p, n, &pos, &size))
					return pv_errf(err, PV_EPROTO,
					    "FETCH: bad literal");
				if (pos < n && p[pos] == '+')
					pos++;
				if (pos + 3 > n || p[pos] != '}' ||
				    p[pos + 1] != '\r' || p[pos + 2] != '\n' ||
				    size > n - pos - 3)
					return pv_errf(err, PV_EPROTO,
					    "FETCH: bad literal");
				pos += 3;
				v.hdr = p + pos;
				v.hdr_len = size;
				pos += size;
			} else if (p[pos] == '"') {
				if (!skip_value(p, n, &pos, 0))
					return pv_errf(err, PV_EPROTO,
					    "FETCH: bad string");
				/* escapes are rare in a header; keep raw */
				v.hdr = p + vs + 1;
				v.hdr_len = pos - vs - 2;
			} else if (n - pos >= 3 &&
			           strncasecmp(p + pos, "NIL", 3) == 0) {
				pos += 3;
				v.hdr = p + pos;
				v.hdr_len = 0;
			} else {
				return pv_errf(err, PV_EPROTO,
				    "FETCH: bad BODY value");
			}
			v.has_hdr = true;
		} else if (!skip_value(p, n, &pos, 0)) {
			return pv_errf(err, PV_EPROTO, "FETCH: bad value");
		}
	}
	*f = v;
	return PV_OK;
}

enum pv_code
imap_append_class(enum imap_status st, enum imap_rcode rc,
    enum imap_scope *scope)
{
	if (st == IMAP_OK) {
		*scope = IMAP_SCOPE_NONE;
		return PV_OK;
	}
	if (st == IMAP_BAD || st == IMAP_BYE) {
		/* We sent something the server did not understand, or it
		 * is going away: nothing more will work on this session. */
		*scope = IMAP_SCOPE_ACCOUNT;
		return st == IMAP_BYE ? PV_ENET : PV_EPROTO;
	}
	switch (rc) {
	case IMAP_RC_TRYCREATE:
	case IMAP_RC_NONEXISTENT:
		*scope = IMAP_SCOPE_FOLDER;
		return PV_EPROTO;
	case IMAP_RC_READ_ONLY:
		*scope = IMAP_SCOPE_FOLDER;
		return PV_EPROTO;
	case IMAP_RC_OVERQUOTA:
		/* The target is full: every further message would fail the
		 * same way; like a full local disk, stop. */
		*scope = IMAP_SCOPE_ACCOUNT;
		return PV_EIO;
	case IMAP_RC_UNAVAILABLE:
	case IMAP_RC_SERVERBUG:
	case IMAP_RC_INUSE:
		*scope = IMAP_SCOPE_ACCOUNT;
		return PV_ENET;
	default:
		/* [TOOBIG], [LIMIT], [PARSE], [CANNOT], or no code: the
		 * server refused this message. */
		*scope = IMAP_SCOPE_MSG;
		return PV_EMSG;
	}
}

/* ---- the session -------------------------------------------------------- */

#define IMAP_RBUF         65536
#define IMAP_WBUF         65536
#define IMAP_CMD_MAX      (IMAP_NAME_MAX * 2 + 512)
#define IMAP_WINDOW_DEF   32
#define IMAP_WINDOW_MAX   1024
#define IMAP_WBYTES_DEF   (8u * 1024u * 1024u)
#define IMAP_LITMINUS_MAX 4096 /* RFC 7888: LITERAL- up to this size */
#define IMAP_FLAGS_MAX    256
/* MULTIAPPEND (RFC 3502): messages in one APPEND command, and their bytes.
 * A server saves such a group in one transaction: Dovecot's Maildir took
 * 0.3-0.9 s for 500 messages in groups of 32-64, 5-8 s for 500 APPENDs
 * pipelined (docs/IMAP.md). */
#define IMAP_GROUP_MAX   64
#define IMAP_GROUP_BYTES (4u * 1024u * 1024u)

struct imap {
	struct net *net; /* owned */
	struct imap_caps caps;
	unsigned window;
	size_t window_bytes;
	bool broken;   /* the stream is out of step: drop the session */
	uint32_t tagn; /* the last tag number used */
	char *rbuf;    /* owned, IMAP_RBUF */
	size_t rpos, rlen;
	char *resp; /* owned, IMAP_RESP_MAX: the response being read */
	struct imap_rd rd;
	char *wbuf; /* owned, IMAP_WBUF: coalesces literal bytes */
	size_t wlen;
	bool selected;
	struct imap_mbox_info sel; /* of the selected folder */
};

static enum pv_code
context(struct imap *s, const char *what, struct pv_err *err)
{
	return net_errcontext(s->net, what, err);
}

static enum pv_code
unusable(struct imap *s, struct pv_err *err)
{
	return pv_errf(err, PV_EPROTO,
	    "%s: session unusable after an earlier error", net_peer(s->net));
}

static enum pv_code
send_raw(struct imap *s, const void *p, size_t n, struct pv_err *err)
{
	return net_send(s->net, p, n, err);
}

/* Send a command line (with its CR LF, and possibly ending in a literal
 * announcement), tracing it. */
static enum pv_code
send_line(struct imap *s, const char *line, size_t n, struct pv_err *err)
{
	size_t tn = n;

	while (tn > 0 && (line[tn - 1] == '\n' || line[tn - 1] == '\r'))
		tn--;
	net_trace(s->net, false, line, tn);
	return send_raw(s, line, n, err);
}

static enum pv_code
fill(struct imap *s, struct pv_err *err)
{
	size_t got = 0;
	enum pv_code rc;

	s->rpos = s->rlen = 0;
	rc = net_recv(s->net, s->rbuf, IMAP_RBUF, &got, err);
	if (rc != PV_OK)
		return rc;
	s->rlen = got;
	return PV_OK;
}

/* The next whole response; its pointers are valid until the next read. */
static enum pv_code
read_resp(struct imap *s, struct imap_resp *r, struct pv_err *err)
{
	enum pv_code rc;
	const char *nl;

	imap_rd_reset(&s->rd);
	while (!imap_rd_done(&s->rd)) {
		size_t used = 0;

		if (s->rpos == s->rlen) {
			rc = fill(s, err);
			if (rc != PV_OK)
				goto fail;
		}
		rc = imap_rd_feed(&s->rd, s->rbuf + s->rpos, s->rlen - s->rpos,
		    &used, err);
		if (rc != PV_OK)
			goto fail;
		s->rpos += used;
	}
	nl = memchr(s->resp, '\n', s->rd.len);
	net_trace(s->net, true, s->resp,
	    nl != NULL ? (size_t)(nl - s->resp) : s->rd.len);
	rc = imap_parse_resp(s->resp, s->rd.len, r, err);
	if (rc != PV_OK)
		goto fail;
	if (r->rcode == IMAP_RC_CAPABILITY)
		imap_parse_caps(r->code_args, r->code_args_len, &s->caps);
	else if (r->kind == IMAP_UNTAGGED && imap_resp_is(r, "CAPABILITY"))
		imap_parse_caps(r->text, r->text_len, &s->caps);
	if (s->selected && r->kind == IMAP_UNTAGGED && r->has_num &&
	    imap_resp_is(r, "EXISTS"))
		s->sel.exists = r->num;
	return PV_OK;
fail:
	s->broken = true;
	if (rc == PV_ENET && net_eof(s->net))
		return pv_errf(err, PV_ENET, "connection closed by server");
	return rc;
}

static bool
is_tag(const struct imap_resp *r, const char *tag)
{
	return r->kind == IMAP_TAGGED && r->tag_len == strlen(tag) &&
	       memcmp(r->tag, tag, r->tag_len) == 0;
}

static void
next_tag(struct imap *s, char tag[16])
{
	s->tagn++;
	(void)snprintf(tag, 16, "pv%" PRIu32, s->tagn);
}

/* Run one simple command: send "tag <args>\r\n", hand untagged
 * responses to 'on' (may be NULL), and leave the tagged completion in
 * *done.  A tagged response with another tag is PV_EPROTO. */
static enum pv_code
run_cmd(struct imap *s, const char *what, const char *args,
    enum pv_code (*on)(struct imap *s, const struct imap_resp *r, void *arg,
        struct pv_err *err),
    void *arg, struct imap_resp *done, struct pv_err *err)
{
	char line[IMAP_CMD_MAX + 32], tag[16];
	struct pv_err cberr;
	enum pv_code rc, cbrc = PV_OK;
	int k;

	if (s->broken)
		return unusable(s, err);
	next_tag(s, tag);
	k = snprintf(line, sizeof(line), "%s %s\r\n", tag, args);
	if (k < 0 || (size_t)k >= sizeof(line))
		return pv_errf(err, PV_EINTERNAL, "%s: command too long", what);
	rc = send_line(s, line, (size_t)k, err);
	if (rc != PV_OK) {
		s->broken = true;
		return context(s, what, err);
	}
	for (;;) {
		struct imap_resp r;

		rc = read_resp(s, &r, err);
		if (rc != PV_OK)
			return context(s, what, err);
		if (r.kind == IMAP_TAGGED) {
			if (!is_tag(&r, tag)) {
				s->broken = true;
				return pv_errf(err, PV_EPROTO,
				    "%s: %s: answer with an unknown tag",
				    net_peer(s->net), what);
			}
			*done = r;
			break;
		}
		if (r.kind == IMAP_CONT) {
			s->broken = true;
			return pv_errf(err, PV_EPROTO,
			    "%s: %s: unexpected continuation request",
			    net_peer(s->net), what);
		}
		if (on != NULL && cbrc == PV_OK)
			cbrc = on(s, &r, arg, &cberr);
	}
	if (cbrc != PV_OK) {
		*err = cberr;
		return cbrc;
	}
	return PV_OK;
}

/* A NO/BAD completion as an error naming the command. */
static enum pv_code
refused(struct imap *s, const char *what, const struct imap_resp *r,
    enum pv_code code, struct pv_err *err)
{
	char shown[IMAP_TEXT_MAX];

	(void)text_sanitize(r->text, r->text_len, shown, sizeof(shown));
	return pv_errf(err, code, "%s: %s: %s %s", net_peer(s->net), what,
	    r->status == IMAP_NO ? "NO" : "BAD", shown);
}

enum pv_code
imap_open(const struct net_conf *conf, unsigned window, size_t window_bytes,
    struct imap **out, struct pv_err *err)
{
	struct net *net = NULL;
	struct imap *s;
	struct imap_resp done;
	enum pv_code rc;

	if (conf->proto != NET_IMAP)
		return pv_errf(err, PV_EINTERNAL,
		    "imap_open: not an IMAP conf");
	rc = net_open(conf, &net, err);
	if (rc != PV_OK)
		return rc;
	s = xcalloc(1, sizeof(*s));
	s->net = net;
	s->rbuf = xmalloc(IMAP_RBUF);
	s->resp = xmalloc(IMAP_RESP_MAX);
	s->wbuf = xmalloc(IMAP_WBUF);
	imap_rd_init(&s->rd, s->resp, IMAP_RESP_MAX);
	/* libcurl's login answer may have carried capabilities, but we do
	 * not see it: ask again, they may differ after login. */
	rc = run_cmd(s, "CAPABILITY", "CAPABILITY", NULL, NULL, &done, err);
	if (rc == PV_OK && done.status != IMAP_OK)
		rc = refused(s, "CAPABILITY", &done, PV_EPROTO, err);
	if (rc != PV_OK) {
		imap_close(s);
		return rc;
	}
	s->window = window == 0                ? IMAP_WINDOW_DEF
	            : window > IMAP_WINDOW_MAX ? IMAP_WINDOW_MAX
	                                       : window;
	s->window_bytes = window_bytes == 0 ? IMAP_WBYTES_DEF : window_bytes;
	log_debug(LOG_IMAP, "%s: LITERAL+ %s, UIDPLUS %s, window %u",
	    net_peer(s->net), s->caps.literal_plus ? "yes" : "no",
	    s->caps.uidplus ? "yes" : "no", s->window);
	*out = s;
	return PV_OK;
}

const struct imap_caps *
imap_caps(const struct imap *s)
{
	return &s->caps;
}

/* The folder (UTF-8) as a quoted mUTF-7 string in out. */
static enum pv_code
folder_arg(const char *folder, char *out, size_t cap, struct pv_err *err)
{
	char m7[IMAP_NAME_MAX];
	size_t n = 0, qn = 0;
	bool lit = false;
	enum pv_code rc;

	rc = imap_mutf7_encode(folder, strlen(folder), m7, sizeof(m7), &n, err);
	if (rc != PV_OK) {
		char shown[IMAP_TEXT_MAX];

		/* the name may be the invalid UTF-8: show it harmless */
		(void)text_sanitize(folder, strlen(folder), shown,
		    sizeof(shown));
		return pv_errprefix(err, "folder \"%s\"", shown);
	}
	rc = imap_quote(m7, n, false, out, cap - 1, &qn, &lit, err);
	if (rc != PV_OK)
		return rc;
	out[qn] = '\0';
	return PV_OK;
}

struct list_ctx {
	enum pv_code (
	    *cb)(void *arg, const struct imap_mailbox *mb, struct pv_err *err);
	void *arg;
};

static enum pv_code
on_list(struct imap *s, const struct imap_resp *r, void *arg,
    struct pv_err *err)
{
	struct list_ctx *lc = arg;
	struct imap_mailbox mb;
	char raw[IMAP_NAME_MAX], name[IMAP_NAME_MAX];
	size_t rn = 0, nn = 0;
	struct pv_err e2;

	if (r->kind != IMAP_UNTAGGED || !imap_resp_is(r, "LIST"))
		return PV_OK;
	if (imap_parse_list(r->text, r->text_len, &mb.flags, &mb.delim, raw,
	        sizeof(raw), &rn, &e2) != PV_OK ||
	    imap_mutf7_decode(raw, rn, name, sizeof(name), &nn, &e2) != PV_OK) {
		log_warnx("%s: LIST: %s; skipping that mailbox",
		    net_peer(s->net), e2.msg);
		return PV_OK;
	}
	mb.name = name;
	return lc->cb(lc->arg, &mb, err);
}

enum pv_code
imap_list(struct imap *s, const char *pattern,
    enum pv_code (
        *cb)(void *arg, const struct imap_mailbox *mb, struct pv_err *err),
    void *arg, struct pv_err *err)
{
	char q[IMAP_CMD_MAX / 2], args[IMAP_CMD_MAX];
	struct list_ctx lc = {cb, arg};
	struct imap_resp done;
	enum pv_code rc;

	rc = folder_arg(pattern, q, sizeof(q), err);
	if (rc != PV_OK)
		return rc;
	(void)snprintf(args, sizeof(args), "LIST \"\" %s", q);
	rc = run_cmd(s, "LIST", args, on_list, &lc, &done, err);
	if (rc != PV_OK)
		return rc;
	if (done.status != IMAP_OK)
		return refused(s, "LIST", &done, PV_EPROTO, err);
	return PV_OK;
}

struct exists_ctx {
	const char *folder;
	bool found;
};

static enum pv_code
on_exists(void *arg, const struct imap_mailbox *mb, struct pv_err *err)
{
	struct exists_ctx *ec = arg;

	(void)err;
	if ((strcmp(mb->name, ec->folder) == 0 ||
	        (strcasecmp(ec->folder, "INBOX") == 0 &&
	            strcasecmp(mb->name, "INBOX") == 0)) &&
	    (mb->flags & (IMAP_MBOX_NONEXISTENT | IMAP_MBOX_NOSELECT)) == 0)
		ec->found = true;
	return PV_OK;
}

enum pv_code
imap_create(struct imap *s, const char *folder, bool *created,
    struct pv_err *err)
{
	char q[IMAP_CMD_MAX / 2], args[IMAP_CMD_MAX], what[64];
	struct exists_ctx ec = {folder, false};
	struct imap_resp done;
	enum pv_code rc;

	rc = imap_list(s, folder, on_exists, &ec, err);
	if (rc != PV_OK)
		return rc;
	if (ec.found) {
		*created = false;
		return PV_OK;
	}
	rc = folder_arg(folder, q, sizeof(q), err);
	if (rc != PV_OK)
		return rc;
	(void)snprintf(args, sizeof(args), "CREATE %s", q);
	(void)snprintf(what, sizeof(what), "CREATE");
	rc = run_cmd(s, what, args, NULL, NULL, &done, err);
	if (rc != PV_OK)
		return rc;
	if (done.status == IMAP_NO && done.rcode == IMAP_RC_ALREADYEXISTS) {
		/* another client created it between our LIST and CREATE */
		*created = false;
		return PV_OK;
	}
	if (done.status != IMAP_OK)
		return refused(s, what, &done, PV_EPROTO, err);
	log_debug(LOG_IMAP, "%s: created folder \"%s\"", net_peer(s->net),
	    folder);
	*created = true;
	return PV_OK;
}

static enum pv_code
on_select(struct imap *s, const struct imap_resp *r, void *arg,
    struct pv_err *err)
{
	struct imap_mbox_info *info = arg;

	(void)s;
	(void)err;
	if (r->kind != IMAP_UNTAGGED)
		return PV_OK;
	if (r->has_num && imap_resp_is(r, "EXISTS"))
		info->exists = r->num;
	else if (r->rcode == IMAP_RC_UIDVALIDITY)
		info->uidvalidity = r->uidvalidity;
	else if (r->rcode == IMAP_RC_UIDNEXT)
		info->uidnext = r->uid;
	return PV_OK;
}

static enum pv_code
select_cmd(struct imap *s, const char *verb, const char *folder,
    struct imap_mbox_info *info, struct pv_err *err)
{
	char q[IMAP_CMD_MAX / 2], args[IMAP_CMD_MAX];
	struct imap_mbox_info v;
	struct imap_resp done;
	enum pv_code rc;

	memset(&v, 0, sizeof(v));
	rc = folder_arg(folder, q, sizeof(q), err);
	if (rc != PV_OK)
		return rc;
	(void)snprintf(args, sizeof(args), "%s %s", verb, q);
	s->selected = false;
	rc = run_cmd(s, verb, args, on_select, &v, &done, err);
	if (rc != PV_OK)
		return rc;
	if (done.status != IMAP_OK) {
		char shown[IMAP_TEXT_MAX];

		(void)text_sanitize(done.text, done.text_len, shown,
		    sizeof(shown));
		return pv_errf(err, PV_EPROTO, "%s: %s \"%s\": %s",
		    net_peer(s->net), verb, folder, shown);
	}
	s->selected = true;
	s->sel = v;
	*info = v;
	return PV_OK;
}

enum pv_code
imap_select(struct imap *s, const char *folder, struct imap_mbox_info *info,
    struct pv_err *err)
{
	return select_cmd(s, "SELECT", folder, info, err);
}

enum pv_code
imap_examine(struct imap *s, const char *folder, struct imap_mbox_info *info,
    struct pv_err *err)
{
	return select_cmd(s, "EXAMINE", folder, info, err);
}

/* ---- APPEND ---------------------------------------------------------------
 */

/* One APPEND sent and not yet answered, or answered but not reported
 * because an older one is still in flight. */
struct pending {
	size_t i;      /* index into msgs: the first of its group */
	size_t n;      /* messages in the command: msgs[i .. i+n) */
	uint32_t tagn; /* its tag "pv<tagn>" */
	uint64_t size; /* bytes of its literals */
	bool answered; /* res is filled */
	struct imap_append_res res;
	uint32_t uids[IMAP_GROUP_MAX]; /* a group's APPENDUIDs, in order */
	bool has_uids;
	char text[IMAP_TEXT_MAX];
};

struct append {
	struct imap *s;
	const struct imap_append_msg *msgs;
	const struct imap_append_cb *cb;
	void *arg;
	struct pending *q; /* ring of s->window entries */
	size_t head, count;
	uint64_t inflight; /* literal bytes in flight */
	size_t *retry;     /* messages of groups refused for one of them */
	size_t nretry;
	char what[96];
};

struct put_ctx {
	struct imap *s;
	uint64_t left; /* bytes the literal still expects */
	bool over;
};

static enum pv_code
flush_w(struct imap *s, struct pv_err *err)
{
	enum pv_code rc = PV_OK;

	if (s->wlen > 0)
		rc = send_raw(s, s->wbuf, s->wlen, err);
	s->wlen = 0;
	return rc;
}

/* Buffer small writes so that one TLS record carries many of them. */
static enum pv_code
put_bytes(void *w, const void *p, size_t n, struct pv_err *err)
{
	struct put_ctx *pc = w;
	struct imap *s = pc->s;
	enum pv_code rc;

	if ((uint64_t)n > pc->left) {
		pc->over = true;
		return pv_errf(err, PV_EINTERNAL,
		    "message longer than its announced size");
	}
	pc->left -= n;
	if (n >= IMAP_WBUF) {
		rc = flush_w(s, err);
		return rc != PV_OK ? rc : send_raw(s, p, n, err);
	}
	if (s->wlen + n > IMAP_WBUF) {
		rc = flush_w(s, err);
		if (rc != PV_OK)
			return rc;
	}
	memcpy(s->wbuf + s->wlen, p, n);
	s->wlen += n;
	return PV_OK;
}

/* Stream message i's bytes, then tail (tlen bytes): the CR LF that ends
 * the command, or the next message's part of a MULTIAPPEND (then nothing
 * is flushed yet). */
static enum pv_code
send_body(struct append *a, size_t i, const char *tail, size_t tlen, bool last,
    struct pv_err *err)
{
	struct put_ctx pc = {a->s, a->msgs[i].size, false};
	enum pv_code rc;

	rc = a->cb->body(a->arg, i, put_bytes, &pc, err);
	if (rc == PV_OK && pc.left != 0)
		rc = pv_errf(err, PV_EINTERNAL,
		    "message %zu: %" PRIu64 " bytes fewer than announced", i,
		    pc.left);
	if (rc == PV_OK)
		rc = put_bytes(&(struct put_ctx){a->s, tlen, false}, tail, tlen,
		    err);
	if (rc == PV_OK && last)
		rc = flush_w(a->s, err);
	if (rc != PV_OK)
		a->s->broken = true; /* a literal was cut short */
	return rc;
}

static void
fill_result(struct pending *pe, const struct imap_resp *r, bool uidplus)
{
	enum imap_scope scope = IMAP_SCOPE_NONE;

	memset(&pe->res, 0, sizeof(pe->res));
	pe->has_uids = false;
	pe->res.code = imap_append_class(r->status, r->rcode, &scope);
	pe->res.scope = scope;
	if (r->status == IMAP_OK && r->rcode == IMAP_RC_APPENDUID && uidplus) {
		pe->res.has_uid = true;
		pe->res.uidvalidity = r->uidvalidity;
		pe->res.uid = r->uid;
		/* A group's UIDs, one per message, or none believed. */
		if (pe->n > 1) {
			pe->has_uids =
			    imap_uidset_expand(r->uidset, r->uidset_len,
			        pe->uids, IMAP_GROUP_MAX) == pe->n;
			pe->res.has_uid = pe->has_uids;
		}
	}
	(void)text_sanitize(r->text, r->text_len, pe->text, sizeof(pe->text));
	pe->res.text = pe->text;
	pe->answered = true;
}

/* Report answered entries at the head of the queue, in order.  A group
 * refused for one of its messages saved none of them (RFC 3502): its
 * messages are sent again one by one (append_retry), so that only the
 * culprit fails. */
static enum pv_code
report(struct append *a, struct pv_err *err)
{
	while (a->count > 0 && a->q[a->head].answered) {
		struct pending *pe = &a->q[a->head];
		enum pv_code rc = PV_OK;
		size_t k;

		a->head = (a->head + 1) % a->s->window;
		a->count--;
		a->inflight -= pe->size;
		if (pe->n > 1 && pe->res.code != PV_OK &&
		    pe->res.scope == IMAP_SCOPE_MSG) {
			for (k = 0; k < pe->n; k++)
				a->retry[a->nretry++] = pe->i + k;
			continue;
		}
		for (k = 0; k < pe->n && rc == PV_OK; k++) {
			if (pe->has_uids)
				pe->res.uid = pe->uids[k];
			rc = a->cb->result(a->arg, pe->i + k, &pe->res, err);
		}
		if (rc != PV_OK)
			return rc;
	}
	return PV_OK;
}

/* Read one response; a tagged one completes the APPEND it names. */
static enum pv_code
read_one(struct append *a, struct imap_resp *r, struct pv_err *err)
{
	size_t k;
	enum pv_code rc;

	rc = read_resp(a->s, r, err);
	if (rc != PV_OK)
		return context(a->s, a->what, err);
	if (r->kind != IMAP_TAGGED)
		return PV_OK;
	for (k = 0; k < a->count; k++) {
		struct pending *pe = &a->q[(a->head + k) % a->s->window];
		char tag[16];

		(void)snprintf(tag, sizeof(tag), "pv%" PRIu32, pe->tagn);
		if (!pe->answered && is_tag(r, tag)) {
			fill_result(pe, r, a->s->caps.uidplus);
			return report(a, err);
		}
	}
	a->s->broken = true;
	return pv_errf(err, PV_EPROTO, "%s: %s: answer with an unknown tag",
	    net_peer(a->s->net), a->what);
}

static enum pv_code
drain(struct append *a, size_t upto, struct pv_err *err)
{
	while (a->count > upto) {
		struct imap_resp r;
		enum pv_code rc = read_one(a, &r, err);

		if (rc != PV_OK)
			return rc;
		if (r.kind == IMAP_CONT) {
			a->s->broken = true;
			return pv_errf(err, PV_EPROTO,
			    "%s: %s: unexpected continuation request",
			    net_peer(a->s->net), a->what);
		}
	}
	return PV_OK;
}

/* Flags go into the command as they are: atoms and '\' only. */
static bool
flags_ok(const char *f)
{
	size_t i, n = strlen(f);

	if (n >= IMAP_FLAGS_MAX)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)f[i];

		if (c < 0x20 || c >= 0x7f || strchr("()\"{%*]", c) != NULL)
			return false;
	}
	return true;
}

/* One message's part of an APPEND: "(flags) "date" {size[+]}" + CR LF. */
static enum pv_code
msg_part(const struct imap_append_msg *m, bool nonsync, char *buf, size_t bufsz,
    size_t *len, struct pv_err *err)
{
	char date[IMAP_DATE_LEN + 1], dq[IMAP_DATE_LEN + 4] = "";
	enum pv_code rc;
	int l;

	if (m->has_date) {
		rc = imap_format_date(m->date, m->tz_min, date, err);
		if (rc != PV_OK)
			return rc;
		(void)snprintf(dq, sizeof(dq), " \"%s\"", date);
	}
	l = snprintf(buf, bufsz, "(%s)%s {%" PRIu64 "%s}\r\n",
	    m->flags != NULL ? m->flags : "", dq, m->size, nonsync ? "+" : "");
	if (l < 0 || (size_t)l >= bufsz)
		return pv_errf(err, PV_EINTERNAL, "APPEND: command too long");
	*len = (size_t)l;
	return PV_OK;
}

/* Wait until a command of 'bytes' literal bytes fits the window, by count
 * and bytes (one alone may exceed the bytes); a synchronizing literal
 * needs a quiet line. */
static enum pv_code
make_room(struct append *a, uint64_t bytes, bool nonsync, struct pv_err *err)
{
	enum pv_code rc = drain(a, nonsync ? a->s->window - 1 : 0, err);

	while (rc == PV_OK && a->count > 0 &&
	       a->inflight + bytes > a->s->window_bytes)
		rc = drain(a, a->count - 1, err);
	return rc;
}

/* A new tag for the APPEND of msgs[i .. i+n), queued as in flight; its
 * first line (with the first message's part) into line.  Returns the
 * line's length, or -1 if it does not fit. */
static int
push_pending(struct append *a, size_t i, size_t n, uint64_t bytes,
    const char *q, const char *part, char *line, size_t linesz)
{
	struct imap *s = a->s;
	struct pending *pe;
	int len;

	len = snprintf(line, linesz, "pv%" PRIu32 " APPEND %s %s", s->tagn + 1,
	    q, part);
	if (len < 0 || (size_t)len >= linesz)
		return -1;
	s->tagn++;
	pe = &a->q[(a->head + a->count) % s->window];
	memset(pe, 0, sizeof(*pe));
	pe->i = i;
	pe->n = n;
	pe->tagn = s->tagn;
	pe->size = bytes;
	a->count++;
	a->inflight += bytes;
	return len;
}

static enum pv_code
append_one(struct append *a, const char *q, size_t i, struct pv_err *err)
{
	const struct imap_append_msg *m = &a->msgs[i];
	struct imap *s = a->s;
	char line[IMAP_CMD_MAX + IMAP_FLAGS_MAX + 64];
	char part[IMAP_FLAGS_MAX + IMAP_DATE_LEN + 64];
	bool nonsync;
	size_t plen;
	enum pv_code rc;
	int len;

	(void)snprintf(a->what, sizeof(a->what),
	    "APPEND (#%zu of this batch, %zu awaiting an answer)", i + 1,
	    a->count);
	if (m->flags != NULL && !flags_ok(m->flags))
		return pv_errf(err, PV_ECONFIG, "bad APPEND flags");
	if (s->caps.has_appendlimit && m->size > s->caps.appendlimit) {
		struct imap_append_res res;
		char text[96];

		/* Results go out in order: let older ones finish first. */
		rc = drain(a, 0, err);
		if (rc != PV_OK)
			return rc;
		(void)snprintf(text, sizeof(text),
		    "too big: over the server's APPENDLIMIT (%" PRIu64
		    " bytes)",
		    s->caps.appendlimit);
		memset(&res, 0, sizeof(res));
		res.code = PV_EMSG;
		res.scope = IMAP_SCOPE_MSG;
		res.text = text;
		return a->cb->result(a->arg, i, &res, err);
	}
	nonsync = s->caps.literal_plus ||
	          (s->caps.literal_minus && m->size <= IMAP_LITMINUS_MAX);
	rc = msg_part(m, nonsync, part, sizeof(part), &plen, err);
	if (rc == PV_OK)
		rc = make_room(a, m->size, nonsync, err);
	if (rc != PV_OK)
		return rc;
	len = push_pending(a, i, 1, m->size, q, part, line, sizeof(line));
	if (len < 0)
		return pv_errf(err, PV_EINTERNAL, "APPEND: command too long");
	rc = send_line(s, line, (size_t)len, err);
	if (rc != PV_OK) {
		s->broken = true;
		return context(s, a->what, err);
	}
	if (!nonsync) {
		/* Wait for "+" (or a refusal of the command itself). */
		for (;;) {
			struct imap_resp r;

			rc = read_one(a, &r, err);
			if (rc != PV_OK)
				return rc;
			if (r.kind == IMAP_CONT)
				break;
			if (r.kind == IMAP_TAGGED)
				return PV_OK; /* refused before the literal */
		}
	}
	rc = send_body(a, i, "\r\n", 2, true, err);
	if (rc != PV_OK)
		return rc == PV_EINTERNAL ? rc : context(s, a->what, err);
	if (!nonsync)
		return drain(a, 0, err);
	return PV_OK;
}

/* How many messages from i on go into one MULTIAPPEND: consecutive ones
 * within the group's count and bytes, none that append_one would refuse
 * or answer itself (bad flags, over APPENDLIMIT).  1: a plain APPEND. */
static size_t
group_len(const struct append *a, size_t i, size_t n)
{
	const struct imap *s = a->s;
	uint64_t bytes = 0;
	size_t g = 0;

	if (!s->caps.multiappend || !s->caps.literal_plus || a->retry == NULL)
		return 1;
	while (i + g < n && g < IMAP_GROUP_MAX) {
		const struct imap_append_msg *m = &a->msgs[i + g];

		if ((m->flags != NULL && !flags_ok(m->flags)) ||
		    (s->caps.has_appendlimit && m->size > s->caps.appendlimit))
			break;
		if (g > 0 && (bytes + m->size > IMAP_GROUP_BYTES ||
		                 bytes + m->size > s->window_bytes))
			break;
		bytes += m->size;
		g++;
	}
	return g > 0 ? g : 1;
}

/* msgs[i .. i+g) in one MULTIAPPEND with non-synchronizing literals. */
static enum pv_code
append_group(struct append *a, const char *q, size_t i, size_t g,
    struct pv_err *err)
{
	struct imap *s = a->s;
	char line[IMAP_CMD_MAX + IMAP_FLAGS_MAX + 64];
	char part[IMAP_FLAGS_MAX + IMAP_DATE_LEN + 64];
	uint64_t bytes = 0;
	size_t k, plen;
	enum pv_code rc;
	int len;

	for (k = 0; k < g; k++)
		bytes += a->msgs[i + k].size;
	(void)snprintf(a->what, sizeof(a->what),
	    "APPEND of %zu (#%zu-%zu of this batch, %zu awaiting an answer)", g,
	    i + 1, i + g, a->count);
	rc = msg_part(&a->msgs[i], true, part, sizeof(part), &plen, err);
	if (rc == PV_OK)
		rc = make_room(a, bytes, true, err);
	if (rc != PV_OK)
		return rc;
	len = push_pending(a, i, g, bytes, q, part, line, sizeof(line));
	if (len < 0)
		return pv_errf(err, PV_EINTERNAL, "APPEND: command too long");
	rc = send_line(s, line, (size_t)len, err);
	if (rc != PV_OK) {
		s->broken = true;
		return context(s, a->what, err);
	}
	for (k = 0; k < g; k++) {
		bool last = k + 1 == g;

		if (last) {
			rc = send_body(a, i + k, "\r\n", 2, true, err);
		} else {
			/* The next message's part goes out right after. */
			rc = msg_part(&a->msgs[i + k + 1], true, part + 1,
			    sizeof(part) - 1, &plen, err);
			if (rc != PV_OK) {
				s->broken = true;
				return rc;
			}
			part[0] = ' ';
			rc = send_body(a, i + k, part, plen + 1, false, err);
		}
		if (rc != PV_OK)
			return rc == PV_EINTERNAL ? rc
			                          : context(s, a->what, err);
	}
	return PV_OK;
}

enum pv_code
imap_append(struct imap *s, const char *folder,
    const struct imap_append_msg *msgs, size_t n,
    const struct imap_append_cb *cb, void *arg, struct pv_err *err)
{
	struct append a;
	char q[IMAP_CMD_MAX / 2];
	size_t i;
	enum pv_code rc;

	if (s->broken)
		return unusable(s, err);
	rc = folder_arg(folder, q, sizeof(q), err);
	if (rc != PV_OK)
		return rc;
	memset(&a, 0, sizeof(a));
	a.s = s;
	a.msgs = msgs;
	a.cb = cb;
	a.arg = arg;
	a.q = xcalloc(s->window, sizeof(*a.q));
	if (s->caps.multiappend && s->caps.literal_plus)
		a.retry = xcalloc(n, sizeof(*a.retry));
	(void)snprintf(a.what, sizeof(a.what), "APPEND");
	for (i = 0; i < n;) {
		size_t g = group_len(&a, i, n);

		rc = g > 1 ? append_group(&a, q, i, g, err)
		           : append_one(&a, q, i, err);
		if (rc != PV_OK)
			goto fail;
		i += g;
	}
	rc = drain(&a, 0, err);
	/* Groups refused for one message: each on its own now. */
	for (i = 0; rc == PV_OK && i < a.nretry; i++)
		rc = append_one(&a, q, a.retry[i], err);
	if (rc == PV_OK)
		rc = drain(&a, 0, err);
	if (rc != PV_OK)
		goto fail;
	free(a.q);
	free(a.retry);
	return PV_OK;
fail:
	/* Answers may still be in flight: the stream is out of step. */
	s->broken = true;
	free(a.q);
	free(a.retry);
	return rc;
}

/* ---- FETCH, LOGOUT ------------------------------------------------------- */

struct fetch_ctx {
	enum pv_code (*cb)(void *arg, uint32_t uid, const char *hdr, size_t n,
	    struct pv_err *err);
	void *arg;
};

static enum pv_code
on_fetch(struct imap *s, const struct imap_resp *r, void *arg,
    struct pv_err *err)
{
	struct fetch_ctx *fc = arg;
	struct imap_fetch f;
	struct pv_err e2;

	if (r->kind != IMAP_UNTAGGED || !r->has_num ||
	    !imap_resp_is(r, "FETCH"))
		return PV_OK;
	if (imap_parse_fetch(r, &f, &e2) != PV_OK)
		return pv_errf(err, PV_EPROTO, "%s: UID FETCH: %s",
		    net_peer(s->net), e2.msg);
	if (!f.has_uid || !f.has_hdr)
		return PV_OK; /* e.g. an unsolicited flag update */
	return fc->cb(fc->arg, f.uid, f.hdr, f.hdr_len, err);
}

enum pv_code
imap_fetch_message_ids(struct imap *s,
    enum pv_code (*cb)(void *arg, uint32_t uid, const char *hdr, size_t n,
        struct pv_err *err),
    void *arg, struct pv_err *err)
{
	struct fetch_ctx fc = {cb, arg};
	struct imap_resp done;
	enum pv_code rc;

	if (!s->selected)
		return pv_errf(err, PV_EINTERNAL,
		    "UID FETCH without a selected folder");
	if (s->sel.exists == 0)
		return PV_OK;
	rc = run_cmd(s, "UID FETCH",
	    "UID FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])",
	    on_fetch, &fc, &done, err);
	if (rc != PV_OK)
		return rc;
	if (done.status != IMAP_OK)
		return refused(s, "UID FETCH", &done, PV_EPROTO, err);
	return PV_OK;
}

/* ---- UID FETCH of whole bodies, streamed ------------------------------- */

/* The next line part (up to LF, or up to a literal announcement's end)
 * into out[0..cap) without its CR LF.  PV_EPROTO if it does not fit. */
static enum pv_code
read_part(struct imap *s, char *out, size_t cap, size_t *outn,
    struct pv_err *err)
{
	size_t n = 0;
	enum pv_code rc;

	for (;;) {
		const char *nl;
		size_t take;

		if (s->rpos == s->rlen) {
			rc = fill(s, err);
			if (rc != PV_OK)
				return rc;
		}
		nl = memchr(s->rbuf + s->rpos, '\n', s->rlen - s->rpos);
		take = nl != NULL ? (size_t)(nl - (s->rbuf + s->rpos)) + 1
		                  : s->rlen - s->rpos;
		if (n + take > cap)
			return pv_errf(err, PV_EPROTO,
			    "response line longer than %zu bytes", cap);
		memcpy(out + n, s->rbuf + s->rpos, take);
		n += take;
		s->rpos += take;
		if (nl != NULL)
			break;
	}
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
		n--;
	*outn = n;
	return PV_OK;
}

/* Hand the next 'size' raw bytes to data (or drop them when NULL). */
static enum pv_code
read_literal(struct imap *s, uint64_t size, const struct imap_body_cb *cb,
    void *arg, struct pv_err *err)
{
	enum pv_code rc;

	while (size > 0) {
		size_t n;

		if (s->rpos == s->rlen) {
			rc = fill(s, err);
			if (rc != PV_OK)
				return rc;
		}
		n = s->rlen - s->rpos;
		if (n > size)
			n = (size_t)size;
		if (cb != NULL) {
			rc = cb->data(arg, s->rbuf + s->rpos, n, err);
			if (rc != PV_OK)
				return rc;
		}
		s->rpos += n;
		size -= n;
	}
	return PV_OK;
}

/* "UID n" anywhere in p[0..n) as an item name: its number, or 0. */
static uint32_t
find_uid(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i + 4 < n; i++) {
		size_t pos = i + 4;
		uint32_t v;

		if ((i > 0 && p[i - 1] != '(' && p[i - 1] != ' ') ||
		    !ci_eq(p + i, 3, "UID") || p[i + 3] != ' ')
			continue;
		if (parse_u32(p, n, &pos, &v) && v > 0)
			return v;
	}
	return 0;
}

/* Does the part (before its literal) announce the body: "BODY[] {n}"? */
static bool
is_body_literal(const char *p, size_t n)
{
	const char *b = NULL;
	size_t i;

	for (i = 0; i + 7 <= n; i++)
		if (ci_eq(p + i, 7, "BODY[] "))
			b = p + i;
	return b != NULL &&
	       memchr(b + 7, ' ', (size_t)(p + n - (b + 7))) == NULL;
}

enum pv_code
imap_fetch_bodies(struct imap *s, const char *uidset,
    const struct imap_body_cb *cb, void *arg, struct pv_err *err)
{
	char line[IMAP_CMD_MAX + 64], tag[16];
	char *part = s->resp; /* scratch: IMAP_RESP_MAX */
	enum pv_code rc;
	bool in_fetch = false, had_body = false;
	uint32_t uid = 0;
	int k;

	if (s->broken)
		return unusable(s, err);
	if (!s->selected)
		return pv_errf(err, PV_EINTERNAL,
		    "UID FETCH without a selected folder");
	next_tag(s, tag);
	k = snprintf(line, sizeof(line),
	    "%s UID FETCH %s (UID BODY.PEEK[])\r\n", tag, uidset);
	if (k < 0 || (size_t)k >= sizeof(line))
		return pv_errf(err, PV_EINTERNAL, "UID FETCH: set too long");
	rc = send_line(s, line, (size_t)k, err);
	if (rc != PV_OK)
		goto broken;
	for (;;) {
		size_t n = 0;
		uint64_t size = 0;
		bool bad = false, lit;

		rc = read_part(s, part, IMAP_LINE_MAX, &n, err);
		if (rc != PV_OK)
			goto broken;
		net_trace(s->net, true, part, n);
		lit = literal_at_end(part, n, &size, &bad);
		if (bad) {
			rc = pv_errf(err, PV_EPROTO, "absurd literal size");
			goto broken;
		}
		if (!in_fetch) {
			struct imap_resp r;

			if (n > 0 && part[0] != '*' && part[0] != '+') {
				/* The tagged completion (never a literal). */
				rc = imap_parse_resp(part, n, &r, err);
				if (rc != PV_OK)
					goto broken;
				if (!is_tag(&r, tag)) {
					rc = pv_errf(err, PV_EPROTO,
					    "answer with an unknown tag");
					goto broken;
				}
				if (r.status != IMAP_OK)
					return refused(s, "UID FETCH", &r,
					    PV_EPROTO, err);
				return PV_OK;
			}
			if (n > 2 && part[0] == '*') {
				size_t pos = 2;
				uint32_t seq;

				if (parse_u32(part, n, &pos, &seq) &&
				    pos + 6 <= n &&
				    ci_eq(part + pos, 6, " FETCH")) {
					in_fetch = true;
					had_body = false;
					uid = 0;
					if (lit && is_body_literal(part, n)) {
						rc = cb->begin(arg, seq, size,
						    err);
						if (rc != PV_OK)
							goto broken;
						had_body = true;
					}
				}
			}
		} else if (lit && is_body_literal(part, n) && !had_body) {
			rc = pv_errf(err, PV_EPROTO,
			    "a second body in one FETCH response");
			goto broken;
		}
		if (in_fetch && uid == 0)
			uid = find_uid(part, n);
		if (lit) {
			bool body = in_fetch && had_body && size > 0 &&
			            is_body_literal(part, n);

			rc = read_literal(s, size, body ? cb : NULL, arg, err);
			if (rc != PV_OK)
				goto broken;
			continue; /* the response goes on after a literal */
		}
		if (in_fetch) {
			in_fetch = false;
			if (!had_body)
				continue; /* e.g. an unsolicited FLAGS update */
			if (uid == 0) {
				rc = pv_errf(err, PV_EPROTO,
				    "FETCH of a body without its UID");
				goto broken;
			}
			rc = cb->end(arg, uid, err);
			if (rc != PV_OK)
				goto broken;
		}
	}
broken:
	s->broken = true;
	if (rc == PV_ENET && net_eof(s->net))
		rc = pv_errf(err, PV_ENET, "connection closed by server");
	return context(s, "UID FETCH", err);
}

enum pv_code
imap_logout(struct imap *s, struct pv_err *err)
{
	struct imap_resp done;
	enum pv_code rc;

	rc = run_cmd(s, "LOGOUT", "LOGOUT", NULL, NULL, &done, err);
	if (rc == PV_OK && done.status != IMAP_OK)
		rc = refused(s, "LOGOUT", &done, PV_EPROTO, err);
	imap_close(s);
	return rc;
}

void
imap_close(struct imap *s)
{
	if (s == NULL)
		return;
	net_close(s->net);
	free(s->rbuf);
	free(s->resp);
	free(s->wbuf);
	free(s);
}
