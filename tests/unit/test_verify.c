/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_verify.c - verify on real volumes: small archives
 * written with arc_* and manifest_format_* in a temporary directory, then
 * damaged (a flipped byte, a cut, a removed member or record, a dangling
 * ref) and reconciled with a real state db.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sys/stat.h>

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arc.h"
#include "buf.h"
#include "digest.h"
#include "log.h"
#include "manifest.h"
#include "store.h"
#include "verify.h"

#define V1 "work-20240101T020000Z-1.tar.gz"
#define V2 "home-20240102T020000Z-1.tar.gz"
#define VP "plain-20240103T020000Z-1.tar"

struct fix {
	char dir[256];
};

/* One volume being built. */
struct vb {
	struct arc *a;
	struct buf mf;
	const char *name;
};

static int
setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	const char *t = getenv("TMPDIR");

	if (f == NULL)
		return -1;
	if (t == NULL || *t == '\0')
		t = "/tmp";
	if (snprintf(f->dir, sizeof(f->dir), "%s/test_verify-XXXXXX", t) >=
	        (int)sizeof(f->dir) ||
	    mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fix *f = *state;
	DIR *d = opendir(f->dir);
	struct dirent *de;
	char p[512];

	while (d != NULL && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' &&
		    (de->d_name[1] == '\0' || strcmp(de->d_name, "..") == 0))
			continue;
		if (snprintf(p, sizeof(p), "%s/%s", f->dir, de->d_name) <
		    (int)sizeof(p))
			(void)unlink(p);
	}
	if (d != NULL)
		(void)closedir(d);
	(void)chmod(f->dir, 0700);
	(void)rmdir(f->dir);
	free(f);
	return 0;
}

static void
path_of(const struct fix *f, const char *name, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%s/%s", f->dir, name);

	assert_true(n > 0 && (size_t)n < cap);
}

static void
vol_begin(struct fix *f, struct vb *vb, const char *name, enum arc_filter fl)
{
	struct pv_err err;

	memset(vb, 0, sizeof(*vb));
	vb->name = name;
	if (arc_open(f->dir, name, fl, -1, &vb->a, &err) != PV_OK)
		fail_msg("arc_open: %s", err.msg);
	buf_init(&vb->mf, 1u << 20);
	assert_true(manifest_format_header(&vb->mf, name, 1700000000));
}

static void
put_member(struct vb *vb, const char *member, const char *body)
{
	struct pv_err err;
	size_t n = strlen(body);

	assert_int_equal(arc_entry_begin(vb->a, member, 1700000000, (uint64_t)n,
	                     &err),
	    PV_OK);
	assert_int_equal(arc_entry_data(vb->a, body, n, &err), PV_OK);
	assert_int_equal(arc_entry_end(vb->a, &err), PV_OK);
}

static void
put_rec(struct vb *vb, enum manifest_kind kind, const char *account,
    const char *body, const char *entry)
{
	struct manifest_rec r;

	memset(&r, 0, sizeof(r));
	r.kind = kind;
	r.account = (char *)(uintptr_t)account;
	r.uidl = (char *)(uintptr_t)body; /* unique enough */
	r.uidl_len = strlen(body) < 20 ? strlen(body) : 20;
	digest_sha256_hex(body, strlen(body), r.sha256);
	r.size = strlen(body);
	r.date = 1700000000;
	r.date_src = (char *)(uintptr_t) "fetched";
	r.entry = (char *)(uintptr_t)entry;
	r.first_seen = 1700000000;
	assert_true(manifest_format_rec(&vb->mf, &r));
}

static void
member_name(const char *account, const char *body, char out[128])
{
	char sha[65];
	int n;

	digest_sha256_hex(body, strlen(body), sha);
	n = snprintf(out, 128, "%s/%s.eml", account, sha);
	assert_true(n > 0 && n < 128);
}

/* A message stored in this volume, with its record. */
static void
vol_msg(struct vb *vb, const char *account, const char *body)
{
	char m[128];

	member_name(account, body, m);
	put_member(vb, m, body);
	put_rec(vb, MANIFEST_STORED, account, body, m);
}

/* A record referring to the copy held by 'target' under holder's dir. */
static void
vol_ref(struct vb *vb, const char *account, const char *body,
    const char *target, const char *holder)
{
	char m[128], e[300];
	int n;

	member_name(holder, body, m);
	n = snprintf(e, sizeof(e), "%s/%s", target, m);
	assert_true(n > 0 && (size_t)n < sizeof(e));
	put_rec(vb, MANIFEST_REF, account, body, e);
}

static void
vol_end(struct vb *vb)
{
	struct pv_err err;

	put_member(vb, MANIFEST_NAME, vb->mf.data);
	if (arc_commit(vb->a, &err) != PV_OK)
		fail_msg("arc_commit: %s", err.msg);
	buf_free(&vb->mf);
}

/* Two good gzip volumes: work has a and b, home has c and refers to a. */
static void
good_archive(struct fix *f)
{
	struct vb vb;

	vol_begin(f, &vb, V1, ARC_GZIP);
	vol_msg(&vb, "work", "Subject: a\r\n\r\nfirst\r\n");
	vol_msg(&vb, "work", "Subject: b\r\n\r\nsecond\r\n");
	vol_end(&vb);
	vol_begin(f, &vb, V2, ARC_GZIP);
	vol_msg(&vb, "home", "Subject: c\r\n\r\nthird\r\n");
	vol_ref(&vb, "home", "Subject: a\r\n\r\nfirst\r\n", V1, "work");
	vol_end(&vb);
}

static void
run_ok(struct fix *f, struct store *st, struct verify_report *r)
{
	struct pv_err err;

	if (verify_run(f->dir, st, NULL, r, &err) != PV_OK)
		fail_msg("verify_run: %s", err.msg);
}

static size_t
count_kind(const struct verify_report *r, enum verify_kind k)
{
	size_t i, n = 0;

	for (i = 0; i < r->nprobs; i++)
		n += r->probs[i].kind == k;
	return n;
}

static const struct verify_volume *
vol_named(const struct verify_report *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nvols; i++)
		if (strcmp(r->vols[i].name, name) == 0)
			return &r->vols[i];
	fail_msg("no volume %s in the report", name);
	return NULL;
}

static unsigned char *
slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	unsigned char *p;
	long n;

	assert_non_null(fp);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	assert_true(n > 0);
	rewind(fp);
	p = malloc((size_t)n);
	assert_non_null(p);
	assert_int_equal(fread(p, 1, (size_t)n, fp), (size_t)n);
	(void)fclose(fp);
	*len = (size_t)n;
	return p;
}

static void
spit(const char *path, const unsigned char *p, size_t n)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(p, 1, n, fp), n);
	assert_int_equal(fclose(fp), 0);
}

/* ---- tests ----------------------------------------------------------- */

static void
test_verify_good_archive_has_no_problem(void **state)
{
	struct fix *f = *state;
	struct verify_report r;

	good_archive(f);
	run_ok(f, NULL, &r);
	assert_int_equal(r.nprobs, 0);
	assert_int_equal(r.nerrors, 0);
	assert_false(r.with_state);
	assert_int_equal(r.nvols, 2);
	/* name order */
	assert_string_equal(r.vols[0].name, V2);
	assert_string_equal(r.vols[1].name, V1);
	assert_int_equal(r.vols[0].members, 2); /* c + manifest */
	assert_int_equal(r.vols[1].members, 3);
	assert_int_equal(r.vols[1].status, VERIFY_VOL_OK);
	assert_true(r.vols[1].bytes > 0);
	verify_report_free(&r);
}

/* Every filter we write is read back and re-hashed. */
static void
test_verify_reads_every_filter(void **state)
{
	static const struct {
		const char *name;
		enum arc_filter f;
	} v[] = {
	    {"z-20240101T020000Z-1.tar.zst", ARC_ZSTD},
	    {"x-20240101T020000Z-1.tar.xz", ARC_XZ},
	    {"n-20240101T020000Z-1.tar", ARC_NONE},
	};
	struct fix *f = *state;
	struct verify_report r;
	struct vb vb;
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		vol_begin(f, &vb, v[i].name, v[i].f);
		vol_msg(&vb, "acct", v[i].name);
		vol_end(&vb);
	}
	run_ok(f, NULL, &r);
	assert_int_equal(r.nvols, 3);
	assert_int_equal(r.nerrors, 0);
	for (i = 0; i < r.nvols; i++) {
		assert_int_equal(r.vols[i].members, 2);
		assert_int_equal(r.vols[i].status, VERIFY_VOL_OK);
	}
	verify_report_free(&r);
}

static void
test_verify_skips_partial_and_foreign_files(void **state)
{
	struct fix *f = *state;
	struct verify_report r;
	char p[512];

	good_archive(f);
	path_of(f, "." V1 ".partial-abcdef", p, sizeof(p));
	spit(p, (const unsigned char *)"junk", 4);
	path_of(f, "notes.txt", p, sizeof(p));
	spit(p, (const unsigned char *)"junk", 4);
	path_of(f, "x-2024T-1.tar.gz", p, sizeof(p));
	spit(p, (const unsigned char *)"junk", 4);
	run_ok(f, NULL, &r);
	assert_int_equal(r.nvols, 2);
	assert_int_equal(r.nerrors, 0);
	verify_report_free(&r);
}

static void
test_verify_flipped_byte_is_a_damaged_volume(void **state)
{
	struct fix *f = *state;
	struct verify_report r;
	unsigned char *p;
	size_t n;
	char path[512];

	good_archive(f);
	path_of(f, V1, path, sizeof(path));
	p = slurp(path, &n);
	p[n / 2] ^= 0x55;
	spit(path, p, n);
	free(p);
	run_ok(f, NULL, &r);
	assert_true(r.nerrors >= 1);
	assert_int_equal(count_kind(&r, VERIFY_DAMAGED), 1);
	assert_int_equal(vol_named(&r, V1)->status, VERIFY_VOL_CORRUPT);
	/* the other volume is still read to its end (its ref into V1 may
	 * have lost its target, depending on where the damage is) */
	assert_int_equal(vol_named(&r, V2)->members, 2);
	assert_string_equal(r.probs[0].volume, V1);
	assert_non_null(strstr(r.probs[0].detail, "cannot be read: "));
	verify_report_free(&r);
}

static void
test_verify_truncated_volume_is_damaged(void **state)
{
	struct fix *f = *state;
	struct verify_report r;
	char path[512];
	struct stat sb;

	good_archive(f);
	path_of(f, V2, path, sizeof(path));
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(truncate(path, sb.st_size - 30), 0);
	run_ok(f, NULL, &r);
	assert_int_equal(count_kind(&r, VERIFY_DAMAGED), 1);
	assert_int_equal(vol_named(&r, V2)->status, VERIFY_VOL_CORRUPT);
	assert_int_equal(vol_named(&r, V1)->status, VERIFY_VOL_OK);
	verify_report_free(&r);
}

/* A plain tar checksums only its headers: the hash is what notices. */
static void
test_verify_changed_content_in_plain_tar_is_a_bad_member(void **state)
{
	struct fix *f = *state;
	struct verify_report r;
	struct vb vb;
	unsigned char *p, *hit;
	size_t n;
	char path[512];

	vol_begin(f, &vb, VP, ARC_NONE);
	vol_msg(&vb, "plain", "Subject: p\r\n\r\nUNIQUEBODY\r\n");
	vol_end(&vb);
	path_of(f, VP, path, sizeof(path));
	p = slurp(path, &n);
	for (hit = p; hit + 10 <= p + n; hit++)
		if (memcmp(hit, "UNIQUEBODY", 10) == 0)
			break;
	assert_true(hit + 10 <= p + n);
	hit[0] = 'X';
	spit(path, p, n);
	free(p);
	run_ok(f, NULL, &r);
	assert_int_equal(count_kind(&r, VERIFY_BAD_MEMBER), 1);
	assert_int_equal(count_kind(&r, VERIFY_MISMATCH), 1);
	assert_int_equal(r.vols[0].status, VERIFY_VOL_CORRUPT);
	verify_report_free(&r);
}

static void
test_verify_member_and_record_must_match_up(void **state)
{
	struct fix *f = *state;
	struct verify_report r;
	struct vb vb;
	char m[128];

	vol_begin(f, &vb, V1, ARC_GZIP);
	vol_msg(&vb, "work", "Subject: a\r\n\r\nfirst\r\n");
	/* a member without a record */
	member_name("work", "Subject: b\r\n\r\nsecond\r\n", m);
	put_member(&vb, m, "Subject: b\r\n\r\nsecond\r\n");
	/* a record without its member */
	member_name("work", "Subject: c\r\n\r\nthird\r\n", m);
	put_rec(&vb, MANIFEST_STORED, "work", "Subject: c\r\n\r\nthird\r\n", m);
	vol_end(&vb);
	run_ok(f, NULL, &r);
	assert_int_equal(count_kind(&r, VERIFY_NO_RECORD), 1);
	assert_int_equal(count_kind(&r, VERIFY_NO_MEMBER), 1);
	assert_int_equal(r.nerrors, 2);
	assert_int_equal(r.vols[0].status, VERIFY_VOL_CORRUPT);
	verify_report_free(&r);
}

static void
test_verify_volume_without_manifest_is_corrupt(void **state)
{
	struct fix *f = *state;
	struct verify_report r;
	struct pv_err err;
	struct vb vb;

	vol_begin(f, &vb, V1, ARC_GZIP);
	vol_msg(&vb, "work", "Subject: a\r\n\r\nfirst\r\n");
	assert_int_equal(arc_commit(vb.a, &err), PV_OK);
	buf_free(&vb.mf);
	run_ok(f, NULL, &r);
	assert_int_equal(count_kind(&r, VERIFY_BAD_MANIFEST), 1);
	verify_report_free(&r);
}

static void
test_verify_renamed_volume_is_noticed(void **state)
{
	struct fix *f = *state;
	struct verify_report r;
	char from[512], to[512];

	good_archive(f);
	path_of(f, V1, from, sizeof(from));
	path_of(f, "work-20240101T020000Z-9.tar.gz", to, sizeof(to));
	assert_int_equal(rename(from, to), 0);
	run_ok(f, NULL, &r);
	/* its manifest names V1, and V2's ref into V1 finds nothing */
	assert_int_equal(count_kind(&r, VERIFY_BAD_MANIFEST), 1);
	assert_int_equal(count_kind(&r, VERIFY_BAD_REF), 1);
	assert_int_equal(r.nerrors, 2);
	verify_report_free(&r);
}

static void
test_verify_dangling_refs_are_reported(void **state)
{
	struct fix *f = *state;
	struct verify_report r;
	struct vb vb;

	vol_begin(f, &vb, V1, ARC_GZIP);
	vol_msg(&vb, "work", "Subject: a\r\n\r\nfirst\r\n");
	vol_end(&vb);
	vol_begin(f, &vb, V2, ARC_GZIP);
	/* to a volume that is not there */
	vol_ref(&vb, "home", "Subject: a\r\n\r\nfirst\r\n",
	    "gone-20230101T000000Z-1.tar.gz", "work");
	/* to a member the target does not have */
	vol_ref(&vb, "home", "Subject: z\r\n\r\nnowhere\r\n", V1, "work");
	/* a good one */
	vol_ref(&vb, "home", "Subject: a\r\n\r\nfirst\r\n", V1, "work");
	vol_end(&vb);
	run_ok(f, NULL, &r);
	assert_int_equal(count_kind(&r, VERIFY_BAD_REF), 2);
	assert_int_equal(r.nerrors, 2);
	assert_int_equal(vol_named(&r, V2)->status, VERIFY_VOL_CORRUPT);
	assert_int_equal(vol_named(&r, V1)->status, VERIFY_VOL_OK);
	verify_report_free(&r);
}

/* A DONE message row: volume 'vol' (PENDING until done_volume). */
static void
state_msg(struct store *st, int64_t vol, const char *account, const char *body,
    bool blob)
{
	struct store_msg m;
	struct pv_err err;
	char member[128];

	memset(&m, 0, sizeof(m));
	m.account = account;
	m.uidl = body;
	m.uidl_len = 10;
	digest_sha256_hex(body, strlen(body), m.sha256);
	m.size = strlen(body);
	m.date_src = "fetched";
	m.volume_id = vol;
	member_name(account, body, member);
	if (blob &&
	    store_blob_add(st, m.sha256, m.size, vol, member, &err) != PV_OK)
		fail_msg("store_blob_add: %s", err.msg);
	if (store_msg_add(st, &m, &err) != PV_OK)
		fail_msg("store_msg_add: %s", err.msg);
}

static void
test_verify_reconciles_with_the_state(void **state)
{
	struct fix *f = *state;
	struct verify_report r;
	struct store *st = NULL;
	struct pv_err err;
	int64_t v1, vg, vx;

	good_archive(f);
	assert_int_equal(store_open(":memory:", STORE_CREATE, &st, &err),
	    PV_OK);
	assert_int_equal(store_volume_add(st, V1, 1, &v1, &err), PV_OK);
	state_msg(st, v1, "work", "Subject: a\r\n\r\nfirst\r\n", true);
	state_msg(st, v1, "work", "Subject: b\r\n\r\nsecond\r\n", true);
	assert_int_equal(store_volume_done(st, v1, &err), PV_OK);
	/* a done volume whose file is gone, with a message only there */
	assert_int_equal(store_volume_add(st, "gone-20230101T000000Z-1.tar.gz",
	                     1, &vg, &err),
	    PV_OK);
	state_msg(st, vg, "gone", "Subject: g\r\n\r\nlost\r\n", true);
	assert_int_equal(store_volume_done(st, vg, &err), PV_OK);
	/* a pending volume is not the archive's business */
	assert_int_equal(store_volume_add(st, "zz-20250101T000000Z-1.tar.gz", 1,
	                     &vx, &err),
	    PV_OK);
	state_msg(st, vx, "zz", "Subject: x\r\n\r\npending\r\n", true);
	/* V2 is not in this state: a warning only */
	run_ok(f, st, &r);
	assert_true(r.with_state);
	assert_int_equal(count_kind(&r, VERIFY_MISSING_VOLUME), 1);
	assert_int_equal(count_kind(&r, VERIFY_MISSING), 1);
	assert_int_equal(count_kind(&r, VERIFY_EXTRA), 1);
	assert_int_equal(r.nerrors, 2);
	assert_int_equal(r.nvols, 3);
	assert_int_equal(r.vols[2].status, VERIFY_VOL_MISSING);
	assert_string_equal(r.vols[2].name, "gone-20230101T000000Z-1.tar.gz");
	assert_int_equal(r.naccts, 2);
	assert_string_equal(r.accts[0].account, "gone");
	assert_int_equal(r.accts[0].messages, 1);
	assert_int_equal(r.accts[0].missing, 1);
	assert_string_equal(r.accts[1].account, "work");
	assert_int_equal(r.accts[1].messages, 2);
	assert_int_equal(r.accts[1].found, 2);
	assert_int_equal(r.accts[1].missing, 0);
	verify_report_free(&r);
	store_close(st);
}

static void
test_verify_content_of_a_damaged_volume_counts_only_if_read(void **state)
{
	struct fix *f = *state;
	struct verify_report r;
	struct store *st = NULL;
	struct pv_err err;
	char path[512];
	int64_t v1;

	good_archive(f);
	path_of(f, V1, path, sizeof(path));
	assert_int_equal(truncate(path, 20), 0);
	assert_int_equal(store_open(":memory:", STORE_CREATE, &st, &err),
	    PV_OK);
	assert_int_equal(store_volume_add(st, V1, 1, &v1, &err), PV_OK);
	state_msg(st, v1, "work", "Subject: b\r\n\r\nsecond\r\n", true);
	assert_int_equal(store_volume_done(st, v1, &err), PV_OK);
	run_ok(f, st, &r);
	assert_int_equal(count_kind(&r, VERIFY_DAMAGED), 1);
	assert_int_equal(count_kind(&r, VERIFY_MISSING), 1);
	/* and home's ref into V1 no longer finds its member */
	assert_int_equal(count_kind(&r, VERIFY_BAD_REF), 1);
	verify_report_free(&r);
	store_close(st);
}

static void
test_verify_unreadable_directory_is_an_io_error(void **state)
{
	struct fix *f = *state;
	struct verify_report r;
	struct pv_err err;
	char p[512];

	path_of(f, "nope", p, sizeof(p));
	assert_int_equal(verify_run(p, NULL, NULL, &r, &err), PV_EIO);
	assert_non_null(strstr(err.msg, "nope"));
	assert_int_equal(r.nvols, 0);
	verify_report_free(&r);
}

static void
test_verify_stops_when_aborted(void **state)
{
	struct fix *f = *state;
	struct verify_report r;
	struct pv_err err;
	volatile sig_atomic_t stop = 1;

	good_archive(f);
	assert_int_equal(verify_run(f->dir, NULL, &stop, &r, &err), PV_EABORT);
	assert_int_equal(r.nvols, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	    T(test_verify_good_archive_has_no_problem),
	    T(test_verify_reads_every_filter),
	    T(test_verify_skips_partial_and_foreign_files),
	    T(test_verify_flipped_byte_is_a_damaged_volume),
	    T(test_verify_truncated_volume_is_damaged),
	    T(test_verify_changed_content_in_plain_tar_is_a_bad_member),
	    T(test_verify_member_and_record_must_match_up),
	    T(test_verify_volume_without_manifest_is_corrupt),
	    T(test_verify_renamed_volume_is_noticed),
	    T(test_verify_dangling_refs_are_reported),
	    T(test_verify_reconciles_with_the_state),
	    T(test_verify_content_of_a_damaged_volume_counts_only_if_read),
	    T(test_verify_unreadable_directory_is_an_io_error),
	    T(test_verify_stops_when_aborted),
#undef T
	};

	log_init(-1, 0);
	return cmocka_run_group_tests_name("verify", tests, NULL, NULL);
}
