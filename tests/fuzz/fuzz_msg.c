/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_msg.c - the message scanner on arbitrary bytes.  The
 * streaming scanner, fed in chunks whose sizes come from the input, is
 * checked against a plain whole-buffer reference of the same rules
 * (canonical content, Message-ID, Date, newest Received), and the date and
 * Message-ID parsers are run on the raw input with their invariants
 * checked.  Deterministic; no network, no disk.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                 \
	do {                     \
		if (!(c))        \
			abort(); \
	} while (0)

static const char *const trace[] = {"Received", "Return-Path", "Delivered-To",
    "X-Original-To", "X-Delivered-To", "Envelope-To", "X-Envelope-To", "Status",
    "X-Status", "X-UIDL", "X-Keywords", "X-Mozilla-Status", "X-Mozilla-Status2",
    "Content-Length", "Lines"};

struct out {
	unsigned char *p;
	size_t len;
	size_t cap;
	unsigned char last; /* last byte received, for the CRLF check */
};

static void
out_add(struct out *o, const void *p, size_t n)
{
	CHECK(o->len + n <= o->cap);
	memcpy(o->p + o->len, p, n);
	o->len += n;
}

static void
canon_cb(void *arg, const void *p, size_t n)
{
	struct out *o = arg;
	const unsigned char *b = p;
	size_t i;

	CHECK(n > 0);
	/* Every LF of the canonical content ends a CRLF. */
	for (i = 0; i < n; i++) {
		if (b[i] == '\n')
			CHECK((i > 0 ? b[i - 1] : o->last) == '\r');
	}
	o->last = b[n - 1];
	out_add(o, p, n);
}

static bool
ieq(const unsigned char *a, size_t n, const char *b)
{
	size_t i;

	if (n != strlen(b))
		return false;
	for (i = 0; i < n; i++) {
		unsigned char x = a[i], y = (unsigned char)b[i];

		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x + 32);
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char)(y + 32);
		if (x != y)
			return false;
	}
	return true;
}

/* ---- the reference: whole buffer, one rule at a time ---------------- */

struct ref {
	struct out canon;
	char *message_id;
	bool has_date;
	int64_t date;
	int date_off;
	bool has_received;
	int64_t received;
	int received_off;
};

/* Field f[0..n), line ends already CRLF. */
static void
ref_field(struct ref *r, const unsigned char *f, size_t n)
{
	size_t i, end, v;
	bool is_trace = false;
	int64_t t;
	int off;

	for (i = 0; i < n && f[i] != ':' && f[i] != '\n'; i++)
		;
	if (i == n || f[i] != ':') {
		out_add(&r->canon, f, n);
		return;
	}
	v = i + 1;
	end = i;
	while (end > 0 && (f[end - 1] == ' ' || f[end - 1] == '\t'))
		end--;
	for (i = 0; i < sizeof(trace) / sizeof(trace[0]); i++)
		if (ieq(f, end, trace[i]))
			is_trace = true;
	if (!is_trace)
		out_add(&r->canon, f, n);
	if (n > MSG_HEADER_KEEP)
		return; /* not parsed */
	if (ieq(f, end, "Received")) {
		const unsigned char *semi = NULL;

		for (i = v; i < n; i++)
			if (f[i] == ';')
				semi = f + i + 1;
		if (semi != NULL &&
		    msg_parse_date((const char *)semi, (size_t)(f + n - semi),
		        &t, &off) &&
		    (!r->has_received || t > r->received)) {
			r->has_received = true;
			r->received = t;
			r->received_off = off;
		}
	} else if (ieq(f, end, "Message-ID") && r->message_id == NULL) {
		r->message_id = msg_normalize_id((const char *)f + v, n - v);
	} else if (ieq(f, end, "Date") && !r->has_date &&
	           msg_parse_date((const char *)f + v, n - v, &t, &off)) {
		r->has_date = true;
		r->date = t;
		r->date_off = off;
	}
}

static void
ref_scan(struct ref *r, const unsigned char *m, size_t n)
{
	unsigned char *fld;
	size_t pos = 0, flen = 0;
	bool have = false, body = false;

	fld = malloc(2 * n + 2);
	CHECK(fld != NULL);
	while (pos < n) {
		/* One line: content m[pos..cend), terminated or not. */
		size_t lf = pos, cend;
		bool term;

		while (lf < n && m[lf] != '\n')
			lf++;
		term = lf < n;
		cend = term && lf > pos && m[lf - 1] == '\r' ? lf - 1 : lf;
		if (body) {
			out_add(&r->canon, m + pos, cend - pos);
			if (term)
				out_add(&r->canon, "\r\n", 2);
		} else if (cend == pos && term) {
			/* the empty line */
			if (have)
				ref_field(r, fld, flen);
			have = false;
			out_add(&r->canon, "\r\n", 2);
			body = true;
		} else {
			if (!(have && (m[pos] == ' ' || m[pos] == '\t'))) {
				if (have)
					ref_field(r, fld, flen);
				have = true;
				flen = 0;
			}
			memcpy(fld + flen, m + pos, cend - pos);
			flen += cend - pos;
			if (term) {
				memcpy(fld + flen, "\r\n", 2);
				flen += 2;
			}
		}
		pos = term ? lf + 1 : n;
	}
	if (have)
		ref_field(r, fld, flen);
	free(fld);
}

/* ---- the checks ------------------------------------------------------ */

static void
check_id(const char *id)
{
	size_t i, n;

	if (id == NULL)
		return;
	n = strlen(id);
	CHECK(n > 0 && n <= MSG_ID_MAX);
	for (i = 0; i < n; i++)
		CHECK((unsigned char)id[i] > 0x20 && id[i] != 0x7f);
}

static void
check_date(const uint8_t *data, size_t size)
{
	int64_t t = 1, t2 = 2;
	int off = 3, off2 = 4;

	if (!msg_parse_date((const char *)data, size, &t, &off)) {
		CHECK(t == 1 && off == 3); /* untouched */
		return;
	}
	/* years 1900..9999, zones within a day */
	CHECK(off > -24 * 60 && off < 24 * 60);
	CHECK(t >= -2208988800LL - 86400 && t <= 253402300800LL + 86400);
	/* deterministic */
	CHECK(msg_parse_date((const char *)data, size, &t2, &off2));
	CHECK(t == t2 && off == off2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ref ref;
	struct out o;
	struct msg_scan *s;
	struct msg_info mi;
	const uint8_t *m;
	size_t n, pos, pass;
	uint32_t x;
	char *id;

	check_date(data, size);
	id = msg_normalize_id((const char *)data, size);
	check_id(id);
	free(id);
	if (size < 1)
		return 0;

	/* The first byte seeds the chunk sizes; the rest is the message. */
	x = 0x9e3779b9u ^ data[0];
	m = data + 1;
	n = size - 1;

	memset(&ref, 0, sizeof(ref));
	ref.canon.cap = 2 * n + 2;
	ref.canon.p = malloc(ref.canon.cap);
	CHECK(ref.canon.p != NULL);
	ref_scan(&ref, m, n);
	check_id(ref.message_id);

	memset(&o, 0, sizeof(o));
	o.cap = 2 * n + 2;
	o.p = malloc(o.cap);
	CHECK(o.p != NULL);
	s = msg_scan_new(canon_cb, &o);
	for (pass = 0; pass < 3; pass++) {
		o.len = 0;
		o.last = 0;
		if (pass == 2) {
			/* a half-fed message, then reset: no trace left */
			msg_scan_feed(s, m, n / 2);
			msg_scan_reset(s);
			o.len = 0;
			o.last = 0;
		}
		for (pos = 0; pos < n;) {
			size_t k;

			if (pass == 0) {
				k = n;
			} else {
				x ^= x << 13;
				x ^= x >> 17;
				x ^= x << 5;
				k = 1 + x % 97;
				if (k > n - pos)
					k = n - pos;
			}
			msg_scan_feed(s, m + pos, k);
			pos += k;
		}
		msg_scan_end(s, &mi);
		CHECK(mi.size == n);
		CHECK(o.len == ref.canon.len);
		CHECK(o.len == 0 || memcmp(o.p, ref.canon.p, o.len) == 0);
		CHECK((mi.message_id == NULL) == (ref.message_id == NULL));
		CHECK(mi.message_id == NULL ||
		      strcmp(mi.message_id, ref.message_id) == 0);
		CHECK(mi.has_date == ref.has_date);
		CHECK(!mi.has_date ||
		      (mi.date == ref.date && mi.date_off == ref.date_off));
		CHECK(mi.has_received == ref.has_received);
		CHECK(!mi.has_received ||
		      (mi.received == ref.received &&
		          mi.received_off == ref.received_off));
		{
			int64_t t;
			int off;
			const char *src = msg_best_date(&mi, 5, &t, &off);

			CHECK(strcmp(src, "received") == 0 ||
			      strcmp(src, "date") == 0 ||
			      strcmp(src, "fetched") == 0);
		}
		msg_info_clear(&mi);
	}
	msg_scan_free(s);
	free(o.p);
	free(ref.canon.p);
	free(ref.message_id);
	return 0;
}
