/* SPDX-License-Identifier: MIT */
/*
 * core/manifest.c - write and read the per-volume manifest (format in
 * manifest.h and docs/ARCHIVE.md).  Pure: libc only.
 *
 * The parser is strict: a manifest is what lets the volumes alone rebuild
 * the state, so anything it does not fully understand is an error naming
 * the line, never a guess.  Every line ends with LF, so a manifest cut
 * short is noticed.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "manifest.h"
#include "xmem.h"

#define MAGIC    "popvault-manifest"
#define NFIELDS  13             /* "m" and the 12 fields after it */
#define OFF_MAX  (99 * 60 + 59) /* what a +hhmm zone can say */
#define HASH_LEN 64
#define LINE_ERR "manifest line %zu: "

_Static_assert(sizeof(long long) == sizeof(int64_t), "long long is 64 bits");

static const char hexup[] = "0123456789ABCDEF";

/* ---- writing --------------------------------------------------------- */

/* Append p[0..n) percent-encoded; "-" for an empty value. */
static bool
put_field(struct buf *out, const char *p, size_t n)
{
	char tmp[256];
	size_t i, t = 0;

	if (p == NULL || n == 0)
		return buf_add(out, "-", 1);
	if (n == 1 && p[0] == '-')
		return buf_add(out, "%2D", 3);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (t + 3 > sizeof(tmp)) {
			if (!buf_add(out, tmp, t))
				return false;
			t = 0;
		}
		if (c < 0x21 || c > 0x7e || c == '%') {
			tmp[t++] = '%';
			tmp[t++] = hexup[c >> 4];
			tmp[t++] = hexup[c & 0x0f];
		} else {
			tmp[t++] = (char)c;
		}
	}
	return buf_add(out, tmp, t);
}

static bool
put_str(struct buf *out, const char *s)
{
	return put_field(out, s, s != NULL ? strlen(s) : 0);
}

static bool
put_i64(struct buf *out, int64_t v)
{
	char num[32];
	int len;

	len = snprintf(num, sizeof(num), "%lld", (long long)v);
	if (len < 0 || (size_t)len >= sizeof(num))
		return false;
	return buf_add(out, num, (size_t)len);
}

static bool
put_u64(struct buf *out, uint64_t v)
{
	char num[32];
	int len;

	len = snprintf(num, sizeof(num), "%llu", (unsigned long long)v);
	if (len < 0 || (size_t)len >= sizeof(num))
		return false;
	return buf_add(out, num, (size_t)len);
}

bool
manifest_format_header(struct buf *out, const char *volume, int64_t created)
{
	size_t len0 = out->len;
	char line[64];
	int len;

	len = snprintf(line, sizeof(line), "%s %d\nvolume ", MAGIC,
	    MANIFEST_VERSION);
	if (len < 0 || (size_t)len >= sizeof(line))
		goto fail;
	if (!buf_add(out, line, (size_t)len) || !put_str(out, volume))
		goto fail;
	len = snprintf(line, sizeof(line), "\ncreated %lld\n",
	    (long long)created);
	if (len < 0 || (size_t)len >= sizeof(line) ||
	    !buf_add(out, line, (size_t)len))
		goto fail;
	return true;
fail:
	/* Leave 'out' as it was: no half line. */
	out->len = len0;
	if (out->data != NULL)
		out->data[len0] = '\0';
	return false;
}

bool
manifest_format_rec(struct buf *out, const struct manifest_rec *r)
{
	size_t len0 = out->len;
	size_t uidl_len = r->uidl_len;

	/* A caller that set uidl but not its length means the string. */
	if (uidl_len == 0 && r->uidl != NULL)
		uidl_len = strlen(r->uidl);
	if (!buf_add(out, "m\t", 2) ||
	    !put_str(out, r->kind == MANIFEST_REF ? "ref" : "stored") ||
	    !buf_add(out, "\t", 1) || !put_str(out, r->account) ||
	    !buf_add(out, "\t", 1) || !put_field(out, r->uidl, uidl_len) ||
	    !buf_add(out, "\t", 1) || !put_str(out, r->sha256) ||
	    !buf_add(out, "\t", 1) || !put_u64(out, r->size) ||
	    !buf_add(out, "\t", 1) || !put_i64(out, r->date) ||
	    !buf_add(out, "\t", 1) || !put_i64(out, r->date_off) ||
	    !buf_add(out, "\t", 1) || !put_str(out, r->date_src) ||
	    !buf_add(out, "\t", 1) || !put_str(out, r->message_id) ||
	    !buf_add(out, "\t", 1) || !put_str(out, r->entry) ||
	    !buf_add(out, "\t", 1) || !put_str(out, r->canon) ||
	    !buf_add(out, "\t", 1) || !put_i64(out, r->first_seen) ||
	    !buf_add(out, "\n", 1)) {
		out->len = len0;
		if (out->data != NULL)
			out->data[len0] = '\0';
		return false;
	}
	return true;
}

void
manifest_rec_clear(struct manifest_rec *r)
{
	free(r->account);
	free(r->uidl);
	free(r->date_src);
	free(r->message_id);
	free(r->entry);
	memset(r, 0, sizeof(*r));
}

void
manifest_rec_copy(struct manifest_rec *dst, const struct manifest_rec *src)
{
	*dst = *src;
	dst->account = xstrdup(src->account);
	dst->uidl = xmalloc(src->uidl_len + 1);
	memcpy(dst->uidl, src->uidl, src->uidl_len);
	dst->uidl[src->uidl_len] = '\0';
	dst->date_src = xstrdup(src->date_src);
	dst->message_id =
	    src->message_id != NULL ? xstrdup(src->message_id) : NULL;
	dst->entry = xstrdup(src->entry);
}

/* ---- reading --------------------------------------------------------- */

static int
unhex(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * Decode one field p[0..n) into a new string (*out, free()) of *outlen
 * bytes; "-" gives NULL.  A raw byte outside 0x21..0x7e, a bad escape or
 * an encoded NUL is an error.
 */
static enum pv_code
get_field(const char *p, size_t n, size_t line, const char *what, char **out,
    size_t *outlen, struct pv_err *err)
{
	char *s;
	size_t i, len = 0;

	if (n == 0)
		return pv_errf(err, PV_EPROTO, LINE_ERR "empty %s field", line,
		    what);
	if (n == 1 && p[0] == '-') {
		*out = NULL;
		*outlen = 0;
		return PV_OK;
	}
	s = xmalloc(n + 1);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		int hi, lo;

		if (c < 0x21 || c > 0x7e) {
			free(s);
			return pv_errf(err, PV_EPROTO,
			    LINE_ERR "%s: byte 0x%02x must be encoded", line,
			    what, c);
		}
		if (c != '%') {
			s[len++] = (char)c;
			continue;
		}
		hi = i + 2 < n ? unhex((unsigned char)p[i + 1]) : -1;
		lo = i + 2 < n ? unhex((unsigned char)p[i + 2]) : -1;
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
			free(s);
			return pv_errf(err, PV_EPROTO,
			    LINE_ERR "%s: bad %%-escape", line, what);
		}
		s[len++] = (char)(hi << 4 | lo);
		i += 2;
	}
	s[len] = '\0';
	*out = s;
	*outlen = len;
	return PV_OK;
}

/* A required, non-empty string field. */
static enum pv_code
get_string(const char *p, size_t n, size_t line, const char *what, char **out,
    struct pv_err *err)
{
	enum pv_code rc;
	size_t len;
	char *s;

	rc = get_field(p, n, line, what, &s, &len, err);
	if (rc != PV_OK)
		return rc;
	if (s == NULL)
		return pv_errf(err, PV_EPROTO, LINE_ERR "no %s", line, what);
	*out = s;
	return PV_OK;
}

/* Digits only (and a leading '-' if 'sign'): strtoll/strtoull would also
 * take white space, '+' and, for strtoull, a negation. */
static bool
plain_number(const char *p, size_t n, bool sign)
{
	size_t i = 0;

	if (sign && n > 0 && p[0] == '-')
		i = 1;
	if (i == n || n > 20)
		return false;
	for (; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return false;
	return true;
}

static enum pv_code
get_i64(const char *p, size_t n, size_t line, const char *what, int64_t *out,
    struct pv_err *err)
{
	char num[24], *end;
	long long v;

	if (!plain_number(p, n, true))
		return pv_errf(err, PV_EPROTO, LINE_ERR "%s: not a number",
		    line, what);
	memcpy(num, p, n);
	num[n] = '\0';
	errno = 0;
	v = strtoll(num, &end, 10);
	if (errno != 0 || end != num + n)
		return pv_errf(err, PV_EPROTO, LINE_ERR "%s: out of range",
		    line, what);
	*out = (int64_t)v;
	return PV_OK;
}

static enum pv_code
get_u64(const char *p, size_t n, size_t line, const char *what, uint64_t *out,
    struct pv_err *err)
{
	char num[24], *end;
	unsigned long long v;

	if (!plain_number(p, n, false))
		return pv_errf(err, PV_EPROTO, LINE_ERR "%s: not a number",
		    line, what);
	memcpy(num, p, n);
	num[n] = '\0';
	errno = 0;
	v = strtoull(num, &end, 10);
	if (errno != 0 || end != num + n)
		return pv_errf(err, PV_EPROTO, LINE_ERR "%s: out of range",
		    line, what);
	*out = (uint64_t)v;
	return PV_OK;
}

/* sha256 (required) or canon ("-" allowed): 64 lower-case hex digits. */
static enum pv_code
get_hash(const char *p, size_t n, size_t line, const char *what, bool optional,
    char out[65], struct pv_err *err)
{
	size_t i;

	if (optional && n == 1 && p[0] == '-') {
		out[0] = '\0';
		return PV_OK;
	}
	if (n != HASH_LEN)
		goto bad;
	/* Lower case only: one spelling per digest (and no digest.o, which
	 * would pull OpenSSL into a pure module). */
	for (i = 0; i < n; i++)
		if (!((p[i] >= '0' && p[i] <= '9') ||
		        (p[i] >= 'a' && p[i] <= 'f')))
			goto bad;
	memcpy(out, p, n);
	out[n] = '\0';
	return PV_OK;
bad:
	return pv_errf(err, PV_EPROTO,
	    LINE_ERR "%s: not 64 lower-case hex digits", line, what);
}

/* Split line p[0..n) at TABs into at most max fields. */
static size_t
split_tabs(const char *p, size_t n, const char **f, size_t *flen, size_t max)
{
	size_t nf = 0, start = 0, i;

	for (i = 0; i <= n; i++) {
		if (i < n && p[i] != '\t')
			continue;
		if (nf == max)
			return max + 1;
		f[nf] = p + start;
		flen[nf] = i - start;
		nf++;
		start = i + 1;
	}
	return nf;
}

static bool
field_is(const char *p, size_t n, const char *s)
{
	return n == strlen(s) && memcmp(p, s, n) == 0;
}

static enum pv_code
parse_rec(const char *p, size_t n, size_t line, struct manifest_rec *r,
    struct pv_err *err)
{
	const char *f[NFIELDS];
	size_t fl[NFIELDS], len;
	int64_t off;
	enum pv_code rc;

	if (split_tabs(p, n, f, fl, NFIELDS) != NFIELDS)
		return pv_errf(err, PV_EPROTO,
		    LINE_ERR "a record has %d TAB-separated fields", line,
		    NFIELDS);
	if (field_is(f[1], fl[1], "stored"))
		r->kind = MANIFEST_STORED;
	else if (field_is(f[1], fl[1], "ref"))
		r->kind = MANIFEST_REF;
	else
		return pv_errf(err, PV_EPROTO, LINE_ERR "unknown kind", line);
	rc = get_string(f[2], fl[2], line, "account", &r->account, err);
	if (rc != PV_OK)
		return rc;
	rc = get_field(f[3], fl[3], line, "uidl", &r->uidl, &r->uidl_len, err);
	if (rc != PV_OK)
		return rc;
	rc = get_hash(f[4], fl[4], line, "sha256", false, r->sha256, err);
	if (rc != PV_OK)
		return rc;
	rc = get_u64(f[5], fl[5], line, "size", &r->size, err);
	if (rc != PV_OK)
		return rc;
	rc = get_i64(f[6], fl[6], line, "date", &r->date, err);
	if (rc != PV_OK)
		return rc;
	rc = get_i64(f[7], fl[7], line, "date_off", &off, err);
	if (rc != PV_OK)
		return rc;
	if (off < -OFF_MAX || off > OFF_MAX)
		return pv_errf(err, PV_EPROTO,
		    LINE_ERR "date_off: out of range", line);
	r->date_off = (int)off;
	rc = get_string(f[8], fl[8], line, "date_src", &r->date_src, err);
	if (rc != PV_OK)
		return rc;
	if (strcmp(r->date_src, "received") != 0 &&
	    strcmp(r->date_src, "date") != 0 &&
	    strcmp(r->date_src, "fetched") != 0)
		return pv_errf(err, PV_EPROTO, LINE_ERR "unknown date_src",
		    line);
	rc = get_field(f[9], fl[9], line, "message-id", &r->message_id, &len,
	    err);
	if (rc != PV_OK)
		return rc;
	rc = get_string(f[10], fl[10], line, "entry", &r->entry, err);
	if (rc != PV_OK)
		return rc;
	if (r->kind == MANIFEST_REF && strchr(r->entry, '/') == NULL)
		return pv_errf(err, PV_EPROTO,
		    LINE_ERR "a ref entry is <volume>/<member>", line);
	rc = get_hash(f[11], fl[11], line, "canon", true, r->canon, err);
	if (rc != PV_OK)
		return rc;
	rc = get_i64(f[12], fl[12], line, "first_seen", &r->first_seen, err);
	if (rc != PV_OK)
		return rc;
	/* uidl "-" is an empty UIDL: give the callback "", not NULL. */
	if (r->uidl == NULL)
		r->uidl = xstrdup("");
	return PV_OK;
}

/* "<key> <value>" header line: the value's bytes. */
static bool
header_value(const char *p, size_t n, const char *key, const char **v,
    size_t *vlen)
{
	size_t k = strlen(key);

	if (n < k + 2 || memcmp(p, key, k) != 0 || p[k] != ' ')
		return false;
	*v = p + k + 1;
	*vlen = n - k - 1;
	return true;
}

enum pv_code
manifest_parse(const char *p, size_t n, char **volume, int64_t *created,
    enum pv_code (
        *rec)(void *arg, const struct manifest_rec *r, struct pv_err *err),
    void *arg, struct pv_err *err)
{
	struct manifest_rec r;
	const char *nl, *v;
	char *vol = NULL;
	int64_t cr = 0, version;
	size_t pos = 0, line = 0, len, vlen;
	enum pv_code rc = PV_OK;

	memset(&r, 0, sizeof(r));
	while (pos < n) {
		line++;
		nl = memchr(p + pos, '\n', n - pos);
		if (nl == NULL) {
			rc = pv_errf(err, PV_EPROTO,
			    LINE_ERR "no line end (manifest cut short?)", line);
			goto fail;
		}
		len = (size_t)(nl - (p + pos));
		if (line == 1) {
			if (!header_value(p + pos, len, MAGIC, &v, &vlen)) {
				rc = pv_errf(err, PV_EPROTO,
				    LINE_ERR "not a popvault manifest", line);
				goto fail;
			}
			rc = get_i64(v, vlen, line, "version", &version, err);
			if (rc != PV_OK)
				goto fail;
			if (version != MANIFEST_VERSION) {
				rc = pv_errf(err, PV_EPROTO,
				    LINE_ERR "unknown version %lld (this "
				             "program reads %d)",
				    line, (long long)version, MANIFEST_VERSION);
				goto fail;
			}
		} else if (line == 2) {
			if (!header_value(p + pos, len, "volume", &v, &vlen)) {
				rc = pv_errf(err, PV_EPROTO,
				    LINE_ERR "expected \"volume <name>\"",
				    line);
				goto fail;
			}
			rc = get_string(v, vlen, line, "volume", &vol, err);
			if (rc != PV_OK)
				goto fail;
		} else if (line == 3) {
			if (!header_value(p + pos, len, "created", &v, &vlen)) {
				rc = pv_errf(err, PV_EPROTO,
				    LINE_ERR "expected \"created <seconds>\"",
				    line);
				goto fail;
			}
			rc = get_i64(v, vlen, line, "created", &cr, err);
			if (rc != PV_OK)
				goto fail;
		} else {
			if (len < 2 || p[pos] != 'm' || p[pos + 1] != '\t') {
				rc = pv_errf(err, PV_EPROTO,
				    LINE_ERR "unknown line", line);
				goto fail;
			}
			rc = parse_rec(p + pos, len, line, &r, err);
			if (rc != PV_OK)
				goto fail;
			rc = rec(arg, &r, err);
			manifest_rec_clear(&r);
			if (rc != PV_OK)
				goto fail;
		}
		pos += len + 1;
	}
	if (line < 3) {
		rc = pv_errf(err, PV_EPROTO,
		    LINE_ERR "header incomplete (manifest cut short?)",
		    line + 1);
		goto fail;
	}
	*volume = vol;
	*created = cr;
	return PV_OK;
fail:
	manifest_rec_clear(&r);
	free(vol);
	return rc;
}
