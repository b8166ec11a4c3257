/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_msg.c - the message scanner: Message-ID, dates, the
 * newest Received, canonical content, split invariance, memory bound.
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

#include "buf.h"
#include "digest.h"
#include "msg.h"

/* ---- helpers --------------------------------------------------------- */

struct sink {
	struct buf b;
	struct digest *d;
	uint64_t n;
};

static void
sink_cb(void *arg, const void *p, size_t n)
{
	struct sink *k = arg;

	assert_true(n > 0);
	if (k->b.max > 0)
		assert_true(buf_add(&k->b, p, n));
	if (k->d != NULL)
		digest_update(k->d, p, n);
	k->n += n;
}

/* Scan p[0..n) in pieces of 'step' bytes (0: all at once); the canonical
 * content goes to k (if not NULL). */
static void
scan(const char *p, size_t n, size_t step, struct sink *k, struct msg_info *mi)
{
	struct msg_scan *s;
	size_t i;

	s = msg_scan_new(k != NULL ? sink_cb : NULL, k);
	if (step == 0)
		step = n > 0 ? n : 1;
	for (i = 0; i < n; i += step)
		msg_scan_feed(s, p + i, n - i < step ? n - i : step);
	msg_scan_end(s, mi);
	msg_scan_free(s);
}

static void
scan_str(const char *p, struct msg_info *mi)
{
	scan(p, strlen(p), 0, NULL, mi);
}

/* The canonical content of p, as a string the caller frees. */
static char *
canon_of(const char *p, size_t n, size_t step, size_t *len)
{
	struct sink k;
	struct msg_info mi;
	char *r;

	memset(&k, 0, sizeof(k));
	buf_init(&k.b, 1u << 20);
	scan(p, n, step, &k, &mi);
	msg_info_clear(&mi);
	*len = k.b.len;
	r = malloc(k.b.len + 1);
	assert_non_null(r);
	if (k.b.len > 0)
		memcpy(r, k.b.data, k.b.len);
	r[k.b.len] = '\0';
	buf_free(&k.b);
	return r;
}

static void
canon_hash(const char *p, char hex[DIGEST_HEX_LEN + 1])
{
	struct sink k;
	struct msg_info mi;

	memset(&k, 0, sizeof(k));
	k.d = digest_new();
	scan(p, strlen(p), 0, &k, &mi);
	digest_final_hex(k.d, hex);
	digest_free(k.d);
	msg_info_clear(&mi);
}

static void
assert_id(const char *value, const char *want)
{
	char *id = msg_normalize_id(value, strlen(value));

	if (want == NULL) {
		if (id != NULL)
			fail_msg("id of \"%s\": want none, got \"%s\"", value,
			    id);
	} else {
		if (id == NULL)
			fail_msg("id of \"%s\": want \"%s\", got none", value,
			    want);
		if (strcmp(id, want) != 0)
			fail_msg("id of \"%s\": want \"%s\", got \"%s\"", value,
			    want, id);
	}
	free(id);
}

/* ---- Message-ID ------------------------------------------------------ */

static void
test_msg_id_brackets_removed_case_kept(void **state)
{
	(void)state;
	assert_id("<AbC.123@Example.ORG>", "AbC.123@Example.ORG");
	assert_id("  <abc@example.org>  \r\n", "abc@example.org");
	assert_id("<abc@example.org> <second@example.org>", "abc@example.org");
}

static void
test_msg_id_folding_and_white_space_removed(void **state)
{
	(void)state;
	assert_id("\r\n <abc@exa\r\n\tmple.org>", "abc@example.org");
	assert_id("< abc@example.org >", "abc@example.org");
}

static void
test_msg_id_comments_skipped(void **state)
{
	(void)state;
	assert_id("(added by <relay@x>) <real@example.org>",
	    "real@example.org");
	assert_id("(nested (comment) \\) here) <a@b>", "a@b");
	assert_id("<a@b> (trailing comment)", "a@b");
}

static void
test_msg_id_missing_brackets_uses_first_word(void **state)
{
	(void)state;
	assert_id("abc@example.org", "abc@example.org");
	assert_id("  abc@example.org (added by postmaster)", "abc@example.org");
	assert_id("<abc@example.org", "abc@example.org");
}

static void
test_msg_id_nothing_usable_is_null(void **state)
{
	char *big;

	(void)state;
	assert_id("", NULL);
	assert_id("   \r\n  ", NULL);
	assert_id("<>", NULL);
	assert_id("(only a comment)", NULL);
	assert_id("< \r\n >", NULL);

	big = malloc(MSG_ID_MAX + 10);
	assert_non_null(big);
	big[0] = '<';
	memset(big + 1, 'x', MSG_ID_MAX + 1);
	big[MSG_ID_MAX + 2] = '>';
	big[MSG_ID_MAX + 3] = '\0';
	assert_id(big, NULL); /* too long to trust */
	big[MSG_ID_MAX + 1] = '>';
	big[MSG_ID_MAX + 2] = '\0';
	{
		char *id = msg_normalize_id(big, strlen(big));

		assert_non_null(id);
		assert_int_equal(strlen(id), MSG_ID_MAX);
		free(id);
	}
	free(big);
}

static void
test_msg_id_control_bytes_dropped(void **state)
{
	static const char v[] = "<a\0b\x01@c\x7f>";
	char *id;

	(void)state;
	id = msg_normalize_id(v, sizeof(v) - 1);
	assert_non_null(id);
	assert_string_equal(id, "ab@c");
	free(id);
}

static void
test_msg_scan_first_message_id_wins(void **state)
{
	struct msg_info mi;

	(void)state;
	scan_str("Message-ID: <first@x>\r\nMessage-ID: <second@x>\r\n\r\nb\r\n",
	    &mi);
	assert_string_equal(mi.message_id, "first@x");
	msg_info_clear(&mi);

	/* An empty first field does not hide a usable second one. */
	scan_str("Message-Id:\r\nMESSAGE-ID: <second@x>\r\n\r\n", &mi);
	assert_string_equal(mi.message_id, "second@x");
	msg_info_clear(&mi);
}

static void
test_msg_scan_folded_message_id(void **state)
{
	struct msg_info mi;

	(void)state;
	scan_str("Subject: x\r\nMessage-ID:\r\n <folded@example.org>\r\n"
	         "From: a@b\r\n\r\nbody\r\n",
	    &mi);
	assert_string_equal(mi.message_id, "folded@example.org");
	msg_info_clear(&mi);
}

static void
test_msg_scan_no_message_id_is_null(void **state)
{
	struct msg_info mi;

	(void)state;
	scan_str("From: a@b\r\nSubject: no id\r\n\r\nbody\r\n", &mi);
	assert_null(mi.message_id);
	assert_false(mi.has_date);
	assert_false(mi.has_received);
	msg_info_clear(&mi);
}

static void
test_msg_scan_message_id_in_body_ignored(void **state)
{
	struct msg_info mi;

	(void)state;
	scan_str("From: a@b\r\n\r\nMessage-ID: <body@x>\r\n", &mi);
	assert_null(mi.message_id);
	msg_info_clear(&mi);
}

/* ---- dates ----------------------------------------------------------- */

static const struct {
	const char *s;
	int64_t t;
	int off;
} good_dates[] = {
    {"Mon, 2 Jan 2006 15:04:05 -0700", 1136239445, -420},
    {"Mon, 02 Jan 2006 15:04:05 -0700", 1136239445, -420},
    {"2 Jan 2006 15:04:05 -0700", 1136239445, -420},
    {"Mon,2 Jan 2006 15:04:05 -0700", 1136239445, -420},
    {"  Mon ,  2   Jan   2006   15:04:05   -0700  ", 1136239445, -420},
    {"Mon, 2 Jan 2006 15:04:05 -0700 (MST)", 1136239445, -420},
    {"(comment) Mon, (c) 2 (c) Jan 2006 15:04:05 (c) -0700", 1136239445, -420},
    {"Mon,\r\n 2 Jan 2006\r\n\t15:04:05 -0700", 1136239445, -420},
    {"Mon, 2 jan 2006 15:04:05 -0700", 1136239445, -420},
    {"Monday, 2 January 2006 15:04:05 -0700", 1136239445, -420},
    {"Mon, 2 Jan 2006 15:04:05 MST", 1136239445, -420},
    {"Mon, 2 Jan 06 15:04 EST", 1136232240, -300},
    {"Monday, 02-Jan-06 15:04:00 EST", 1136232240, -300},
    {"Mon, 2 Jan 2006 15:04 EST", 1136232240, -300},
    {"Fri, 31 Dec 1999 23:59:59 GMT", 946684799, 0},
    {"Fri, 31 Dec 1999 23:59:59 UT", 946684799, 0},
    {"Fri, 31 Dec 1999 23:59:59 UTC", 946684799, 0},
    {"Fri, 31 Dec 1999 23:59:59 +0000", 946684799, 0},
    {"Fri, 31 Dec 1999 23:59:59 -0000", 946684799, 0},
    {"Fri, 31 Dec 99 23:59:59 +0000", 946684799, 0},
    {"Fri, 31 Dec 099 23:59:59 +0000", 946684799, 0}, /* 3-digit year */
    {"Fri, 31 Dec 1999 23:59:59 Z", 946684799, 0},
    {"Fri, 31 Dec 1999 23:59:59 A", 946684799, 0},    /* military: -0000 */
    {"Fri, 31 Dec 1999 23:59:59 CEST", 946684799, 0}, /* unknown name */
    {"Fri, 31 Dec 1999 23:59:59", 946684799, 0},      /* no zone */
    {"1 Mar 49 00:00:00 +0000", 2498169600, 0},       /* 2049 */
    {"1 Mar 50 00:00:00 +0000", -626054400, 0},       /* 1950 */
    {"Thu, 29 Feb 2024 12:00:00 +0100", 1709204400, 60},
    {"Tue, 3 Jun 2008 11:05:30 +0200", 1212483930, 120},
    {"Tue, 3 Jun 2008 11:05:30 +02:00", 1212483930, 120},
    {"Tue Jun  3 09:35:30 2008", 1212485730, 0}, /* asctime */
    {"Tue Jun 3 11:05:30 +0200 2008", 1212483930, 120},
    {"Tue Jun  3 09:05:30 UTC 2008", 1212483930, 0}, /* date(1) */
    {"2008-06-03T11:05:30+02:00", 1212483930, 120},
    {"2008-06-03 09:05:30Z", 1212483930, 0},
    {"Wed, 31 Dec 1969 23:59:59 +0000", -1, 0},
    {"Sat, 31 Dec 2005 23:59:60 +0000", 1136073600, 0}, /* leap second */
};

static void
test_msg_parse_date_accepts_real_world_forms(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good_dates) / sizeof(good_dates[0]); i++) {
		int64_t t = 42;
		int off = 42;

		if (!msg_parse_date(good_dates[i].s, strlen(good_dates[i].s),
		        &t, &off))
			fail_msg("rejected: \"%s\"", good_dates[i].s);
		if (t != good_dates[i].t || off != good_dates[i].off)
			fail_msg("\"%s\": got %lld %d, want %lld %d",
			    good_dates[i].s, (long long)t, off,
			    (long long)good_dates[i].t, good_dates[i].off);
	}
}

static const char *const bad_dates[] = {
    "",
    "   ",
    "yesterday",
    "not a date at all",
    "Mon, 2 Foo 2006 15:04:05 -0700",
    "Mon, 2 Jan 2006",
    "Mon, 2 Jan 2006 15 -0700",
    "Mon, 32 Jan 2006 15:04:05 -0700",
    "Mon, 0 Jan 2006 15:04:05 -0700",
    "Mon, 30 Feb 2006 15:04:05 -0700",
    "Tue, 29 Feb 2005 12:00:00 +0000", /* not a leap year */
    "Mon, 2 13 2006 15:04:05 -0700",
    "Mon, 2 Jan 2006 25:04:05 -0700",
    "Mon, 2 Jan 2006 24:00:00 -0700",
    "Mon, 2 Jan 2006 15:60:05 -0700",
    "Mon, 2 Jan 2006 15:04:61 -0700",
    "Mon, 2 Jan 2006 15:04:05 +2500",
    "Mon, 2 Jan 2006 15:04:05 +0popo",
    "Mon, 2 Jan 2006 15:04:05 +07",
    "Mon, 2 Jan 20061 15:04:05 -0700",
    "Mon, 2 Jan 0099x 15:04:05",
    "Mon, 2 Jan 1066 15:04:05 +0000",
    "Mon, 123 Jan 2006 15:04:05 -0700",
    "Someday, 2 Jan 2006 15:04:05 -0700",
    "Mon, Jan 2006 15:04:05 -0700",
    "(unterminated comment 2 Jan 2006 15:04:05 -0700",
    "2006-13-02T15:04:05Z",
    "2006-01-02",
    "Mon, 2 Jan 2006 :04:05 -0700",
    "\xe2\x80\x8b 2 Jan 2006 15:04:05 -0700",
};

static void
test_msg_parse_date_rejects_garbage_and_impossible_dates(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_dates) / sizeof(bad_dates[0]); i++) {
		int64_t t = 42;
		int off = 43;

		if (msg_parse_date(bad_dates[i], strlen(bad_dates[i]), &t,
		        &off))
			fail_msg("accepted: \"%s\" as %lld %d", bad_dates[i],
			    (long long)t, off);
		assert_int_equal(t, 42); /* untouched */
		assert_int_equal(off, 43);
	}
}

static void
test_msg_parse_date_reads_only_n_bytes(void **state)
{
	static const char s[] = "Fri, 31 Dec 1999 23:59:59 +0000";
	int64_t t;
	int off;

	(void)state;
	/* Cut inside the time: the rest of the string must not be read. */
	assert_false(msg_parse_date(s, 20, &t, &off));
	assert_true(msg_parse_date(s, sizeof(s) - 1, &t, &off));
}

static void
test_msg_scan_newest_received_wins(void **state)
{
	static const char m[] =
	    "Received: from a by b; Tue, 3 Jun 2008 09:00:00 +0000\r\n"
	    "Received: from c by d (comment; with semicolon);\r\n"
	    "\tTue, 3 Jun 2008 14:00:00 +0200\r\n"
	    "Received: from e by f; garbage date\r\n"
	    "Received: no semicolon at all\r\n"
	    "Received: from g by h; Tue, 3 Jun 2008 10:30:00 +0000\r\n"
	    "Date: Mon, 2 Jun 2008 08:00:00 +0000\r\n"
	    "\r\n"
	    "Received: from body; Tue, 3 Jun 2009 14:00:00 +0000\r\n";
	struct msg_info mi;
	int64_t t;
	int off;

	(void)state;
	scan_str(m, &mi);
	assert_true(mi.has_received);
	assert_int_equal(mi.received, 1212494400); /* 12:00 UTC */
	assert_int_equal(mi.received_off, 120);
	assert_true(mi.has_date);
	assert_string_equal(msg_best_date(&mi, 7, &t, &off), "received");
	assert_int_equal(t, 1212494400);
	assert_int_equal(off, 120);
	msg_info_clear(&mi);
}

static void
test_msg_scan_first_date_wins(void **state)
{
	struct msg_info mi;

	(void)state;
	scan_str("Date: not a date\r\nDate: Fri, 31 Dec 1999 23:59:59 +0000\r\n"
	         "Date: Sat, 1 Jan 2000 00:00:00 +0000\r\n\r\n",
	    &mi);
	assert_true(mi.has_date);
	assert_int_equal(mi.date, 946684799);
	assert_false(mi.has_received);
	msg_info_clear(&mi);
}

static void
test_msg_best_date_falls_back(void **state)
{
	struct msg_info mi;
	int64_t t;
	int off;

	(void)state;
	memset(&mi, 0, sizeof(mi));
	assert_string_equal(msg_best_date(&mi, 1234, &t, &off), "fetched");
	assert_int_equal(t, 1234);
	assert_int_equal(off, 0);
	mi.has_date = true;
	mi.date = 99;
	mi.date_off = -300;
	assert_string_equal(msg_best_date(&mi, 1234, &t, &off), "date");
	assert_int_equal(t, 99);
	assert_int_equal(off, -300);
}

/* ---- canonical content ----------------------------------------------- */

static const char copy_a[] =
    "Return-Path: <sender@example.org>\r\n"
    "Delivered-To: alice@one.example\r\n"
    "Received: from mx.one.example by pop.one.example; "
    "Tue, 3 Jun 2008 11:05:30 +0200\r\n"
    "Received: from relay\r\n"
    "\tby mx.one.example; Tue, 3 Jun 2008 11:05:00 +0200\r\n"
    "From: Sender <sender@example.org>\r\n"
    "To: alice@one.example, bob@two.example\r\n"
    "Subject: =?UTF-8?B?SGVsbG8=?= there\r\n"
    "Message-ID: <same@example.org>\r\n"
    "Date: Tue, 3 Jun 2008 11:00:00 +0200\r\n"
    "X-UIDL: 12345\r\n"
    "Status: RO\r\n"
    "\r\n"
    "Hello,\r\n"
    "\r\n"
    "the body.\r\n";

/* The same mail as delivered to another mailbox, stored with LF. */
static const char copy_b[] =
    "Delivered-To: bob@two.example\n"
    "X-Original-To: bob@two.example\n"
    "Received: from mx.two.example by pop.two.example;\n"
    " Tue, 3 Jun 2008 11:07:00 +0200\n"
    "Return-Path: <sender@example.org>\n"
    "From: Sender <sender@example.org>\n"
    "To: alice@one.example, bob@two.example\n"
    "Subject: =?UTF-8?B?SGVsbG8=?= there\n"
    "Message-ID: <same@example.org>\n"
    "X-Mozilla-Status: 0001\n"
    "Date: Tue, 3 Jun 2008 11:00:00 +0200\n"
    "Lines: 3\n"
    "\n"
    "Hello,\n"
    "\n"
    "the body.\n";

static const char canon_ab[] = "From: Sender <sender@example.org>\r\n"
                               "To: alice@one.example, bob@two.example\r\n"
                               "Subject: =?UTF-8?B?SGVsbG8=?= there\r\n"
                               "Message-ID: <same@example.org>\r\n"
                               "Date: Tue, 3 Jun 2008 11:00:00 +0200\r\n"
                               "\r\n"
                               "Hello,\r\n"
                               "\r\n"
                               "the body.\r\n";

static void
test_msg_canon_drops_trace_fields_and_normalizes_line_ends(void **state)
{
	char *c;
	size_t len;

	(void)state;
	c = canon_of(copy_a, strlen(copy_a), 0, &len);
	assert_int_equal(len, strlen(canon_ab));
	assert_memory_equal(c, canon_ab, len);
	free(c);
	c = canon_of(copy_b, strlen(copy_b), 0, &len);
	assert_int_equal(len, strlen(canon_ab));
	assert_memory_equal(c, canon_ab, len);
	free(c);
}

static void
test_msg_canon_hash_same_for_two_copies(void **state)
{
	char ha[DIGEST_HEX_LEN + 1], hb[DIGEST_HEX_LEN + 1];

	(void)state;
	canon_hash(copy_a, ha);
	canon_hash(copy_b, hb);
	assert_string_equal(ha, hb);
}

static void
test_msg_canon_hash_differs_for_different_bodies(void **state)
{
	char ha[DIGEST_HEX_LEN + 1], hb[DIGEST_HEX_LEN + 1];
	char *other;
	char *p;

	(void)state;
	other = strdup(copy_a);
	assert_non_null(other);
	p = strstr(other, "the body.");
	assert_non_null(p);
	p[4] = 'B';
	canon_hash(copy_a, ha);
	canon_hash(other, hb);
	assert_string_not_equal(ha, hb);
	free(other);

	/* A kept header counts too. */
	other = strdup(copy_a);
	assert_non_null(other);
	p = strstr(other, "Subject: ");
	p[9] = 'X';
	canon_hash(other, hb);
	assert_string_not_equal(ha, hb);
	free(other);
}

static void
test_msg_canon_field_names_case_insensitive(void **state)
{
	static const char m[] =
	    "RECEIVED: x; Tue, 3 Jun 2008 11:05:30 +0200\r\n"
	    "delivered-to: a\r\n"
	    "Return-Path : <obsolete@space>\r\n"
	    "content-length: 5\r\n"
	    "X-Mozilla-Status2: 00000000\r\n"
	    "X-Received: kept\r\n"
	    "Status-Report: kept\r\n"
	    "\r\n"
	    "body\r\n";
	static const char want[] = "X-Received: kept\r\n"
	                           "Status-Report: kept\r\n"
	                           "\r\n"
	                           "body\r\n";
	char *c;
	size_t len;
	struct msg_info mi;

	(void)state;
	c = canon_of(m, strlen(m), 0, &len);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(c, want, len);
	free(c);
	scan_str(m, &mi);
	assert_true(mi.has_received);
	msg_info_clear(&mi);
}

static void
test_msg_canon_removed_field_takes_its_continuations(void **state)
{
	static const char m[] = "Received: from a\r\n"
	                        "  by b\r\n"
	                        "\twith c; Tue, 3 Jun 2008 11:05:30 +0200\r\n"
	                        "Subject: one\r\n"
	                        "  two\r\n"
	                        "\r\n";
	static const char want[] = "Subject: one\r\n"
	                           "  two\r\n"
	                           "\r\n";
	char *c;
	size_t len;

	(void)state;
	c = canon_of(m, strlen(m), 0, &len);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(c, want, len);
	free(c);
}

static void
test_msg_canon_odd_messages(void **state)
{
	static const struct {
		const char *in;
		size_t inlen;
		const char *want;
		size_t wantlen;
	} cases[] = {
	    /* no empty line: everything is header */
	    {"Subject: x\r\nFrom: y", 19, "Subject: x\r\nFrom: y", 19},
	    /* no body */
	    {"Subject: x\n\n", 12, "Subject: x\r\n\r\n", 14},
	    /* starts with the empty line: all body */
	    {"\r\nReceived: kept in body\n", 25,
	        "\r\nReceived: kept in body\r\n", 26},
	    /* bare CR is content; CR CR LF keeps one CR */
	    {"A: b\rc\r\n\r\nx\ry\r\r\n", 16, "A: b\rc\r\n\r\nx\ry\r\r\n", 16},
	    /* a trailing CR at the very end */
	    {"A: b\r\n\r\nx\r", 10, "A: b\r\n\r\nx\r", 10},
	    /* NUL bytes and 8-bit bytes */
	    {"A: \0\xff\r\n\r\n\0\xe9\n", 12, "A: \0\xff\r\n\r\n\0\xe9\r\n",
	        13},
	    /* a line without a colon, a continuation with no field */
	    {" lead\r\nnocolon\r\n\r\n", 18, " lead\r\nnocolon\r\n\r\n", 18},
	    /* white-space-only line is a continuation, not the end */
	    {"A: b\r\n \r\nC: d\r\n\r\nx", 18, "A: b\r\n \r\nC: d\r\n\r\nx",
	        18},
	    /* empty message */
	    {"", 0, "", 0},
	};
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *c = canon_of(cases[i].in, cases[i].inlen, 0, &len);

		if (len != cases[i].wantlen ||
		    memcmp(c, cases[i].want, len) != 0)
			fail_msg("case %zu: canonical content differs", i);
		free(c);
	}
}

static void
test_msg_scan_size_counts_every_byte(void **state)
{
	struct msg_info mi;

	(void)state;
	scan(copy_b, sizeof(copy_b) - 1, 3, NULL, &mi);
	assert_int_equal(mi.size, sizeof(copy_b) - 1);
	msg_info_clear(&mi);
}

/* ---- streaming ------------------------------------------------------- */

static void
assert_same_whatever_the_split(const char *m, size_t n)
{
	static const size_t steps[] = {1, 2, 3, 7, 64, 1000};
	struct msg_info whole, part;
	char *cw, *cp;
	size_t lw, lp, i;

	scan(m, n, 0, NULL, &whole);
	cw = canon_of(m, n, 0, &lw);
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		scan(m, n, steps[i], NULL, &part);
		if ((whole.message_id == NULL) != (part.message_id == NULL))
			fail_msg("step %zu: message id differs", steps[i]);
		if (whole.message_id != NULL)
			assert_string_equal(whole.message_id, part.message_id);
		assert_int_equal(whole.has_date, part.has_date);
		assert_int_equal(whole.date, part.date);
		assert_int_equal(whole.date_off, part.date_off);
		assert_int_equal(whole.has_received, part.has_received);
		assert_int_equal(whole.received, part.received);
		assert_int_equal(whole.received_off, part.received_off);
		assert_int_equal(whole.size, part.size);
		msg_info_clear(&part);
		cp = canon_of(m, n, steps[i], &lp);
		if (lp != lw || memcmp(cw, cp, lw) != 0)
			fail_msg("step %zu: canonical content differs",
			    steps[i]);
		free(cp);
	}
	msg_info_clear(&whole);
	free(cw);
}

static void
test_msg_scan_results_independent_of_split(void **state)
{
	static const char odd[] = "Received: a\r\r\n b; 1 Jan 2001 00:00 GMT\r"
	                          "\nMessage-ID:\r\n\t<x@\ry>\r\n\r\r\n\r\n"
	                          "body\r\r\r\n\n";

	(void)state;
	assert_same_whatever_the_split(copy_a, sizeof(copy_a) - 1);
	assert_same_whatever_the_split(copy_b, sizeof(copy_b) - 1);
	assert_same_whatever_the_split(odd, sizeof(odd) - 1);
}

static void
test_msg_scan_reusable_after_end_and_reset(void **state)
{
	struct msg_scan *s;
	struct msg_info mi;

	(void)state;
	s = msg_scan_new(NULL, NULL);
	msg_scan_feed(s, "Message-ID: <one@x>\r\nDate: 1 Jan 2001 00:00 GM",
	    strlen("Message-ID: <one@x>\r\nDate: 1 Jan 2001 00:00 GM"));
	msg_scan_reset(s); /* the fetch failed half way */
	msg_scan_feed(s, "Subject: two\r\n\r\n", 16);
	msg_scan_end(s, &mi);
	assert_null(mi.message_id);
	assert_false(mi.has_date);
	assert_int_equal(mi.size, 16);
	msg_info_clear(&mi);
	msg_scan_feed(s, "Message-ID: <three@x>\n\n",
	    strlen("Message-ID: <three@x>\n\n"));
	msg_scan_end(s, &mi);
	assert_string_equal(mi.message_id, "three@x");
	msg_info_clear(&mi);
	msg_scan_free(s);
	msg_scan_free(NULL);
}

/*
 * A 10 MB header line must stream: the canonical bytes reach the callback
 * while it is fed (the scanner does not hold them), the Message-ID before
 * it is kept, and the fields after it are still parsed.  A 10 MB trace
 * field is dropped whole.
 */
static void
test_msg_scan_huge_header_line_streams_within_bound(void **state)
{
	const size_t big = 10u * 1024u * 1024u, chunk = 4096;
	static const char head[] = "Message-ID: <first@example.org>\r\n"
	                           "X-Huge: ";
	static const char tail[] =
	    "\r\nDate: Fri, 31 Dec 1999 23:59:59 +0000\r\n"
	    "\r\nbody\r\n";
	struct sink k;
	struct msg_scan *s;
	struct msg_info mi;
	char *filler;
	size_t i;
	int pass;

	(void)state;
	filler = malloc(chunk);
	assert_non_null(filler);
	memset(filler, 'h', chunk);
	for (pass = 0; pass < 2; pass++) {
		memset(&k, 0, sizeof(k));
		s = msg_scan_new(sink_cb, &k);
		if (pass == 0)
			msg_scan_feed(s, head, sizeof(head) - 1);
		else
			msg_scan_feed(s, "Received: ", 10);
		for (i = 0; i < big; i += chunk) {
			msg_scan_feed(s, filler, chunk);
			/* Never more than the bound held back. */
			if (pass == 0)
				assert_true(k.n + MSG_HEADER_KEEP + 8192 >= i);
		}
		if (pass == 0)
			assert_true(k.n >= big - MSG_HEADER_KEEP - 8192);
		else
			assert_int_equal(k.n, 0); /* a trace field: dropped */
		msg_scan_feed(s, tail, sizeof(tail) - 1);
		msg_scan_end(s, &mi);
		if (pass == 0) {
			assert_non_null(mi.message_id);
			assert_string_equal(mi.message_id, "first@example.org");
			assert_int_equal(k.n,
			    sizeof(head) - 1 + big + sizeof(tail) - 1);
		} else {
			assert_null(mi.message_id);
			assert_false(mi.has_received);
			/* Date, the empty line and the body remain. */
			assert_int_equal(k.n, sizeof(tail) - 1 - 2);
		}
		assert_true(mi.has_date);
		assert_int_equal(mi.date, 946684799);
		msg_info_clear(&mi);
		msg_scan_free(s);
	}
	free(filler);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_msg_id_brackets_removed_case_kept),
	    cmocka_unit_test(test_msg_id_folding_and_white_space_removed),
	    cmocka_unit_test(test_msg_id_comments_skipped),
	    cmocka_unit_test(test_msg_id_missing_brackets_uses_first_word),
	    cmocka_unit_test(test_msg_id_nothing_usable_is_null),
	    cmocka_unit_test(test_msg_id_control_bytes_dropped),
	    cmocka_unit_test(test_msg_scan_first_message_id_wins),
	    cmocka_unit_test(test_msg_scan_folded_message_id),
	    cmocka_unit_test(test_msg_scan_no_message_id_is_null),
	    cmocka_unit_test(test_msg_scan_message_id_in_body_ignored),
	    cmocka_unit_test(test_msg_parse_date_accepts_real_world_forms),
	    cmocka_unit_test(
	        test_msg_parse_date_rejects_garbage_and_impossible_dates),
	    cmocka_unit_test(test_msg_parse_date_reads_only_n_bytes),
	    cmocka_unit_test(test_msg_scan_newest_received_wins),
	    cmocka_unit_test(test_msg_scan_first_date_wins),
	    cmocka_unit_test(test_msg_best_date_falls_back),
	    cmocka_unit_test(
	        test_msg_canon_drops_trace_fields_and_normalizes_line_ends),
	    cmocka_unit_test(test_msg_canon_hash_same_for_two_copies),
	    cmocka_unit_test(test_msg_canon_hash_differs_for_different_bodies),
	    cmocka_unit_test(test_msg_canon_field_names_case_insensitive),
	    cmocka_unit_test(
	        test_msg_canon_removed_field_takes_its_continuations),
	    cmocka_unit_test(test_msg_canon_odd_messages),
	    cmocka_unit_test(test_msg_scan_size_counts_every_byte),
	    cmocka_unit_test(test_msg_scan_results_independent_of_split),
	    cmocka_unit_test(test_msg_scan_reusable_after_end_and_reset),
	    cmocka_unit_test(
	        test_msg_scan_huge_header_line_streams_within_bound),
	};

	return cmocka_run_group_tests_name("msg", tests, NULL, NULL);
}
