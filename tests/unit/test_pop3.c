/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_pop3.c - the pure POP3 parsers (pop3_p.h) and the trace
 * redaction of net.c (net_p.h), fed canned and hostile byte streams.  The
 * network paths are covered by the integration tests against Dovecot.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_p.h"
#include "pop3_p.h"
#include "text.h"

/* ---- the streaming body decoder ---------------------------------------- */

struct decoded {
	char out[4096];
	size_t outn;
	size_t consumed;
	bool done;
};

/* Feed in[0..n) cut at the given positions (ascending), as the network
 * would deliver it, and collect what the decoder produces. */
static void
decode_cuts(const char *in, size_t n, const size_t *cuts, size_t ncuts,
    struct decoded *r)
{
	struct pop3_dec d;
	size_t from = 0, c;

	memset(r, 0, sizeof(*r));
	pop3_dec_init(&d);
	for (c = 0; c <= ncuts && !pop3_dec_done(&d); c++) {
		size_t to = c < ncuts ? cuts[c] : n;
		size_t off = from;

		while (off < to && !pop3_dec_done(&d)) {
			const char *out = NULL;
			size_t outn = 0, used;

			used =
			    pop3_dec_feed(&d, in + off, to - off, &out, &outn);
			/* progress: bytes consumed or bytes produced */
			assert_true(used > 0 || outn > 0);
			assert_true(used <= to - off);
			assert_true(r->outn + outn <= sizeof(r->out));
			memcpy(r->out + r->outn, out, outn);
			r->outn += outn;
			off += used;
		}
		r->consumed = off;
		from = to;
	}
	r->done = pop3_dec_done(&d);
}

/* Decode with no cut, with one cut at every position, with every pair of
 * cuts, and byte by byte: all must give the same, expected result. */
static void
check_decode(const char *in, size_t n, const char *want, size_t wantn,
    bool done, size_t consumed)
{
	struct decoded r;
	size_t i, j, cuts[2];
	size_t *each;

	decode_cuts(in, n, NULL, 0, &r);
	assert_int_equal(r.done, done);
	assert_int_equal(r.outn, wantn);
	assert_memory_equal(r.out, want, wantn);
	if (done)
		assert_int_equal(r.consumed, consumed);
	for (i = 0; i <= n; i++) {
		cuts[0] = i;
		decode_cuts(in, n, cuts, 1, &r);
		assert_int_equal(r.done, done);
		assert_int_equal(r.outn, wantn);
		assert_memory_equal(r.out, want, wantn);
		if (done)
			assert_int_equal(r.consumed, consumed);
		for (j = i; j <= n; j++) {
			cuts[1] = j;
			decode_cuts(in, n, cuts, 2, &r);
			assert_int_equal(r.done, done);
			assert_int_equal(r.outn, wantn);
			assert_memory_equal(r.out, want, wantn);
		}
	}
	each = malloc((n + 1) * sizeof(*each));
	assert_non_null(each);
	for (i = 0; i < n; i++)
		each[i] = i + 1;
	decode_cuts(in, n, each, n, &r);
	assert_int_equal(r.done, done);
	assert_int_equal(r.outn, wantn);
	assert_memory_equal(r.out, want, wantn);
	free(each);
}

#define CHECK_DECODE(in, want, done, consumed)                               \
	check_decode((in), sizeof(in) - 1, (want), sizeof(want) - 1, (done), \
	    (consumed))

static void
test_pop3_dec_keeps_crlf_and_drops_only_the_terminator(void **state)
{
	(void)state;
	CHECK_DECODE("Subject: x\r\n\r\nbody\r\n.\r\n",
	    "Subject: x\r\n\r\nbody\r\n", true, 23);
}

static void
test_pop3_dec_unstuffs_leading_dots(void **state)
{
	(void)state;
	CHECK_DECODE("..x\r\n..\r\n...\r\nend\r\n.\r\n",
	    ".x\r\n.\r\n..\r\nend\r\n", true, 22);
}

static void
test_pop3_dec_strips_an_unstuffed_leading_dot_as_rfc1939_says(void **state)
{
	(void)state;
	CHECK_DECODE(".x\r\n. y\r\n.\r\n", "x\r\n y\r\n", true, 12);
}

static void
test_pop3_dec_first_line_dot_is_an_empty_message(void **state)
{
	(void)state;
	CHECK_DECODE(".\r\n", "", true, 3);
}

static void
test_pop3_dec_empty_first_line_is_kept(void **state)
{
	(void)state;
	CHECK_DECODE("\r\n.\r\n", "\r\n", true, 5);
}

static void
test_pop3_dec_from_lines_pass_unchanged(void **state)
{
	(void)state;
	CHECK_DECODE("From me Mon\r\n>From x\r\nFrom\r\n.\r\n",
	    "From me Mon\r\n>From x\r\nFrom\r\n", true, 31);
}

static void
test_pop3_dec_bare_lf_and_cr_are_content_not_line_ends(void **state)
{
	(void)state;
	/* After a bare LF or CR no line starts: the dot stays. */
	CHECK_DECODE("a\n.b\r.c\r\n.\r\n", "a\n.b\r.c\r\n", true, 12);
	/* A bare LF right before ".\r\n" does not end the message. */
	CHECK_DECODE("a\n.\r\nz\r\n.\r\n", "a\n.\r\nz\r\n", true, 11);
	/* CR CR LF: the line does end at the CR LF. */
	CHECK_DECODE("x\r\r\n.y\r\n.\r\n", "x\r\r\ny\r\n", true, 11);
}

static void
test_pop3_dec_dot_cr_without_lf_keeps_the_cr(void **state)
{
	(void)state;
	CHECK_DECODE(".\rx\r\n.\r\n", "\rx\r\n", true, 8);
	CHECK_DECODE(".\r\r\n.\r\n", "\r\r\n", true, 7);
	CHECK_DECODE(".\n.\r\n", "\n.\r\n", false, 0);
}

static void
test_pop3_dec_passes_nul_bytes(void **state)
{
	static const char in[] = "a\0b\r\n\0\r\n.\0\r\n.\r\n";
	static const char want[] = "a\0b\r\n\0\r\n\0\r\n";

	(void)state;
	check_decode(in, sizeof(in) - 1, want, sizeof(want) - 1, true,
	    sizeof(in) - 1);
}

static void
test_pop3_dec_stops_at_the_terminator_leaving_the_next_reply(void **state)
{
	(void)state;
	CHECK_DECODE("abc\r\n.\r\n+OK 2 octets\r\n", "abc\r\n", true, 8);
	CHECK_DECODE(".\r\n.\r\n", "", true, 3);
}

static void
test_pop3_dec_without_terminator_is_not_done(void **state)
{
	(void)state;
	CHECK_DECODE("abc\r\n", "abc\r\n", false, 0);
	CHECK_DECODE("abc\r\n.", "abc\r\n", false, 0);
	CHECK_DECODE("abc\r\n.\r", "abc\r\n", false, 0);
	CHECK_DECODE("abc\r\n.\n", "abc\r\n\n", false, 0);
	CHECK_DECODE("", "", false, 0);
}

static void
test_pop3_dec_hands_over_big_spans_not_bytes(void **state)
{
	static char in[70000];
	struct pop3_dec d;
	const char *out = NULL;
	size_t outn = 0, used, i;

	(void)state;
	for (i = 0; i < sizeof(in); i++)
		in[i] = (i % 80 == 78) ? '\r' : (i % 80 == 79) ? '\n' : 'x';
	pop3_dec_init(&d);
	used = pop3_dec_feed(&d, in, sizeof(in), &out, &outn);
	assert_int_equal(used, sizeof(in));
	assert_int_equal(outn, sizeof(in));
	assert_ptr_equal(out, in);
	assert_false(pop3_dec_done(&d));
}

static void
test_pop3_dec_feed_after_done_consumes_nothing(void **state)
{
	struct pop3_dec d;
	const char *out = NULL;
	size_t outn = 1;

	(void)state;
	pop3_dec_init(&d);
	assert_int_equal(pop3_dec_feed(&d, ".\r\nX", 4, &out, &outn), 3);
	assert_true(pop3_dec_done(&d));
	assert_int_equal(pop3_dec_feed(&d, "X", 1, &out, &outn), 0);
	assert_int_equal(outn, 0);
}

/* ---- status lines and response codes ----------------------------------- */

static void
test_pop3_status_ok_and_err_give_text_and_code(void **state)
{
	struct pop3_status st;
	struct pv_err err;

	(void)state;
	assert_int_equal(pop3_parse_status("+OK", 3, &st, &err), PV_OK);
	assert_true(st.ok);
	assert_int_equal(st.text_len, 0);
	assert_int_equal(pop3_parse_status("+OK 2 messages", 14, &st, &err),
	    PV_OK);
	assert_true(st.ok);
	assert_int_equal(st.text_len, 10);
	assert_memory_equal(st.text, "2 messages", 10);
	assert_int_equal(st.rcode, POP3_RC_NONE);
	assert_int_equal(pop3_parse_status("-ERR [IN-USE] locked", 20, &st,
	                     &err),
	    PV_OK);
	assert_false(st.ok);
	assert_int_equal(st.rcode, POP3_RC_IN_USE);
	assert_memory_equal(st.text, "[IN-USE] locked", 15);
}

static void
test_pop3_status_rejects_anything_else(void **state)
{
	struct pop3_status st;
	struct pv_err err;

	(void)state;
	assert_int_equal(pop3_parse_status("", 0, &st, &err), PV_EPROTO);
	assert_int_equal(pop3_parse_status("-ER", 3, &st, &err), PV_EPROTO);
	assert_int_equal(pop3_parse_status("+O", 2, &st, &err), PV_EPROTO);
	assert_int_equal(pop3_parse_status("* OK", 4, &st, &err), PV_EPROTO);
	assert_int_equal(pop3_parse_status("hello\x1b[2J", 9, &st, &err),
	    PV_EPROTO);
	/* the quoted line cannot carry terminal escapes */
	assert_null(strchr(err.msg, '\x1b'));
}

static void
test_pop3_rcode_known_codes_case_insensitive_and_hierarchical(void **state)
{
	(void)state;
	assert_int_equal(pop3_parse_rcode("[IN-USE] x", 10), POP3_RC_IN_USE);
	assert_int_equal(pop3_parse_rcode("[in-use] x", 10), POP3_RC_IN_USE);
	assert_int_equal(pop3_parse_rcode("[LOGIN-DELAY]", 13),
	    POP3_RC_LOGIN_DELAY);
	assert_int_equal(pop3_parse_rcode("[SYS/TEMP] busy", 15),
	    POP3_RC_SYS_TEMP);
	assert_int_equal(pop3_parse_rcode("[SYS/TEMP/QUOTA] x", 18),
	    POP3_RC_SYS_TEMP);
	assert_int_equal(pop3_parse_rcode("[SYS/PERM] no", 13),
	    POP3_RC_SYS_PERM);
	assert_int_equal(pop3_parse_rcode("[AUTH] Authentication failed.", 29),
	    POP3_RC_AUTH);
}

static void
test_pop3_rcode_unknown_or_malformed_is_none(void **state)
{
	(void)state;
	assert_int_equal(pop3_parse_rcode("", 0), POP3_RC_NONE);
	assert_int_equal(pop3_parse_rcode("[", 1), POP3_RC_NONE);
	assert_int_equal(pop3_parse_rcode("[IN-USE", 7), POP3_RC_NONE);
	assert_int_equal(pop3_parse_rcode("[IN-USEX] x", 11), POP3_RC_NONE);
	assert_int_equal(pop3_parse_rcode("[SYS] x", 7), POP3_RC_NONE);
	assert_int_equal(pop3_parse_rcode("x [IN-USE]", 10), POP3_RC_NONE);
	assert_int_equal(pop3_parse_rcode("[FOO] x", 7), POP3_RC_NONE);
	/* n bounds the search even if the bytes go on */
	assert_int_equal(pop3_parse_rcode("[IN-USE]", 5), POP3_RC_NONE);
}

static void
test_pop3_rcode_class_busy_temp_and_default(void **state)
{
	(void)state;
	assert_int_equal(pop3_rcode_class(POP3_RC_IN_USE, PV_EAUTH), PV_EBUSY);
	assert_int_equal(pop3_rcode_class(POP3_RC_LOGIN_DELAY, PV_EAUTH),
	    PV_EBUSY);
	assert_int_equal(pop3_rcode_class(POP3_RC_SYS_TEMP, PV_EAUTH), PV_ENET);
	assert_int_equal(pop3_rcode_class(POP3_RC_AUTH, PV_EAUTH), PV_EAUTH);
	assert_int_equal(pop3_rcode_class(POP3_RC_NONE, PV_EPROTO), PV_EPROTO);
	assert_int_equal(pop3_rcode_class(POP3_RC_SYS_PERM, PV_EPROTO),
	    PV_EPROTO);
}

/* ---- CAPA --------------------------------------------------------------- */

static void
test_pop3_capa_sets_only_known_keywords(void **state)
{
	struct pop3_caps caps;
	static const char *lines[] = {"TOP", "USER", "SASL PLAIN LOGIN",
	    "RESP-CODES", "LOGIN-DELAY 900", "pipelining", "UIDL",
	    "IMPLEMENTATION Dovecot", "PIPELININGX", ""};
	size_t i;

	(void)state;
	memset(&caps, 0, sizeof(caps));
	pop3_parse_capa_line("PIPELININGX", 11, &caps);
	pop3_parse_capa_line("UIDLS", 5, &caps);
	assert_false(caps.pipelining);
	assert_false(caps.uidl);
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		pop3_parse_capa_line(lines[i], strlen(lines[i]), &caps);
	assert_true(caps.pipelining);
	assert_true(caps.uidl);
	assert_true(caps.top);
	assert_true(caps.resp_codes);
	assert_false(caps.capa); /* pop3.c sets that one, not lines */
}

/* ---- UIDL and LIST lines ------------------------------------------------ */

static void
test_pop3_uidl_line_takes_the_rest_of_the_line_verbatim(void **state)
{
	struct pv_err err;
	const char *u = NULL;
	size_t num = 0, ul = 0;

	(void)state;
	assert_int_equal(pop3_parse_uidl_line("1 000000017c2bd6e3", 18, &num,
	                     &u, &ul, &err),
	    PV_OK);
	assert_int_equal(num, 1);
	assert_int_equal(ul, 16);
	assert_memory_equal(u, "000000017c2bd6e3", 16);
	assert_int_equal(pop3_parse_uidl_line("12 a b\tc ", 9, &num, &u, &ul,
	                     &err),
	    PV_OK);
	assert_int_equal(num, 12);
	assert_int_equal(ul, 6);
	assert_memory_equal(u, "a b\tc ", 6);
	assert_int_equal(pop3_parse_uidl_line("3  \x01\x7f\xff", 6, &num, &u,
	                     &ul, &err),
	    PV_OK);
	assert_int_equal(ul, 3);
	assert_int_equal(pop3_parse_uidl_line("007 x", 5, &num, &u, &ul, &err),
	    PV_OK);
	assert_int_equal(num, 7);
}

static void
test_pop3_uidl_line_rejects_hostile_lines(void **state)
{
	struct pv_err err;
	const char *u = NULL;
	size_t num = 99, ul = 99;
	char line[POP3_UIDL_MAX + 16];

	(void)state;
	assert_int_equal(pop3_parse_uidl_line("", 0, &num, &u, &ul, &err),
	    PV_EPROTO);
	assert_int_equal(pop3_parse_uidl_line("1", 1, &num, &u, &ul, &err),
	    PV_EPROTO);
	assert_int_equal(pop3_parse_uidl_line("1 ", 2, &num, &u, &ul, &err),
	    PV_EPROTO);
	assert_int_equal(pop3_parse_uidl_line("0 abc", 5, &num, &u, &ul, &err),
	    PV_EPROTO);
	assert_int_equal(pop3_parse_uidl_line("-1 abc", 6, &num, &u, &ul, &err),
	    PV_EPROTO);
	assert_int_equal(pop3_parse_uidl_line("+1 abc", 6, &num, &u, &ul, &err),
	    PV_EPROTO);
	assert_int_equal(pop3_parse_uidl_line("1x abc", 6, &num, &u, &ul, &err),
	    PV_EPROTO);
	assert_int_equal(pop3_parse_uidl_line("abc", 3, &num, &u, &ul, &err),
	    PV_EPROTO);
	assert_int_equal(pop3_parse_uidl_line("99999999999999999999999 a", 25,
	                     &num, &u, &ul, &err),
	    PV_EPROTO);
	assert_int_equal(pop3_parse_uidl_line("100000001 a", 11, &num, &u, &ul,
	                     &err),
	    PV_EPROTO);
	assert_int_equal(pop3_parse_uidl_line("1 a\0b", 5, &num, &u, &ul, &err),
	    PV_EPROTO);
	assert_int_equal(pop3_parse_uidl_line("1 a\rb", 5, &num, &u, &ul, &err),
	    PV_EPROTO);
	/* exactly the limit is fine, one more is not */
	memset(line, 'u', sizeof(line));
	memcpy(line, "1 ", 2);
	assert_int_equal(pop3_parse_uidl_line(line, 2 + POP3_UIDL_MAX, &num, &u,
	                     &ul, &err),
	    PV_OK);
	assert_int_equal(ul, POP3_UIDL_MAX);
	num = 99;
	ul = 99;
	assert_int_equal(pop3_parse_uidl_line(line, 3 + POP3_UIDL_MAX, &num, &u,
	                     &ul, &err),
	    PV_EPROTO);
	/* out-parameters untouched on failure */
	assert_int_equal(num, 99);
	assert_int_equal(ul, 99);
	assert_int_equal(err.code, PV_EPROTO);
}

static void
test_pop3_list_line_parses_number_and_size(void **state)
{
	struct pv_err err;
	size_t num = 0;
	uint64_t size = 0;

	(void)state;
	assert_int_equal(pop3_parse_list_line("1 120", 5, &num, &size, &err),
	    PV_OK);
	assert_int_equal(num, 1);
	assert_int_equal(size, 120);
	assert_int_equal(pop3_parse_list_line("2 0 extra info", 14, &num, &size,
	                     &err),
	    PV_OK);
	assert_int_equal(size, 0);
	assert_int_equal(pop3_parse_list_line("3 18446744073709551615", 22,
	                     &num, &size, &err),
	    PV_OK);
	assert_true(size == UINT64_MAX);
}

static void
test_pop3_list_line_rejects_overflow_and_garbage(void **state)
{
	static const char *bad[] = {"", "1", "1 ", "0 5", "a 5", "1 a", "1 12a",
	    "1 -5", "1 +5", "1 18446744073709551616",
	    "1 99999999999999999999999", "1x 5", "100000001 5"};
	struct pv_err err;
	size_t num = 77, i;
	uint64_t size = 77;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(pop3_parse_list_line(bad[i], strlen(bad[i]),
		                     &num, &size, &err),
		    PV_EPROTO);
	assert_int_equal(num, 77);
	assert_int_equal(size, 77);
}

static void
test_pop3_unstuff_line_terminator_and_dots(void **state)
{
	const char *l;
	size_t n;

	(void)state;
	l = ".";
	n = 1;
	assert_true(pop3_unstuff_line(&l, &n));
	l = "..";
	n = 2;
	assert_false(pop3_unstuff_line(&l, &n));
	assert_int_equal(n, 1);
	assert_memory_equal(l, ".", 1);
	l = "1 abc";
	n = 5;
	assert_false(pop3_unstuff_line(&l, &n));
	assert_int_equal(n, 5);
	l = "";
	n = 0;
	assert_false(pop3_unstuff_line(&l, &n));
}

static void
test_text_escape_shows_any_bytes_bounded(void **state)
{
	char out[32], small[16];

	(void)state;
	assert_string_equal(text_escape("ab\\c\x01 d", 7, out, sizeof(out)),
	    "ab\\x5cc\\x01\\x20d");
	/* Cut where four more bytes might not fit, marked "...". */
	assert_string_equal(text_escape("0123456789abcdefghij", 20, small,
	                        sizeof(small)),
	    "0123456789a...");
}

static void
test_text_sanitize_replaces_controls_and_bounds_length(void **state)
{
	char out[16];
	size_t n;

	(void)state;
	n = text_sanitize("a\x1b[31mb\r\n\x7f", 10, out, sizeof(out));
	assert_string_equal(out, "a?[31mb???");
	assert_int_equal(n, 10);
	n = text_sanitize("0123456789abcdefghij", 20, out, sizeof(out));
	assert_string_equal(out, "0123456789ab...");
	assert_int_equal(n, 15);
	n = text_sanitize("x", 1, out, 1);
	assert_int_equal(n, 0);
	assert_string_equal(out, "");
}

/* ---- redaction of the trace (net_p.h) ---------------------------------- */

static const char *
red(struct net_redact *r, bool in, const char *line)
{
	static char out[256];

	(void)net_redact(r, in, line, strlen(line), out, sizeof(out));
	return out;
}

static void
test_redact_pop3_pass_and_apop_hide_the_secret(void **state)
{
	struct net_redact r;

	(void)state;
	net_redact_init(&r, NET_POP3);
	assert_string_equal(red(&r, false, "USER alice"), "USER alice");
	assert_string_equal(red(&r, false, "PASS s3cret word"),
	    "PASS " NET_REDACTED);
	assert_string_equal(red(&r, false, "pass s3cret"),
	    "pass " NET_REDACTED);
	assert_string_equal(red(&r, false, "APOP alice c4c9334bac560ecc979e5"),
	    "APOP alice " NET_REDACTED);
	assert_string_equal(red(&r, false, "RETR 1"), "RETR 1");
	assert_string_equal(red(&r, true, "-ERR [AUTH] Authentication failed."),
	    "-ERR [AUTH] Authentication failed.");
}

static void
test_redact_pop3_sasl_initial_response_and_continuations(void **state)
{
	struct net_redact r;

	(void)state;
	net_redact_init(&r, NET_POP3);
	assert_string_equal(red(&r, false, "AUTH PLAIN AGFsaWNlAHMzY3JldA=="),
	    "AUTH PLAIN " NET_REDACTED);
	assert_string_equal(red(&r, true, "+OK Logged in."), "+OK Logged in.");
	assert_string_equal(red(&r, false, "CAPA"), "CAPA");

	assert_string_equal(red(&r, false, "AUTH LOGIN"), "AUTH LOGIN");
	assert_string_equal(red(&r, true, "+ VXNlcm5hbWU6"), "+ VXNlcm5hbWU6");
	assert_string_equal(red(&r, false, "YWxpY2U="), NET_REDACTED);
	assert_string_equal(red(&r, true, "+ UGFzc3dvcmQ6"), "+ UGFzc3dvcmQ6");
	assert_string_equal(red(&r, false, "czNjcmV0"), NET_REDACTED);
	assert_string_equal(red(&r, true, "-ERR [AUTH] Authentication failed."),
	    "-ERR [AUTH] Authentication failed.");
	/* the exchange is over: commands show again */
	assert_string_equal(red(&r, false, "QUIT"), "QUIT");
	/* bare "AUTH" (list mechanisms) starts no exchange */
	assert_string_equal(red(&r, false, "AUTH"), "AUTH");
	assert_string_equal(red(&r, false, "STAT"), "STAT");
}

static void
test_redact_imap_login_and_authenticate(void **state)
{
	struct net_redact r;

	(void)state;
	net_redact_init(&r, NET_IMAP);
	assert_string_equal(red(&r, false, "A001 CAPABILITY"),
	    "A001 CAPABILITY");
	assert_string_equal(red(&r, false, "A002 LOGIN alice \"s3cret\""),
	    "A002 LOGIN " NET_REDACTED);
	assert_string_equal(red(&r, true, "A002 OK Logged in"),
	    "A002 OK Logged in");
	assert_string_equal(red(&r, false, "A003 AUTHENTICATE PLAIN AGFsaWNl"),
	    "A003 AUTHENTICATE PLAIN " NET_REDACTED);
	assert_string_equal(red(&r, true, "A003 NO [AUTHENTICATIONFAILED] x"),
	    "A003 NO [AUTHENTICATIONFAILED] x");
	assert_string_equal(red(&r, false, "A004 authenticate login"),
	    "A004 authenticate login");
	assert_string_equal(red(&r, true, "+ VXNlcm5hbWU6"), "+ VXNlcm5hbWU6");
	assert_string_equal(red(&r, false, "YWxpY2U="), NET_REDACTED);
	/* untagged data does not end the exchange */
	assert_string_equal(red(&r, true, "* CAPABILITY IMAP4rev1"),
	    "* CAPABILITY IMAP4rev1");
	assert_string_equal(red(&r, false, "czNjcmV0"), NET_REDACTED);
	assert_string_equal(red(&r, true, "A004 OK done"), "A004 OK done");
	assert_string_equal(red(&r, false, "A005 SELECT INBOX"),
	    "A005 SELECT INBOX");
}

static void
test_redact_output_is_bounded_and_free_of_controls(void **state)
{
	struct net_redact r;
	char out[12];
	size_t n;

	(void)state;
	net_redact_init(&r, NET_POP3);
	n = net_redact(&r, true, "+OK \x1b[2Jhello world",
	    strlen("+OK \x1b[2Jhello world"), out, sizeof(out));
	assert_int_equal(n, sizeof(out) - 1);
	assert_null(strchr(out, '\x1b'));
	/* a redacted secret is never partly shown, however small dst is */
	n = net_redact(&r, false, "PASS abcdefghijklmnop", 21, out,
	    sizeof(out));
	assert_null(strstr(out, "abc"));
}

static void
test_login_refusal_classified_by_response_code(void **state)
{
	(void)state;
	assert_int_equal(net_login_class(NET_POP3,
	                     "-ERR [AUTH] Authentication failed.", 34),
	    PV_EAUTH);
	assert_int_equal(net_login_class(NET_POP3,
	                     "-ERR [IN-USE] Mailbox locked", 28),
	    PV_EBUSY);
	assert_int_equal(net_login_class(NET_POP3,
	                     "-ERR [LOGIN-DELAY] wait 15 minutes", 34),
	    PV_EBUSY);
	assert_int_equal(net_login_class(NET_POP3, "-ERR [SYS/TEMP] try later",
	                     25),
	    PV_ENET);
	assert_int_equal(net_login_class(NET_POP3, "-ERR nope", 9), PV_EAUTH);
	assert_int_equal(net_login_class(NET_IMAP, "A1 NO [INUSE] locked", 20),
	    PV_EBUSY);
	assert_int_equal(net_login_class(NET_IMAP, "A1 NO [UNAVAILABLE] later",
	                     25),
	    PV_ENET);
	assert_int_equal(net_login_class(NET_IMAP,
	                     "A1 NO [AUTHENTICATIONFAILED] no", 31),
	    PV_EAUTH);
}

static void
test_refusal_lines_per_protocol(void **state)
{
	(void)state;
	assert_true(net_is_refusal(NET_POP3, "-ERR x", 6));
	assert_false(net_is_refusal(NET_POP3, "+OK", 3));
	assert_false(net_is_refusal(NET_POP3, "", 0));
	assert_true(net_is_refusal(NET_IMAP, "A001 NO x", 9));
	assert_true(net_is_refusal(NET_IMAP, "A001 BAD x", 10));
	assert_true(net_is_refusal(NET_IMAP, "* BYE bye", 9));
	assert_false(net_is_refusal(NET_IMAP, "* NO warning", 12));
	assert_false(net_is_refusal(NET_IMAP, "+ go", 4));
	assert_false(net_is_refusal(NET_IMAP, "A001 OK", 7));
	assert_false(net_is_refusal(NET_IMAP, "", 0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
	        test_pop3_dec_keeps_crlf_and_drops_only_the_terminator),
	    cmocka_unit_test(test_pop3_dec_unstuffs_leading_dots),
	    cmocka_unit_test(
	        test_pop3_dec_strips_an_unstuffed_leading_dot_as_rfc1939_says),
	    cmocka_unit_test(test_pop3_dec_first_line_dot_is_an_empty_message),
	    cmocka_unit_test(test_pop3_dec_empty_first_line_is_kept),
	    cmocka_unit_test(test_pop3_dec_from_lines_pass_unchanged),
	    cmocka_unit_test(
	        test_pop3_dec_bare_lf_and_cr_are_content_not_line_ends),
	    cmocka_unit_test(test_pop3_dec_dot_cr_without_lf_keeps_the_cr),
	    cmocka_unit_test(test_pop3_dec_passes_nul_bytes),
	    cmocka_unit_test(
	        test_pop3_dec_stops_at_the_terminator_leaving_the_next_reply),
	    cmocka_unit_test(test_pop3_dec_without_terminator_is_not_done),
	    cmocka_unit_test(test_pop3_dec_hands_over_big_spans_not_bytes),
	    cmocka_unit_test(test_pop3_dec_feed_after_done_consumes_nothing),
	    cmocka_unit_test(test_pop3_status_ok_and_err_give_text_and_code),
	    cmocka_unit_test(test_pop3_status_rejects_anything_else),
	    cmocka_unit_test(
	        test_pop3_rcode_known_codes_case_insensitive_and_hierarchical),
	    cmocka_unit_test(test_pop3_rcode_unknown_or_malformed_is_none),
	    cmocka_unit_test(test_pop3_rcode_class_busy_temp_and_default),
	    cmocka_unit_test(test_pop3_capa_sets_only_known_keywords),
	    cmocka_unit_test(
	        test_pop3_uidl_line_takes_the_rest_of_the_line_verbatim),
	    cmocka_unit_test(test_pop3_uidl_line_rejects_hostile_lines),
	    cmocka_unit_test(test_pop3_list_line_parses_number_and_size),
	    cmocka_unit_test(test_pop3_list_line_rejects_overflow_and_garbage),
	    cmocka_unit_test(test_pop3_unstuff_line_terminator_and_dots),
	    cmocka_unit_test(
	        test_text_sanitize_replaces_controls_and_bounds_length),
	    cmocka_unit_test(test_text_escape_shows_any_bytes_bounded),
	    cmocka_unit_test(test_redact_pop3_pass_and_apop_hide_the_secret),
	    cmocka_unit_test(
	        test_redact_pop3_sasl_initial_response_and_continuations),
	    cmocka_unit_test(test_redact_imap_login_and_authenticate),
	    cmocka_unit_test(
	        test_redact_output_is_bounded_and_free_of_controls),
	    cmocka_unit_test(test_login_refusal_classified_by_response_code),
	    cmocka_unit_test(test_refusal_lines_per_protocol),
	};

	return cmocka_run_group_tests_name("pop3", tests, NULL, NULL);
}
