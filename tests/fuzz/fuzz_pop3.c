/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_pop3.c - every POP3 parser of server bytes (pop3_p.h)
 * and the trace redaction (net_p.h) on arbitrary input.  The streaming
 * body decoder is checked against a plain line-by-line reference decoder
 * while being fed in chunks whose sizes come from the input itself.
 * Deterministic; no network, no disk.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net_p.h"
#include "pop3_p.h"
#include "text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                 \
	do {                     \
		if (!(c))        \
			abort(); \
	} while (0)

/* The reference: RFC 1939 multi-line body, one line at a time. */
static size_t
ref_decode(const char *in, size_t n, char *out, size_t *outn, bool *done)
{
	size_t pos = 0, o = 0;

	*done = false;
	while (pos < n) {
		size_t k;

		if (in[pos] == '.') {
			if (pos + 2 < n && in[pos + 1] == '\r' &&
			    in[pos + 2] == '\n') {
				*done = true;
				pos += 3;
				break;
			}
			if (pos + 1 == n ||
			    (pos + 2 == n && in[pos + 1] == '\r'))
				break; /* cannot tell yet: held back */
			pos++;
		}
		for (k = pos; k + 1 < n; k++)
			if (in[k] == '\r' && in[k + 1] == '\n')
				break;
		if (k + 1 < n) {
			memcpy(out + o, in + pos, k + 2 - pos);
			o += k + 2 - pos;
			pos = k + 2;
		} else {
			memcpy(out + o, in + pos, n - pos);
			o += n - pos;
			pos = n;
		}
	}
	*outn = o;
	return pos;
}

static void
fuzz_decoder(const char *in, size_t n, uint32_t seed)
{
	char *want = malloc(n + 1), *got = malloc(n + 1);
	size_t wantn = 0, gotn = 0, off = 0, wantpos;
	bool wantdone;
	struct pop3_dec d;

	CHECK(want != NULL && got != NULL);
	wantpos = ref_decode(in, n, want, &wantn, &wantdone);
	pop3_dec_init(&d);
	while (off < n && !pop3_dec_done(&d)) {
		size_t chunk, end, at;

		seed ^= seed << 13;
		seed ^= seed >> 17;
		seed ^= seed << 5;
		chunk = (seed & 7) == 0 ? n : 1 + seed % 23;
		end = off + chunk < n ? off + chunk : n;
		at = off;
		while (at < end && !pop3_dec_done(&d)) {
			const char *o = NULL;
			size_t on = 0, used;

			used = pop3_dec_feed(&d, in + at, end - at, &o, &on);
			CHECK(used > 0 || on > 0);
			CHECK(used <= end - at);
			CHECK(gotn + on <= n);
			memcpy(got + gotn, o, on);
			gotn += on;
			at += used;
		}
		off = at;
	}
	CHECK(pop3_dec_done(&d) == wantdone);
	CHECK(gotn == wantn);
	CHECK(memcmp(got, want, gotn) == 0);
	if (wantdone)
		CHECK(off == wantpos);
	free(want);
	free(got);
}

static void
fuzz_line(const char *line, size_t n, struct net_redact *r, bool in)
{
	struct pop3_status st;
	struct pop3_caps caps;
	struct pv_err err;
	const char *u, *l = line;
	size_t num, ul, len = n, used;
	uint64_t sz;
	char out[POP3_TEXT_MAX], shown[128];

	if (pop3_parse_status(line, n, &st, &err) == PV_OK) {
		CHECK(st.text >= line && st.text + st.text_len == line + n);
		(void)pop3_rcode_class(st.rcode, PV_EPROTO);
	}
	(void)pop3_parse_rcode(line, n);
	memset(&caps, 0, sizeof(caps));
	pop3_parse_capa_line(line, n, &caps);
	if (pop3_parse_msgnum(line, n, &num, &used, &err) == PV_OK)
		CHECK(num >= 1 && num <= POP3_NUM_MAX && used <= n);
	if (pop3_parse_uidl_line(line, n, &num, &u, &ul, &err) == PV_OK) {
		CHECK(num >= 1 && num <= POP3_NUM_MAX);
		CHECK(ul >= 1 && ul <= POP3_UIDL_MAX);
		CHECK(u > line && u + ul == line + n);
		CHECK(
		    memchr(u, '\0', ul) == NULL && memchr(u, '\r', ul) == NULL);
	}
	if (pop3_parse_list_line(line, n, &num, &sz, &err) == PV_OK)
		CHECK(num >= 1 && num <= POP3_NUM_MAX);
	if (!pop3_unstuff_line(&l, &len))
		CHECK(len <= n);
	CHECK(text_sanitize(line, n, out, sizeof(out)) < sizeof(out));
	CHECK(strlen(out) < sizeof(out));
	CHECK(net_redact(r, in, line, n, shown, sizeof(shown)) < sizeof(shown));
	(void)net_is_refusal(r->proto, line, n);
	(void)net_login_class(r->proto, line, n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct net_redact r;
	uint32_t seed = 2166136261u;
	size_t i, start = 0, nline = 0;

	for (i = 0; i < size; i++)
		seed = (seed ^ data[i]) * 16777619u;
	if (seed == 0)
		seed = 1;
	fuzz_decoder(in, size, seed);

	net_redact_init(&r, size > 0 && (data[0] & 1) ? NET_IMAP : NET_POP3);
	for (i = 0; i <= size; i++) {
		if (i == size || data[i] == '\n') {
			size_t len = i - start;

			if (len > 0 && in[start + len - 1] == '\r')
				len--;
			/* alternate directions so exchanges start and end */
			fuzz_line(in + start, len, &r, (nline++ & 1) != 0);
			start = i + 1;
		}
	}
	return 0;
}
