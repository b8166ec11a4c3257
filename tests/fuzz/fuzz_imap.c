/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_imap.c - every IMAP parser of server bytes (imap_p.h) on
 * arbitrary input: the response reader fed in chunks whose sizes come
 * from the input (the responses must not depend on the cuts), then each
 * response through the status, CAPABILITY, LIST and FETCH parsers; and
 * modified UTF-7 both ways, which must round-trip.  Deterministic; no
 * network, no disk.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imap_p.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                 \
	do {                     \
		if (!(c))        \
			abort(); \
	} while (0)

static bool
inside(const char *p, size_t n, const char *q, size_t qn)
{
	return q >= p && q + qn <= p + n;
}

static void
fuzz_resp(const char *p, size_t n)
{
	struct imap_resp r;
	struct imap_fetch f;
	struct imap_caps caps;
	struct pv_err err;
	enum imap_scope scope;
	char name[IMAP_NAME_MAX], dec[IMAP_NAME_MAX], enc[IMAP_NAME_MAX * 4];
	size_t nl = 0, dl = 0, el = 0;
	unsigned flags;
	char delim;

	if (imap_parse_resp(p, n, &r, &err) != PV_OK)
		return;
	CHECK(inside(p, n, r.text, r.text_len));
	if (r.kind == IMAP_TAGGED)
		CHECK(inside(p, n, r.tag, r.tag_len) && r.tag_len > 0);
	if (r.code_args != NULL)
		CHECK(inside(p, n, r.code_args, r.code_args_len));
	if (r.rcode == IMAP_RC_APPENDUID) {
		uint32_t u[64];
		size_t k;

		CHECK(r.uidvalidity > 0 && r.uid > 0);
		CHECK(inside(p, n, r.uidset, r.uidset_len));
		k = imap_uidset_expand(r.uidset, r.uidset_len, u, 64);
		/* The first of the set is the uid the parser kept. */
		CHECK(k == SIZE_MAX || (k > 0 && k <= 64));
		if (k != SIZE_MAX &&
		    memchr(r.uidset, ':', r.uidset_len) == NULL)
			CHECK(u[0] == r.uid);
	}
	(void)imap_append_class(r.status, r.rcode, &scope);
	imap_parse_caps(r.text, r.text_len, &caps);
	if (imap_parse_fetch(&r, &f, &err) == PV_OK && f.has_hdr)
		CHECK(inside(p, n, f.hdr, f.hdr_len));
	if (imap_parse_list(r.text, r.text_len, &flags, &delim, name,
	        sizeof(name), &nl, &err) == PV_OK) {
		CHECK(nl < sizeof(name) && name[nl] == '\0');
		CHECK(memchr(name, '\0', nl) == NULL);
		if (imap_mutf7_decode(name, nl, dec, sizeof(dec), &dl, &err) ==
		    PV_OK) {
			CHECK(imap_mutf7_encode(dec, dl, enc, sizeof(enc), &el,
			          &err) == PV_OK);
		}
	}
}

static void
fuzz_reader(const char *in, size_t n, uint32_t seed)
{
	static char a[IMAP_RESP_MAX], b[IMAP_RESP_MAX];
	struct imap_rd whole, cut;
	struct pv_err err;
	size_t off = 0, woff = 0;

	imap_rd_init(&whole, a, sizeof(a));
	imap_rd_init(&cut, b, sizeof(b));
	while (woff < n) {
		size_t used = 0, end, at;
		enum pv_code rw;

		/* the whole rest at once */
		rw = imap_rd_feed(&whole, in + woff, n - woff, &used, &err);
		if (rw != PV_OK)
			return;
		CHECK(used <= n - woff);
		/* the same bytes in small pieces */
		end = woff + used;
		at = off;
		while (at < end) {
			size_t k, u2 = 0;

			seed ^= seed << 13;
			seed ^= seed >> 17;
			seed ^= seed << 5;
			k = 1 + seed % 17;
			if (k > end - at)
				k = end - at;
			CHECK(
			    imap_rd_feed(&cut, in + at, k, &u2, &err) == PV_OK);
			CHECK(u2 == k);
			at += u2;
		}
		off = at;
		woff = end;
		CHECK(imap_rd_done(&whole) == imap_rd_done(&cut));
		if (!imap_rd_done(&whole))
			return;
		CHECK(whole.len == cut.len &&
		      memcmp(whole.buf, cut.buf, whole.len) == 0);
		fuzz_resp(whole.buf, whole.len);
		imap_rd_reset(&whole);
		imap_rd_reset(&cut);
	}
}

static void
fuzz_mutf7(const char *in, size_t n)
{
	char m7[IMAP_NAME_MAX * 4], u8[IMAP_NAME_MAX * 4], q[IMAP_NAME_MAX * 4];
	size_t ml = 0, ul = 0, ql = 0;
	bool lit = false;
	struct pv_err err;

	if (n > IMAP_NAME_MAX)
		n = IMAP_NAME_MAX;
	/* UTF-8 in: must come back unchanged */
	if (imap_mutf7_encode(in, n, m7, sizeof(m7), &ml, &err) == PV_OK) {
		CHECK(imap_mutf7_decode(m7, ml, u8, sizeof(u8), &ul, &err) ==
		      PV_OK);
		CHECK(ul == n && memcmp(u8, in, n) == 0);
	}
	/* mUTF-7 in: decode, encode, decode gives the same UTF-8 */
	if (imap_mutf7_decode(in, n, u8, sizeof(u8), &ul, &err) == PV_OK) {
		char again[IMAP_NAME_MAX * 4];
		size_t al = 0;

		CHECK(imap_mutf7_encode(u8, ul, m7, sizeof(m7), &ml, &err) ==
		      PV_OK);
		CHECK(imap_mutf7_decode(m7, ml, again, sizeof(again), &al,
		          &err) == PV_OK);
		CHECK(al == ul && memcmp(again, u8, ul) == 0);
	}
	if (imap_quote(in, n, (n & 1) != 0, q, sizeof(q), &ql, &lit, &err) ==
	    PV_OK)
		CHECK(ql <= sizeof(q) && (lit || (ql >= 2 && q[0] == '"')));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	uint32_t seed = 2166136261u;
	char date[IMAP_DATE_LEN + 1];
	struct pv_err err;
	size_t i;

	for (i = 0; i < size; i++)
		seed = (seed ^ data[i]) * 16777619u;
	if (seed == 0)
		seed = 1;
	fuzz_reader(in, size, seed);
	fuzz_mutf7(in, size);
	if (size >= 10) {
		int64_t t;
		int16_t tz;

		memcpy(&t, data, sizeof(t));
		memcpy(&tz, data + 8, sizeof(tz));
		if (imap_format_date(t, tz, date, &err) == PV_OK)
			CHECK(strlen(date) == IMAP_DATE_LEN);
	}
	return 0;
}
