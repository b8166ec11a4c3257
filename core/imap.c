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

/* ---- pure parts (imap_p.h) --------------------------------------------- */

size_t
imap_sanitize(const char *in, size_t n, char *out, size_t cap)
{
	size_t i, keep = n, len = 0;
	bool cut = false;

	if (cap == 0)
		return 0;
	if (keep > cap - 1) {
		cut = cap > 4;
		keep = cut ? cap - 4 : cap - 1;
	}
	for (i = 0; i < keep; i++) {
		unsigned char ch = (unsigned char)in[i];

		out[len++] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
	}
	if (cut) {
		memcpy(out + len, "...", 3);
		len += 3;
	}
	out[len] = '\0';
	return len;
}

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
		if (!parse_u32(r->code_args, r->code_args_len, &pos, &r->uid) ||
		    r->uidvalidity == 0 || r->uid == 0) {
			r->rcode = IMAP_RC_OTHER;
			r->uidvalidity = r->uid = 0;
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

	(void)imap_sanitize(p, n, shown, sizeof(shown));
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
		return pv_errprefix(err, "LIST: ");
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
