/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_imap.c - the pure IMAP parsers and encoders (imap_p.h):
 * the response reader fed in every possible cut, status and response
 * codes, CAPABILITY, LIST, FETCH, modified UTF-7 both ways, quoting and
 * INTERNALDATE.  The network paths are covered against Dovecot.
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

#include "imap_p.h"

#define S(lit) (lit), (sizeof(lit) - 1)

/* ---- the response reader ------------------------------------------------ */

struct got {
	char buf[IMAP_RESP_MAX];
	size_t len;
	size_t consumed;
	bool done;
	enum pv_code rc;
};

/* Feed in[0..n) in chunks of 'step' bytes; stop at the first response. */
static void
read_steps(const char *in, size_t n, size_t step, struct got *g)
{
	struct imap_rd r;
	struct pv_err err;
	size_t off = 0;

	memset(g, 0, sizeof(*g));
	imap_rd_init(&r, g->buf, sizeof(g->buf));
	while (off < n && !imap_rd_done(&r)) {
		size_t k = n - off < step ? n - off : step, used = 0;

		g->rc = imap_rd_feed(&r, in + off, k, &used, &err);
		if (g->rc != PV_OK)
			return;
		assert_true(used <= k);
		assert_true(used > 0 || imap_rd_done(&r));
		off += used;
	}
	g->len = r.len;
	g->consumed = off;
	g->done = imap_rd_done(&r);
}

static void
check_read(const char *in, size_t n, const char *want, size_t wantn,
    size_t consumed)
{
	struct got *g = malloc(sizeof(*g));
	size_t step;

	assert_non_null(g);
	for (step = 1; step <= n; step++) {
		read_steps(in, n, step, g);
		assert_int_equal(g->rc, PV_OK);
		assert_true(g->done);
		assert_int_equal(g->len, wantn);
		assert_memory_equal(g->buf, want, wantn);
		assert_int_equal(g->consumed, consumed);
	}
	free(g);
}

static void
test_imap_rd_one_line_without_its_line_end(void **state)
{
	(void)state;
	check_read(S("* OK ready\r\npv1 OK done\r\n"), S("* OK ready"), 12);
	check_read(S("pv1 OK done\n"), S("pv1 OK done"), 12);
}

static void
test_imap_rd_literal_holding_a_tagged_line_and_crlf(void **state)
{
	static const char in[] = "* 1 FETCH (UID 7 BODY[HEADER.FIELDS "
	                         "(MESSAGE-ID)] {19}\r\npv5 OK x\r\n\r\nA005 "
	                         "OK)\r\npv5 OK done\r\n";
	static const char want[] = "* 1 FETCH (UID 7 BODY[HEADER.FIELDS "
	                           "(MESSAGE-ID)] {19}\r\npv5 OK x\r\n\r\nA005 "
	                           "OK)";

	(void)state;
	check_read(in, sizeof(in) - 1, want, sizeof(want) - 1,
	    sizeof(want) - 1 + 2);
}

static void
test_imap_rd_literal_plus_and_empty_literal(void **state)
{
	(void)state;
	check_read(S("* LIST () \"/\" {3+}\r\na b\r\n"),
	    S("* LIST () \"/\" {3+}\r\na b"), 25);
	check_read(S("* X {0}\r\n rest\r\n"), S("* X {0}\r\n rest"), 16);
}

static void
test_imap_rd_rejects_long_lines_and_big_literals(void **state)
{
	struct got *g = malloc(sizeof(*g));
	char *big = malloc(IMAP_LINE_MAX + 10);
	static const char lit[] = "* 1 FETCH (BODY[] {65537}\r\n";

	(void)state;
	assert_non_null(g);
	assert_non_null(big);
	memset(big, 'a', IMAP_LINE_MAX + 10);
	read_steps(big, IMAP_LINE_MAX + 10, 4096, g);
	assert_int_equal(g->rc, PV_EPROTO);
	read_steps(lit, sizeof(lit) - 1, 5, g);
	assert_int_equal(g->rc, PV_EPROTO);
	read_steps(S("* 1 FETCH (BODY[] {99999999999999999999}\r\n"), 7, g);
	assert_int_equal(g->rc, PV_EPROTO);
	free(g);
	free(big);
}

static void
test_imap_rd_unfinished_is_not_done(void **state)
{
	struct got g;

	(void)state;
	read_steps(S("* 1 FETCH (BODY[] {10}\r\nabc"), 3, &g);
	assert_int_equal(g.rc, PV_OK);
	assert_false(g.done);
	read_steps(S("pv1 OK"), 3, &g);
	assert_false(g.done);
}

/* ---- responses and codes ------------------------------------------------ */

static void
parse(const char *p, size_t n, struct imap_resp *r)
{
	struct pv_err err;

	assert_int_equal(imap_parse_resp(p, n, r, &err), PV_OK);
}

static void
test_imap_resp_tagged_appenduid(void **state)
{
	struct imap_resp r;

	(void)state;
	parse(S("pv12 OK [APPENDUID 1700000000 42] Append completed."), &r);
	assert_int_equal(r.kind, IMAP_TAGGED);
	assert_memory_equal(r.tag, "pv12", 4);
	assert_int_equal(r.tag_len, 4);
	assert_int_equal(r.status, IMAP_OK);
	assert_int_equal(r.rcode, IMAP_RC_APPENDUID);
	assert_int_equal(r.uidvalidity, 1700000000u);
	assert_int_equal(r.uid, 42);
	assert_int_equal(r.text_len, strlen("Append completed."));
	assert_memory_equal(r.text, "Append completed.", r.text_len);
}

/* After a MULTIAPPEND: the whole set, expanded in order. */
static void
test_imap_appenduid_set_expands(void **state)
{
	struct imap_resp r;
	uint32_t u[8];

	(void)state;
	parse(S("pv3 OK [APPENDUID 7 5:7,9,12:11] done"), &r);
	assert_int_equal(r.rcode, IMAP_RC_APPENDUID);
	assert_int_equal(r.uid, 5);
	assert_int_equal(r.uidset_len, strlen("5:7,9,12:11"));
	assert_int_equal(imap_uidset_expand(r.uidset, r.uidset_len, u, 8), 6);
	assert_int_equal(u[0], 5);
	assert_int_equal(u[2], 7);
	assert_int_equal(u[3], 9);
	assert_int_equal(u[4], 11); /* "12:11" is 11 and 12 */
	assert_int_equal(u[5], 12);
	assert_int_equal(imap_uidset_expand(S("42"), u, 1), 1);
	assert_int_equal(u[0], 42);
	/* Malformed, zero, or more than the caller has room for. */
	assert_int_equal(imap_uidset_expand(S("5:7"), u, 2), SIZE_MAX);
	assert_int_equal(imap_uidset_expand(S("0"), u, 8), SIZE_MAX);
	assert_int_equal(imap_uidset_expand(S("3:0"), u, 8), SIZE_MAX);
	assert_int_equal(imap_uidset_expand(S("3,"), u, 8), SIZE_MAX);
	assert_int_equal(imap_uidset_expand(S(",3"), u, 8), SIZE_MAX);
	assert_int_equal(imap_uidset_expand(S("3:*"), u, 8), SIZE_MAX);
	assert_int_equal(imap_uidset_expand(S("1:4294967295"), u, 8), SIZE_MAX);
	assert_int_equal(imap_uidset_expand(S(""), u, 8), SIZE_MAX);
}

static void
test_imap_resp_codes_are_recognized(void **state)
{
	static const struct {
		const char *line;
		enum imap_status st;
		enum imap_rcode rc;
	} cases[] = {
	    {"pv1 NO [TRYCREATE] Mailbox doesn't exist", IMAP_NO,
	        IMAP_RC_TRYCREATE},
	    {"pv1 NO [OVERQUOTA] Quota exceeded", IMAP_NO, IMAP_RC_OVERQUOTA},
	    {"pv1 NO [LIMIT] too big", IMAP_NO, IMAP_RC_LIMIT},
	    {"pv1 no [toobig] x", IMAP_NO, IMAP_RC_TOOBIG},
	    {"* OK [ALERT] read this", IMAP_OK, IMAP_RC_ALERT},
	    {"* OK [UIDVALIDITY 3857529045] UIDs valid", IMAP_OK,
	        IMAP_RC_UIDVALIDITY},
	    {"* OK [CAPABILITY IMAP4rev1 LITERAL+] hi", IMAP_OK,
	        IMAP_RC_CAPABILITY},
	    {"pv3 NO [ALREADYEXISTS] Mailbox already exists", IMAP_NO,
	        IMAP_RC_ALREADYEXISTS},
	    {"* BYE [UNAVAILABLE] shutting down", IMAP_BYE,
	        IMAP_RC_UNAVAILABLE},
	    {"* PREAUTH hello", IMAP_PREAUTH, IMAP_RC_NONE},
	    {"pv1 BAD [X-FOO bar] what", IMAP_BAD, IMAP_RC_OTHER},
	    {"pv1 NO [APPENDUID x y] bad", IMAP_NO, IMAP_RC_OTHER},
	    {"pv1 NO [unclosed", IMAP_NO, IMAP_RC_NONE},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct imap_resp r;

		parse(cases[i].line, strlen(cases[i].line), &r);
		assert_int_equal(r.status, cases[i].st);
		assert_int_equal(r.rcode, cases[i].rc);
	}
}

static void
test_imap_resp_untagged_data_and_continuation(void **state)
{
	struct imap_resp r;

	(void)state;
	parse(S("* 23 EXISTS"), &r);
	assert_int_equal(r.kind, IMAP_UNTAGGED);
	assert_true(r.has_num);
	assert_int_equal(r.num, 23);
	assert_true(imap_resp_is(&r, "exists"));
	parse(S("* CAPABILITY IMAP4rev1 UIDPLUS"), &r);
	assert_true(imap_resp_is(&r, "CAPABILITY"));
	assert_int_equal(r.text_len, strlen("IMAP4rev1 UIDPLUS"));
	parse(S("+ go ahead"), &r);
	assert_int_equal(r.kind, IMAP_CONT);
	parse(S("+"), &r);
	assert_int_equal(r.kind, IMAP_CONT);
	assert_int_equal(r.text_len, 0);
}

static void
test_imap_resp_rejects_garbage(void **state)
{
	static const char *bad[] = {"", "pv1", "pv1 HELLO x", "* ",
	    "* 99999999999 EXISTS", "* 12x EXISTS", "pv1 BYE x", " OK"};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct imap_resp r;
		struct pv_err err;

		assert_int_equal(imap_parse_resp(bad[i], strlen(bad[i]), &r,
		                     &err),
		    PV_EPROTO);
	}
}

static void
test_imap_caps_known_keywords_and_appendlimit(void **state)
{
	struct imap_caps c;

	(void)state;
	imap_parse_caps(S("IMAP4rev1 SASL-IR LITERAL+ UIDPLUS MULTIAPPEND "
	                  "APPENDLIMIT=35651584 STARTTLS"),
	    &c);
	assert_true(c.imap4rev1 && c.literal_plus && c.uidplus &&
	            c.multiappend && c.starttls);
	assert_false(c.literal_minus);
	assert_true(c.has_appendlimit);
	assert_int_equal(c.appendlimit, 35651584);
	imap_parse_caps(S("imap4rev1 literal- APPENDLIMIT APPENDLIMIT=x"), &c);
	assert_true(c.imap4rev1 && c.literal_minus);
	assert_false(c.literal_plus || c.has_appendlimit);
}

/* ---- LIST -----------------------------------------------------------------
 */

static void
test_imap_list_quoted_atom_literal_and_nil_delimiter(void **state)
{
	char name[64];
	size_t len = 0;
	unsigned flags = 0;
	char delim = 'x';
	struct pv_err err;

	(void)state;
	assert_int_equal(imap_parse_list(S("(\\HasNoChildren) \"/\" \"INBOX\""),
	                     &flags, &delim, name, sizeof(name), &len, &err),
	    PV_OK);
	assert_string_equal(name, "INBOX");
	assert_int_equal(delim, '/');
	assert_int_equal(flags, IMAP_MBOX_HASNOCHILDREN);
	assert_int_equal(imap_parse_list(S("(\\Noselect \\HasChildren) NIL "
	                                   "Archive"),
	                     &flags, &delim, name, sizeof(name), &len, &err),
	    PV_OK);
	assert_string_equal(name, "Archive");
	assert_int_equal(delim, 0);
	assert_int_equal(flags, IMAP_MBOX_NOSELECT | IMAP_MBOX_HASCHILDREN);
	assert_int_equal(imap_parse_list(S("() \".\" {7}\r\na \"b\\ c"), &flags,
	                     &delim, name, sizeof(name), &len, &err),
	    PV_OK);
	assert_string_equal(name, "a \"b\\ c");
	assert_int_equal(imap_parse_list(S("() \"\\\\\" \"say \\\"hi\\\"\""),
	                     &flags, &delim, name, sizeof(name), &len, &err),
	    PV_OK);
	assert_int_equal(delim, '\\');
	assert_string_equal(name, "say \"hi\"");
}

static void
test_imap_list_rejects_malformed(void **state)
{
	static const char *bad[] = {"", "\\HasChildren \"/\" x", "() \"/\"",
	    "() \"//\" x", "() \"/\" \"unterminated", "() \"/\" {5}\r\nab",
	    "() \"/\" \"bad \\q escape\"", "(", "() \"/\" {3}\r\na\0b"};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char name[64];
		size_t len = 0;
		unsigned flags;
		char delim;
		struct pv_err err;
		size_t n = i == 8 ? 16 : strlen(bad[i]);

		assert_int_equal(imap_parse_list(bad[i], n, &flags, &delim,
		                     name, sizeof(name), &len, &err),
		    PV_EPROTO);
	}
}

/* ---- modified UTF-7 ------------------------------------------------------ */

static void
mutf7_pair(const char *utf8, const char *m7)
{
	char out[256];
	size_t n = 0;
	struct pv_err err;

	assert_int_equal(imap_mutf7_encode(utf8, strlen(utf8), out, sizeof(out),
	                     &n, &err),
	    PV_OK);
	assert_string_equal(out, m7);
	assert_int_equal(n, strlen(m7));
	assert_int_equal(imap_mutf7_decode(m7, strlen(m7), out, sizeof(out), &n,
	                     &err),
	    PV_OK);
	assert_string_equal(out, utf8);
}

static void
test_imap_mutf7_rfc3501_examples_round_trip(void **state)
{
	(void)state;
	mutf7_pair("INBOX", "INBOX");
	mutf7_pair("&", "&-");
	mutf7_pair("Tom & Jerry", "Tom &- Jerry");
	/* RFC 3501 5.1.3: "~peter/mail/台北/日本語" */
	mutf7_pair("~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/"
	           "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
	    "~peter/mail/&U,BTFw-/&ZeVnLIqe-");
	mutf7_pair("Entw\xc3\xbcrfe", "Entw&APw-rfe");
	mutf7_pair("Gel\xc3\xb6schte Elemente", "Gel&APY-schte Elemente");
	/* outside the BMP: a surrogate pair (U+1F600) */
	mutf7_pair("\xf0\x9f\x98\x80", "&2D3eAA-");
	mutf7_pair("a\tb", "a&AAk-b");
}

static void
test_imap_mutf7_encode_rejects_invalid_utf8(void **state)
{
	char out[64];
	size_t n;
	struct pv_err err;
	static const char *bad[] = {"\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80",
	    "\xf4\x90\x80\x80", "\xc3", "ab\xff", "\x80"};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(imap_mutf7_encode(bad[i], strlen(bad[i]), out,
		                     sizeof(out), &n, &err),
		    PV_ECONFIG);
	}
	assert_int_equal(imap_mutf7_encode("a\0b", 3, out, sizeof(out), &n,
	                     &err),
	    PV_ECONFIG);
}

static void
test_imap_mutf7_decode_rejects_bad_input(void **state)
{
	static const char *bad[] = {"&", "&U,BTFw", "&AGE-", "&2D3-", "&3gA-",
	    "&A!-", "\xc3\xa9", "&AAA-", "&U,BTFx-"};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char out[64];
		size_t n;
		struct pv_err err;

		assert_int_equal(imap_mutf7_decode(bad[i], strlen(bad[i]), out,
		                     sizeof(out), &n, &err),
		    PV_EPROTO);
	}
}

static void
test_imap_mutf7_too_small_output_fails(void **state)
{
	char out[4];
	size_t n;
	struct pv_err err;

	(void)state;
	assert_int_equal(imap_mutf7_encode(S("INBOX"), out, sizeof(out), &n,
	                     &err),
	    PV_ECONFIG);
	assert_int_equal(imap_mutf7_decode(S("INBOX"), out, sizeof(out), &n,
	                     &err),
	    PV_EPROTO);
}

/* ---- quoting, dates ------------------------------------------------------ */

static void
test_imap_quote_escapes_or_uses_a_literal(void **state)
{
	char out[64];
	size_t n = 0;
	bool lit = true;
	struct pv_err err;

	(void)state;
	assert_int_equal(imap_quote(S("a \"b\" \\c"), false, out, sizeof(out),
	                     &n, &lit, &err),
	    PV_OK);
	assert_false(lit);
	assert_memory_equal(out, "\"a \\\"b\\\" \\\\c\"", n);
	assert_int_equal(imap_quote(S("a\r\nb"), false, out, sizeof(out), &n,
	                     &lit, &err),
	    PV_OK);
	assert_true(lit);
	assert_int_equal(n, strlen("{4}\r\na\r\nb"));
	assert_memory_equal(out, "{4}\r\na\r\nb", n);
	assert_int_equal(imap_quote(S("caf\xc3\xa9"), true, out, sizeof(out),
	                     &n, &lit, &err),
	    PV_OK);
	assert_true(lit);
	assert_memory_equal(out, "{5+}\r\ncaf\xc3\xa9", n);
	assert_int_equal(imap_quote("a\0b", 3, false, out, sizeof(out), &n,
	                     &lit, &err),
	    PV_ECONFIG);
	assert_int_equal(imap_quote(S("\"\"\"\""), false, out, 6, &n, &lit,
	                     &err),
	    PV_EINTERNAL);
}

static void
test_imap_date_keeps_the_zone(void **state)
{
	char out[IMAP_DATE_LEN + 1];
	struct pv_err err;

	(void)state;
	/* 2001-09-09 01:46:40 UTC */
	assert_int_equal(imap_format_date(1000000000, 0, out, &err), PV_OK);
	assert_string_equal(out, "09-Sep-2001 01:46:40 +0000");
	assert_int_equal(imap_format_date(1000000000, -300, out, &err), PV_OK);
	assert_string_equal(out, "08-Sep-2001 20:46:40 -0500");
	assert_int_equal(imap_format_date(1000000000, 330, out, &err), PV_OK);
	assert_string_equal(out, "09-Sep-2001 07:16:40 +0530");
	assert_int_equal(imap_format_date(0, -1, out, &err), PV_OK);
	assert_string_equal(out, "31-Dec-1969 23:59:00 -0001");
	assert_int_equal(imap_format_date(0, 24 * 60, out, &err), PV_EINTERNAL);
	assert_int_equal(imap_format_date(INT64_MAX, 0, out, &err),
	    PV_EINTERNAL);
}

/* ---- FETCH ----------------------------------------------------------------
 */

static void
test_imap_fetch_uid_and_header_literal(void **state)
{
	static const char in[] =
	    "* 3 FETCH (UID 17 FLAGS (\\Seen) BODY[HEADER.FIELDS (MESSAGE-ID)] "
	    "{32}\r\nMessage-ID: <a@b>\r\npv9 OK x)\r\n\r\n)";
	struct imap_resp r;
	struct imap_fetch f;
	struct pv_err err;

	(void)state;
	parse(in, sizeof(in) - 1, &r);
	assert_int_equal(imap_parse_fetch(&r, &f, &err), PV_OK);
	assert_int_equal(f.seq, 3);
	assert_true(f.has_uid);
	assert_int_equal(f.uid, 17);
	assert_true(f.has_hdr);
	assert_int_equal(f.hdr_len, 32);
	assert_memory_equal(f.hdr, "Message-ID: <a@b>\r\npv9 OK x)\r\n\r\n",
	    32);
}

static void
test_imap_fetch_header_first_quoted_or_nil(void **state)
{
	struct imap_resp r;
	struct imap_fetch f;
	struct pv_err err;

	(void)state;
	parse(S("* 1 FETCH (BODY[HEADER.FIELDS (MESSAGE-ID)] \"\" UID 5)"), &r);
	assert_int_equal(imap_parse_fetch(&r, &f, &err), PV_OK);
	assert_int_equal(f.uid, 5);
	assert_true(f.has_hdr);
	assert_int_equal(f.hdr_len, 0);
	parse(S("* 2 FETCH (UID 6 BODY[HEADER.FIELDS (MESSAGE-ID)] NIL)"), &r);
	assert_int_equal(imap_parse_fetch(&r, &f, &err), PV_OK);
	assert_int_equal(f.uid, 6);
	assert_int_equal(f.hdr_len, 0);
	parse(S("* 2 FETCH (FLAGS (\\Seen))"), &r);
	assert_int_equal(imap_parse_fetch(&r, &f, &err), PV_OK);
	assert_false(f.has_uid);
	assert_false(f.has_hdr);
}

static void
test_imap_fetch_rejects_malformed(void **state)
{
	static const char *bad[] = {"* 1 FETCH UID 5", "* 1 FETCH (UID x)",
	    "* 1 FETCH (UID 0)", "* 1 FETCH (UID 5",
	    "* 1 FETCH (BODY[HEADER {9}\r\nab)", "* 1 FETCH (BODY[] {9}\r\nab)",
	    "* 1 FETCH (BODY[] FOO)", "* 1 EXISTS"};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct imap_resp r;
		struct imap_fetch f;
		struct pv_err err;

		parse(bad[i], strlen(bad[i]), &r);
		assert_int_equal(imap_parse_fetch(&r, &f, &err), PV_EPROTO);
	}
}

static void
test_imap_append_class_scopes(void **state)
{
	enum imap_scope sc;

	(void)state;
	assert_int_equal(imap_append_class(IMAP_OK, IMAP_RC_APPENDUID, &sc),
	    PV_OK);
	assert_int_equal(sc, IMAP_SCOPE_NONE);
	assert_int_equal(imap_append_class(IMAP_NO, IMAP_RC_TOOBIG, &sc),
	    PV_EMSG);
	assert_int_equal(sc, IMAP_SCOPE_MSG);
	assert_int_equal(imap_append_class(IMAP_NO, IMAP_RC_LIMIT, &sc),
	    PV_EMSG);
	assert_int_equal(imap_append_class(IMAP_NO, IMAP_RC_NONE, &sc),
	    PV_EMSG);
	assert_int_equal(sc, IMAP_SCOPE_MSG);
	assert_int_equal(imap_append_class(IMAP_NO, IMAP_RC_TRYCREATE, &sc),
	    PV_EPROTO);
	assert_int_equal(sc, IMAP_SCOPE_FOLDER);
	assert_int_equal(imap_append_class(IMAP_NO, IMAP_RC_OVERQUOTA, &sc),
	    PV_EIO);
	assert_int_equal(sc, IMAP_SCOPE_ACCOUNT);
	assert_int_equal(imap_append_class(IMAP_NO, IMAP_RC_UNAVAILABLE, &sc),
	    PV_ENET);
	assert_int_equal(sc, IMAP_SCOPE_ACCOUNT);
	assert_int_equal(imap_append_class(IMAP_BAD, IMAP_RC_NONE, &sc),
	    PV_EPROTO);
	assert_int_equal(sc, IMAP_SCOPE_ACCOUNT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_imap_rd_one_line_without_its_line_end),
	    cmocka_unit_test(test_imap_appenduid_set_expands),
	    cmocka_unit_test(
	        test_imap_rd_literal_holding_a_tagged_line_and_crlf),
	    cmocka_unit_test(test_imap_rd_literal_plus_and_empty_literal),
	    cmocka_unit_test(test_imap_rd_rejects_long_lines_and_big_literals),
	    cmocka_unit_test(test_imap_rd_unfinished_is_not_done),
	    cmocka_unit_test(test_imap_resp_tagged_appenduid),
	    cmocka_unit_test(test_imap_resp_codes_are_recognized),
	    cmocka_unit_test(test_imap_resp_untagged_data_and_continuation),
	    cmocka_unit_test(test_imap_resp_rejects_garbage),
	    cmocka_unit_test(test_imap_caps_known_keywords_and_appendlimit),
	    cmocka_unit_test(
	        test_imap_list_quoted_atom_literal_and_nil_delimiter),
	    cmocka_unit_test(test_imap_list_rejects_malformed),
	    cmocka_unit_test(test_imap_mutf7_rfc3501_examples_round_trip),
	    cmocka_unit_test(test_imap_mutf7_encode_rejects_invalid_utf8),
	    cmocka_unit_test(test_imap_mutf7_decode_rejects_bad_input),
	    cmocka_unit_test(test_imap_mutf7_too_small_output_fails),
	    cmocka_unit_test(test_imap_quote_escapes_or_uses_a_literal),
	    cmocka_unit_test(test_imap_date_keeps_the_zone),
	    cmocka_unit_test(test_imap_fetch_uid_and_header_literal),
	    cmocka_unit_test(test_imap_fetch_header_first_quoted_or_nil),
	    cmocka_unit_test(test_imap_fetch_rejects_malformed),
	    cmocka_unit_test(test_imap_append_class_scopes),
	};

	return cmocka_run_group_tests_name("imap", tests, NULL, NULL);
}
