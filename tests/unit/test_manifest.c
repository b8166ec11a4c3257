/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_manifest.c - the volume manifest: exact format,
 * round trip of hostile values, strict parsing with line numbers.
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
#include "manifest.h"

#define SHA_A "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define SHA_B "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

#define HDR "popvault-manifest 1\nvolume v.tar.gz\ncreated 1700000000\n"
#define REC_OK                                                              \
	"m\tstored\twork\tUID1\t" SHA_A "\t42\t1212483930\t120\treceived\t" \
	"id@x\twork/" SHA_A ".eml\t" SHA_B "\t1700000000\n"

/* ---- helpers --------------------------------------------------------- */

struct got {
	size_t n;
	struct manifest_rec r[8]; /* deep copies */
	enum pv_code fail_at;     /* PV_OK: never fail */
	size_t fail_n;
};

static char *
dup_or_null(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

static enum pv_code
collect(void *arg, const struct manifest_rec *r, struct pv_err *err)
{
	struct got *g = arg;
	struct manifest_rec *c;

	if (g->fail_at != PV_OK && g->n == g->fail_n)
		return pv_errf(err, g->fail_at, "callback says no");
	assert_true(g->n < 8);
	c = &g->r[g->n++];
	*c = *r;
	c->account = dup_or_null(r->account);
	c->uidl = malloc(r->uidl_len + 1);
	assert_non_null(c->uidl);
	memcpy(c->uidl, r->uidl, r->uidl_len + 1);
	c->date_src = dup_or_null(r->date_src);
	c->message_id = dup_or_null(r->message_id);
	c->entry = dup_or_null(r->entry);
	return PV_OK;
}

static void
got_clear(struct got *g)
{
	size_t i;

	for (i = 0; i < g->n; i++)
		manifest_rec_clear(&g->r[i]);
	memset(g, 0, sizeof(*g));
}

static void
fill(struct manifest_rec *r, const char *uidl, const char *msgid)
{
	memset(r, 0, sizeof(*r));
	r->kind = MANIFEST_STORED;
	r->account = (char *)(uintptr_t) "work";
	r->uidl = (char *)(uintptr_t)uidl;
	r->uidl_len = strlen(uidl);
	memcpy(r->sha256, SHA_A, 65);
	r->size = 42;
	r->date = 1212483930;
	r->date_off = 120;
	r->date_src = (char *)(uintptr_t) "received";
	r->message_id = (char *)(uintptr_t)msgid;
	r->entry = (char *)(uintptr_t) "work/" SHA_A ".eml";
	memcpy(r->canon, SHA_B, 65);
	r->first_seen = 1700000000;
}

static enum pv_code
parse_str(const char *s, char **vol, int64_t *created, struct got *g,
    struct pv_err *err)
{
	return manifest_parse(s, strlen(s), vol, created, collect, g, err);
}

/* Parse s and expect PV_EPROTO with "manifest line <line>:" in the text. */
static void
assert_rejected(const char *s, size_t line)
{
	struct got g;
	struct pv_err err;
	char *vol = (char *)(uintptr_t) "untouched";
	int64_t created = 7;
	char want[64];
	enum pv_code rc;

	memset(&g, 0, sizeof(g));
	pv_errclear(&err);
	rc = parse_str(s, &vol, &created, &g, &err);
	if (rc != PV_EPROTO)
		fail_msg("accepted (rc %d): \"%s\"", rc, s);
	assert_int_equal(err.code, PV_EPROTO);
	(void)snprintf(want, sizeof(want), "manifest line %zu: ", line);
	if (strncmp(err.msg, want, strlen(want)) != 0)
		fail_msg("want \"%s...\", got \"%s\"", want, err.msg);
	assert_string_equal(vol, "untouched");
	assert_int_equal(created, 7);
	got_clear(&g);
}

/* ---- format ---------------------------------------------------------- */

static void
test_manifest_format_is_exactly_the_documented_text(void **state)
{
	struct buf b;
	struct manifest_rec r;

	(void)state;
	buf_init(&b, 1 << 16);
	assert_true(manifest_format_header(&b, "v.tar.gz", 1700000000));
	fill(&r, "UID1", "id@x");
	assert_true(manifest_format_rec(&b, &r));
	assert_string_equal(b.data, HDR REC_OK);
	buf_free(&b);
}

static void
test_manifest_format_encodes_and_dashes(void **state)
{
	struct buf b;
	struct manifest_rec r;

	(void)state;
	buf_init(&b, 1 << 16);
	fill(&r, "-", NULL);
	r.kind = MANIFEST_REF;
	r.account = (char *)(uintptr_t) "a b%c";
	r.canon[0] = '\0';
	r.entry = (char *)(uintptr_t) "old.tar.gz/x.eml";
	assert_true(manifest_format_rec(&b, &r));
	assert_string_equal(b.data, "m\tref\ta%20b%25c\t%2D\t" SHA_A
	                            "\t42\t1212483930\t120\treceived\t-\t"
	                            "old.tar.gz/x.eml\t-\t1700000000\n");
	buf_free(&b);
}

static void
test_manifest_format_full_buffer_leaves_it_unchanged(void **state)
{
	struct buf b;
	struct manifest_rec r;
	size_t len;

	(void)state;
	buf_init(&b, 100);
	assert_true(manifest_format_header(&b, "v.tar.gz", 1));
	len = b.len;
	fill(&r, "UID1", "id@x");
	assert_false(manifest_format_rec(&b, &r));
	assert_int_equal(b.len, len);
	assert_int_equal(b.data[len], '\0');
	buf_free(&b);

	buf_init(&b, 10);
	assert_false(manifest_format_header(&b, "v.tar.gz", 1));
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

/* ---- round trip ------------------------------------------------------ */

static void
test_manifest_round_trip_hostile_values(void **state)
{
	static const char *const hostile[] = {
	    "-",
	    "--",
	    "%",
	    "%2D",
	    "a\tb",
	    "line\nbreak\r\n",
	    " leading and trailing ",
	    "\xc3\xa9t\xc3\xa9 \xff\x80\x01\x7f",
	    "<id@example.org>",
	    "m\tstored\tfake",
	    "100%",
	};
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		struct buf b;
		struct manifest_rec r[2];
		struct got g;
		struct pv_err err;
		char *vol = NULL;
		int64_t created = 0;

		buf_init(&b, 1 << 16);
		assert_true(manifest_format_header(&b, hostile[i], -5));
		fill(&r[0], hostile[i], hostile[i]);
		r[0].account = (char *)(uintptr_t)hostile[i];
		r[0].date = -86400;
		r[0].date_off = -(99 * 60 + 59);
		r[0].size = UINT64_MAX;
		r[0].first_seen = INT64_MIN;
		fill(&r[1], "x", NULL);
		r[1].kind = MANIFEST_REF;
		r[1].entry = (char *)(uintptr_t) "v/m";
		r[1].canon[0] = '\0';
		r[1].date = INT64_MAX;
		r[1].date_src = (char *)(uintptr_t) "fetched";
		for (j = 0; j < 2; j++)
			assert_true(manifest_format_rec(&b, &r[j]));
		/* One line per record, whatever the values hold. */
		{
			size_t lines = 0, k;

			for (k = 0; k < b.len; k++)
				lines += b.data[k] == '\n';
			assert_int_equal(lines, 5);
		}
		memset(&g, 0, sizeof(g));
		pv_errclear(&err);
		if (manifest_parse(b.data, b.len, &vol, &created, collect, &g,
		        &err) != PV_OK)
			fail_msg("value %zu: %s", i, err.msg);
		assert_string_equal(vol, hostile[i]);
		assert_int_equal(created, -5);
		assert_int_equal(g.n, 2);
		for (j = 0; j < 2; j++) {
			struct manifest_rec *a = &r[j], *c = &g.r[j];

			assert_int_equal(c->kind, a->kind);
			assert_string_equal(c->account, a->account);
			assert_int_equal(c->uidl_len, a->uidl_len);
			assert_memory_equal(c->uidl, a->uidl, a->uidl_len);
			assert_string_equal(c->sha256, a->sha256);
			assert_true(c->size == a->size);
			assert_true(c->date == a->date);
			assert_int_equal(c->date_off, a->date_off);
			assert_string_equal(c->date_src, a->date_src);
			if (a->message_id == NULL)
				assert_null(c->message_id);
			else
				assert_string_equal(c->message_id,
				    a->message_id);
			assert_string_equal(c->entry, a->entry);
			assert_string_equal(c->canon, a->canon);
			assert_true(c->first_seen == a->first_seen);
		}
		got_clear(&g);
		free(vol);
		buf_free(&b);
	}
}

static void
test_manifest_parse_header_only(void **state)
{
	struct got g;
	struct pv_err err;
	char *vol = NULL;
	int64_t created = 0;

	(void)state;
	memset(&g, 0, sizeof(g));
	assert_int_equal(parse_str(HDR, &vol, &created, &g, &err), PV_OK);
	assert_string_equal(vol, "v.tar.gz");
	assert_int_equal(created, 1700000000);
	assert_int_equal(g.n, 0);
	free(vol);
}

static void
test_manifest_parse_accepts_lower_case_escapes(void **state)
{
	struct got g;
	struct pv_err err;
	char *vol = NULL;
	int64_t created = 0;

	(void)state;
	memset(&g, 0, sizeof(g));
	assert_int_equal(parse_str("popvault-manifest 1\nvolume a%2fb\n"
	                           "created 0\n",
	                     &vol, &created, &g, &err),
	    PV_OK);
	assert_string_equal(vol, "a/b");
	free(vol);
}

/* ---- strict parsing -------------------------------------------------- */

static void
test_manifest_parse_rejects_bad_header(void **state)
{
	(void)state;
	assert_rejected("", 1);
	assert_rejected("popvault-manifest 1", 1); /* no LF */
	assert_rejected("popvault-manifest 2\nvolume v\ncreated 1\n", 1);
	assert_rejected("popvault-manifest  1\nvolume v\ncreated 1\n", 1);
	assert_rejected("tar-manifest 1\nvolume v\ncreated 1\n", 1);
	assert_rejected("popvault-manifest 1\r\nvolume v\ncreated 1\n", 1);
	assert_rejected("popvault-manifest 1\n", 2);
	assert_rejected("popvault-manifest 1\nvolume -\ncreated 1\n", 2);
	assert_rejected("popvault-manifest 1\nvolume a b\ncreated 1\n", 2);
	assert_rejected("popvault-manifest 1\nvolume v\n", 3);
	assert_rejected("popvault-manifest 1\nvolume v\ncreated\n", 3);
	assert_rejected("popvault-manifest 1\nvolume v\ncreated +1\n", 3);
	assert_rejected("popvault-manifest 1\nvolume v\ncreated 1x\n", 3);
	assert_rejected(
	    "popvault-manifest 1\nvolume v\ncreated 99999999999999999999\n", 3);
	assert_rejected("popvault-manifest 1\ncreated 1\nvolume v\n", 2);
}

static void
test_manifest_parse_rejects_bad_records(void **state)
{
	static const struct {
		const char *from, *to;
	} edits[] = {
	    {"m\tstored", "x\tstored"},  /* unknown line */
	    {"m\tstored", "m\tkept"},    /* unknown kind */
	    {"\twork\t", "\t-\t"},       /* no account */
	    {"\twork\t", "\tw ork\t"},   /* raw space */
	    {"\twork\t", "\tw\xe9rk\t"}, /* raw 8-bit */
	    {"\tUID1\t", "\tUID%1\t"},   /* short escape */
	    {"\tUID1\t", "\tUID%G1\t"},  /* bad escape */
	    {"\tUID1\t", "\tUID%00\t"},  /* encoded NUL */
	    {"\tUID1\t", "\tUID\t1\t"},  /* raw TAB: a field too many */
	    {"\tUID1\t", "\t\t"},        /* empty field */
	    {"\t" SHA_A,
	        "\tBA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"},
	    {"\t" SHA_A, "\tba78"},                 /* short sha256 */
	    {"\t" SHA_A, "\t-"},                    /* sha256 required */
	    {"\t42\t", "\t-1\t"},                   /* negative size */
	    {"\t42\t", "\t+42\t"},                  /* sign */
	    {"\t42\t", "\t 42\t"},                  /* white space */
	    {"\t42\t", "\t4e2\t"},                  /* not decimal */
	    {"\t42\t", "\t18446744073709551616\t"}, /* > UINT64_MAX */
	    {"\t1212483930\t", "\t9223372036854775808\t"},
	    {"\t1212483930\t", "\t-\t"},
	    {"\t120\t", "\t6000\t"},         /* zone beyond +9959 */
	    {"\treceived\t", "\tguessed\t"}, /* unknown date source */
	    {"\t" SHA_B, "\t" SHA_A "0"},    /* canon too long */
	    {"\t1700000000\n", "\t\n"},      /* empty first_seen */
	    {"\t1700000000\n", "\t1700000000\textra\n"},
	    {"\t1700000000\n", "\t1700000000\r\n"}, /* CR */
	    {"\t1700000000\n", "\t1700000000"},     /* cut short */
	    {"\tid@x\t", "\tid@x\tmore\t"},         /* a field too many */
	};
	char line[1024];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		const char *at = strstr(REC_OK, edits[i].from);
		int n;

		assert_non_null(at);
		n = snprintf(line, sizeof(line), "%s%.*s%s%s", HDR,
		    (int)(at - REC_OK), REC_OK, edits[i].to,
		    at + strlen(edits[i].from));
		assert_true(n > 0 && (size_t)n < sizeof(line));
		assert_rejected(line, 4);
	}
	/* A ref names "<volume>/<member>". */
	assert_rejected(HDR "m\tref\tw\tu\t" SHA_A
	                    "\t1\t1\t0\tdate\t-\tnoslash\t-\t1\n",
	    4);
	/* Errors name the right line further down. */
	assert_rejected(HDR REC_OK REC_OK "\n", 6);
	assert_rejected(HDR REC_OK REC_OK "m\tstored\n", 6);
}

static void
test_manifest_parse_callback_error_stops_and_is_returned(void **state)
{
	struct got g;
	struct pv_err err;
	char *vol = (char *)(uintptr_t) "untouched";
	int64_t created = 3;

	(void)state;
	memset(&g, 0, sizeof(g));
	g.fail_at = PV_EIO;
	g.fail_n = 1;
	assert_int_equal(parse_str(HDR REC_OK REC_OK REC_OK, &vol, &created, &g,
	                     &err),
	    PV_EIO);
	assert_string_equal(err.msg, "callback says no");
	assert_int_equal(g.n, 1);
	assert_string_equal(vol, "untouched");
	assert_int_equal(created, 3);
	got_clear(&g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
	        test_manifest_format_is_exactly_the_documented_text),
	    cmocka_unit_test(test_manifest_format_encodes_and_dashes),
	    cmocka_unit_test(
	        test_manifest_format_full_buffer_leaves_it_unchanged),
	    cmocka_unit_test(test_manifest_round_trip_hostile_values),
	    cmocka_unit_test(test_manifest_parse_header_only),
	    cmocka_unit_test(test_manifest_parse_accepts_lower_case_escapes),
	    cmocka_unit_test(test_manifest_parse_rejects_bad_header),
	    cmocka_unit_test(test_manifest_parse_rejects_bad_records),
	    cmocka_unit_test(
	        test_manifest_parse_callback_error_stops_and_is_returned),
	};

	return cmocka_run_group_tests_name("manifest", tests, NULL, NULL);
}
