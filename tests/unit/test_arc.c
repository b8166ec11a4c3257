/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_arc.c - archive volumes on a real file system: write,
 * commit, read back; never overwrite; nothing visible after a failure
 * (abort, disk full); partial-file cleanup; damaged volumes are errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arc.h"

struct member {
	const char *name;
	int64_t mtime;
	const unsigned char *data; /* borrowed */
	size_t len;
};

struct fixture {
	char dir[256];
	unsigned char *big; /* 1 MiB of noise */
	size_t biglen;
};

/* ---- helpers --------------------------------------------------------- */

static uint64_t
noise(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *t = getenv("TMPDIR");
	uint64_t x = 88172645463325252ull;
	size_t i;

	if (f == NULL)
		return -1;
	if (t == NULL || *t == '\0')
		t = "/tmp";
	if (snprintf(f->dir, sizeof(f->dir), "%s/test_arc-XXXXXX", t) >=
	        (int)sizeof(f->dir) ||
	    mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	f->biglen = 1u << 20;
	f->big = malloc(f->biglen);
	if (f->big == NULL) {
		(void)rmdir(f->dir);
		free(f);
		return -1;
	}
	for (i = 0; i < f->biglen; i++)
		f->big[i] = (unsigned char)noise(&x);
	*state = f;
	return 0;
}

static void
empty_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char p[512];

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (snprintf(p, sizeof(p), "%s/%s", dir, de->d_name) >=
		    (int)sizeof(p))
			continue;
		if (unlink(p) != 0)
			(void)rmdir(p);
	}
	(void)closedir(d);
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	empty_dir(f->dir);
	(void)rmdir(f->dir);
	free(f->big);
	free(f);
	return 0;
}

/* Each test starts with an empty directory. */
static int
clean(void **state)
{
	struct fixture *f = *state;

	empty_dir(f->dir);
	return 0;
}

static size_t
count_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	(void)closedir(d);
	return n;
}

/* dir/name in one of four static buffers, so that two can be passed to
 * one call. */
static char *
path_of(const struct fixture *f, const char *name)
{
	static char p[4][512];
	static unsigned k;
	char *r = p[k++ % 4];

	assert_true(snprintf(r, 512, "%s/%s", f->dir, name) < 512);
	return r;
}

static bool
exists(const char *p)
{
	struct stat st;

	return lstat(p, &st) == 0;
}

/* Write members m[0..n) into dir/name, giving the data in pieces of
 * 'step' bytes; commit. */
static enum pv_code
write_volume(const struct fixture *f, const char *name, enum arc_filter flt,
    const struct member *m, size_t n, size_t step, struct pv_err *err)
{
	struct arc *a = NULL;
	enum pv_code rc;
	size_t i, off;

	rc = arc_open(f->dir, name, flt, -1, &a, err);
	if (rc != PV_OK)
		return rc;
	for (i = 0; i < n; i++) {
		rc = arc_entry_begin(a, m[i].name, m[i].mtime, m[i].len, err);
		for (off = 0; rc == PV_OK && off < m[i].len; off += step) {
			size_t k =
			    m[i].len - off < step ? m[i].len - off : step;

			rc = arc_entry_data(a, m[i].data + off, k, err);
		}
		if (rc == PV_OK)
			rc = arc_entry_end(a, err);
		if (rc != PV_OK) {
			arc_abort(a);
			return rc;
		}
	}
	return arc_commit(a, err);
}

/* Read every member of path and compare with m[0..n). */
static void
assert_volume_holds(const char *path, const struct member *m, size_t n)
{
	struct arc_rd *r = NULL;
	struct pv_err err;
	unsigned char *got;
	size_t i;

	if (arc_rd_open(path, &r, &err) != PV_OK)
		fail_msg("%s", err.msg);
	for (i = 0;; i++) {
		const char *name;
		uint64_t size;
		int64_t mtime;
		bool eof;
		size_t len = 0, g;

		if (arc_rd_next(r, &name, &size, &mtime, &eof, &err) != PV_OK)
			fail_msg("%s", err.msg);
		if (eof)
			break;
		assert_true(i < n);
		assert_string_equal(name, m[i].name);
		assert_true(size == m[i].len);
		assert_true(mtime == m[i].mtime);
		got = malloc(m[i].len + 1);
		assert_non_null(got);
		for (;;) {
			/* odd read sizes on purpose */
			if (arc_rd_data(r, got + len,
			        m[i].len + 1 - len < 777 ? m[i].len + 1 - len
			                                 : 777,
			        &g, &err) != PV_OK)
				fail_msg("%s", err.msg);
			if (g == 0)
				break;
			len += g;
			assert_true(len <= m[i].len);
		}
		assert_int_equal(len, m[i].len);
		if (len > 0)
			assert_memory_equal(got, m[i].data, len);
		free(got);
	}
	assert_int_equal(i, n);
	{
		/* at the end it stays at the end */
		const char *name;
		uint64_t size;
		int64_t mtime;
		bool eof = false;

		assert_int_equal(arc_rd_next(r, &name, &size, &mtime, &eof,
		                     &err),
		    PV_OK);
		assert_true(eof);
	}
	arc_rd_close(r);
}

/* Read everything; the first failure's code (PV_OK if none). */
static enum pv_code
read_all(const char *path, struct pv_err *err)
{
	struct arc_rd *r = NULL;
	unsigned char buf[4096];
	enum pv_code rc;

	rc = arc_rd_open(path, &r, err);
	if (rc != PV_OK)
		return rc;
	for (;;) {
		const char *name;
		uint64_t size, total = 0;
		int64_t mtime;
		bool eof;
		size_t g;

		rc = arc_rd_next(r, &name, &size, &mtime, &eof, err);
		if (rc != PV_OK || eof)
			break;
		do {
			rc = arc_rd_data(r, buf, sizeof(buf), &g, err);
			total += g;
		} while (rc == PV_OK && g > 0);
		if (rc != PV_OK)
			break;
		/* a short read without an error is the bug we look for */
		if (total != size) {
			rc = PV_EINTERNAL;
			break;
		}
	}
	arc_rd_close(r);
	return rc;
}

static size_t
file_size(const char *p)
{
	struct stat st;

	assert_int_equal(lstat(p, &st), 0);
	return (size_t)st.st_size;
}

static void
copy_cut(const char *from, const char *to, size_t len, long flip)
{
	FILE *in, *out;
	unsigned char *b;
	size_t n = file_size(from);

	b = malloc(n);
	assert_non_null(b);
	in = fopen(from, "rb");
	assert_non_null(in);
	assert_int_equal(fread(b, 1, n, in), n);
	(void)fclose(in);
	if (flip >= 0)
		b[flip] ^= 0x55;
	out = fopen(to, "wb");
	assert_non_null(out);
	assert_int_equal(fwrite(b, 1, len, out), len);
	assert_int_equal(fclose(out), 0);
	free(b);
}

static const unsigned char crlf_nul[] = "From: a@b\r\nSubject: \0nul\r\n\r\n"
                                        "body\r\n\0\0\r\n.\r\n\xff\xfe";

static void
sample(const struct fixture *f, struct member m[4])
{
	m[0] = (struct member){"work/0001.eml", 1212483930, crlf_nul,
	    sizeof(crlf_nul) - 1};
	m[1] =
	    (struct member){"work/empty.eml", 0, (const unsigned char *)"", 0};
	m[2] = (struct member){"home/big.eml", -86400, f->big, f->biglen};
	m[3] = (struct member){"MANIFEST.popvault", 1700000000,
	    (const unsigned char *)"popvault-manifest 1\n", 20};
}

/* ---- tests ----------------------------------------------------------- */

static void
test_arc_round_trip_bytes_and_mtimes(void **state)
{
	static const enum arc_filter flts[] = {ARC_GZIP, ARC_NONE, ARC_ZSTD,
	    ARC_XZ};
	static const size_t steps[] = {1 << 20, 4093, 1};
	struct fixture *f = *state;
	struct member m[4];
	struct pv_err err;
	char name[64];
	size_t i;

	sample(f, m);
	for (i = 0; i < sizeof(flts) / sizeof(flts[0]); i++) {
		enum pv_code rc;
		struct member small[2];

		assert_true(snprintf(name, sizeof(name), "v%zu%s", i,
		                arc_suffix(flts[i])) < (int)sizeof(name));
		rc = write_volume(f, name, flts[i], m, 4, steps[i % 3], &err);
		if (rc == PV_ECONFIG) { /* filter not built in */
			print_message("skipping %s: %s\n", name, err.msg);
			continue;
		}
		if (rc != PV_OK)
			fail_msg("%s", err.msg);
		assert_volume_holds(path_of(f, name), m, 4);
		/* byte-by-byte data on a small volume */
		small[0] = m[0];
		small[1] = m[3];
		name[0] = 's';
		if (write_volume(f, name, flts[i], small, 2, 1, &err) != PV_OK)
			fail_msg("%s", err.msg);
		assert_volume_holds(path_of(f, name), small, 2);
	}
	/* Only the volumes: no partial file left behind. */
	{
		DIR *d = opendir(f->dir);
		struct dirent *de;

		assert_non_null(d);
		while ((de = readdir(d)) != NULL)
			assert_null(strstr(de->d_name, ".partial-"));
		(void)closedir(d);
	}
}

static void
test_arc_volume_lists_with_tar_tools(void **state)
{
	struct fixture *f = *state;
	struct member m[4];
	struct pv_err err;
	char cmd[1024], line[512];
	FILE *p;
	size_t n = 0;
	int st;

	sample(f, m);
	if (write_volume(f, "t.tar.gz", ARC_GZIP, m, 4, 4096, &err) != PV_OK)
		fail_msg("%s", err.msg);
	assert_true(snprintf(cmd, sizeof(cmd),
	                "command -v bsdtar >/dev/null || exit 77; "
	                "bsdtar -tvf '%s/t.tar.gz' 2>&1 && gzip -t "
	                "'%s/t.tar.gz' 2>&1 && tar -tzf '%s/t.tar.gz' "
	                ">/dev/null 2>&1",
	                f->dir, f->dir, f->dir) < (int)sizeof(cmd));
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p) != NULL) {
		/* -rw-r--r--  0 0      0     0 Jan  1  1970 work/... */
		assert_non_null(strstr(line, "-rw-r--r--"));
		assert_non_null(strstr(line, m[n].name));
		n++;
	}
	st = pclose(p);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 77) {
		print_message("bsdtar not installed: not checked\n");
		skip();
	}
	assert_int_equal(st, 0);
	assert_int_equal(n, 4);
}

static void
test_arc_bytes_written_is_the_file_size(void **state)
{
	struct fixture *f = *state;
	struct arc *a = NULL;
	struct pv_err err;
	uint64_t w;

	assert_int_equal(arc_open(f->dir, "b.tar", ARC_NONE, -1, &a, &err),
	    PV_OK);
	assert_int_equal(arc_entry_begin(a, "x", 0, f->biglen, &err), PV_OK);
	assert_int_equal(arc_entry_data(a, f->big, f->biglen, &err), PV_OK);
	assert_int_equal(arc_entry_end(a, &err), PV_OK);
	w = arc_bytes_written(a);
	assert_true(w > f->biglen / 2); /* written as it goes */
	assert_int_equal(arc_commit(a, &err), PV_OK);
	assert_true(file_size(path_of(f, "b.tar")) >= w);
}

static void
test_arc_open_refuses_an_existing_volume(void **state)
{
	struct fixture *f = *state;
	struct member m[4];
	struct arc *a = NULL;
	struct pv_err err;

	sample(f, m);
	assert_int_equal(write_volume(f, "v.tar.gz", ARC_GZIP, m, 1, 100, &err),
	    PV_OK);
	assert_int_equal(arc_open(f->dir, "v.tar.gz", ARC_GZIP, -1, &a, &err),
	    PV_EIO);
	assert_null(a);
	assert_non_null(strstr(err.msg, "v.tar.gz"));
	assert_int_equal(count_files(f->dir), 1);
}

static void
test_arc_commit_never_replaces_a_volume_that_appeared(void **state)
{
	struct fixture *f = *state;
	struct arc *a = NULL;
	struct pv_err err;
	FILE *fp;

	assert_int_equal(arc_open(f->dir, "r.tar.gz", ARC_GZIP, 6, &a, &err),
	    PV_OK);
	assert_int_equal(arc_entry_begin(a, "m.eml", 1, 3, &err), PV_OK);
	assert_int_equal(arc_entry_data(a, "abc", 3, &err), PV_OK);
	assert_int_equal(arc_entry_end(a, &err), PV_OK);
	/* Someone else's volume appears under the same name meanwhile. */
	fp = fopen(path_of(f, "r.tar.gz"), "w");
	assert_non_null(fp);
	assert_int_equal(fputs("precious", fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(arc_commit(a, &err), PV_EIO);
	assert_non_null(strstr(err.msg, "r.tar.gz"));
	assert_int_equal(file_size(path_of(f, "r.tar.gz")), 8);
	assert_int_equal(count_files(f->dir), 1); /* temp file gone */
}

static void
test_arc_abort_leaves_no_file(void **state)
{
	struct fixture *f = *state;
	struct arc *a = NULL;
	struct pv_err err;

	assert_int_equal(arc_open(f->dir, "a.tar.gz", ARC_GZIP, -1, &a, &err),
	    PV_OK);
	assert_int_equal(count_files(f->dir), 1); /* the hidden temp file */
	assert_int_equal(arc_entry_begin(a, "m.eml", 1, f->biglen, &err),
	    PV_OK);
	assert_int_equal(arc_entry_data(a, f->big, 1000, &err), PV_OK);
	arc_abort(a); /* mid-member */
	assert_int_equal(count_files(f->dir), 0);
	arc_abort(NULL);
}

static void
test_arc_wrong_byte_count_is_internal_and_nothing_visible(void **state)
{
	struct fixture *f = *state;
	struct arc *a = NULL;
	struct pv_err err;

	/* too few */
	assert_int_equal(arc_open(f->dir, "c.tar.gz", ARC_GZIP, -1, &a, &err),
	    PV_OK);
	assert_int_equal(arc_entry_begin(a, "m.eml", 1, 10, &err), PV_OK);
	assert_int_equal(arc_entry_data(a, "12345", 5, &err), PV_OK);
	assert_int_equal(arc_entry_end(a, &err), PV_EINTERNAL);
	assert_int_equal(arc_commit(a, &err), PV_EIO);
	assert_int_equal(count_files(f->dir), 0);

	/* too many */
	assert_int_equal(arc_open(f->dir, "c.tar.gz", ARC_GZIP, -1, &a, &err),
	    PV_OK);
	assert_int_equal(arc_entry_begin(a, "m.eml", 1, 3, &err), PV_OK);
	assert_int_equal(arc_entry_data(a, "12345", 5, &err), PV_EINTERNAL);
	assert_int_equal(arc_entry_end(a, &err), PV_EIO);
	arc_abort(a);

	/* commit inside a member */
	assert_int_equal(arc_open(f->dir, "c.tar.gz", ARC_GZIP, -1, &a, &err),
	    PV_OK);
	assert_int_equal(arc_entry_begin(a, "m.eml", 1, 3, &err), PV_OK);
	assert_int_equal(arc_commit(a, &err), PV_EINTERNAL);
	assert_int_equal(count_files(f->dir), 0);
}

static void
test_arc_refuses_unsafe_member_and_volume_names(void **state)
{
	static const char *const bad[] = {"", "/etc/passwd", "../x", "a/../b",
	    "a//b", "a/", "./a", "a\nb", "a\\b", "\xc3\xa9"};
	struct fixture *f = *state;
	struct arc *a = NULL;
	struct pv_err err;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(arc_open(f->dir, "n.tar", ARC_NONE, -1, &a,
		                     &err),
		    PV_OK);
		if (arc_entry_begin(a, bad[i], 0, 0, &err) != PV_EINTERNAL)
			fail_msg("accepted member \"%s\"", bad[i]);
		arc_abort(a);
	}
	assert_int_equal(arc_open(f->dir, "x/y.tar", ARC_NONE, -1, &a, &err),
	    PV_ECONFIG);
	assert_int_equal(arc_open(f->dir, ".y.tar", ARC_NONE, -1, &a, &err),
	    PV_ECONFIG);
	assert_int_equal(arc_open(f->dir, "", ARC_NONE, -1, &a, &err),
	    PV_ECONFIG);
	assert_int_equal(arc_open(path_of(f, "nodir"), "y.tar", ARC_NONE, -1,
	                     &a, &err),
	    PV_EIO);
	assert_int_equal(arc_open(f->dir, "y.tar.gz", ARC_GZIP, 99, &a, &err),
	    PV_ECONFIG);
	assert_int_equal(count_files(f->dir), 0);
}

static void
touch(const char *p)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600);

	assert_true(fd >= 0);
	assert_int_equal(close(fd), 0);
}

static void
test_arc_cleanup_removes_partials_only(void **state)
{
	static const char *const keep[] = {"v.tar.gz", ".hidden",
	    "v.tar.gz.partial-AbC123", ".v.tar.gz.partial-AbC12",
	    ".v.tar.gz.partial-AbC1234", ".v.tar.gz.partial-AbC12!",
	    ".partial-AbC123", ".v.tar.gz.partiaL-AbC123"};
	struct fixture *f = *state;
	struct arc *a = NULL;
	struct pv_err err;
	size_t i, n = 99;

	for (i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		touch(path_of(f, keep[i]));
	touch(path_of(f, ".v.tar.gz.partial-AbC123"));
	assert_int_equal(mkdir(path_of(f, ".d.tar.partial-ABCDEF"), 0700), 0);
	/* and a real temporary file of a volume being written */
	assert_int_equal(arc_open(f->dir, "w.tar.gz", ARC_GZIP, -1, &a, &err),
	    PV_OK);
	assert_int_equal(arc_cleanup(f->dir, &n, &err), PV_OK);
	assert_int_equal(n, 2);
	for (i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		assert_true(exists(path_of(f, keep[i])));
	assert_true(exists(path_of(f, ".d.tar.partial-ABCDEF")));
	assert_false(exists(path_of(f, ".v.tar.gz.partial-AbC123")));
	assert_int_equal(count_files(f->dir),
	    sizeof(keep) / sizeof(keep[0]) + 1);
	arc_abort(a); /* its file is gone already: fine */
	assert_int_equal(arc_cleanup(path_of(f, "nodir"), &n, &err), PV_EIO);
}

static void
test_arc_truncated_volume_is_eio_naming_it(void **state)
{
	static const enum arc_filter flts[] = {ARC_GZIP, ARC_NONE, ARC_XZ,
	    ARC_ZSTD};
	struct fixture *f = *state;
	struct member m[4];
	struct pv_err err;
	char name[64], cut[64];
	size_t i, k, len;

	sample(f, m);
	for (i = 0; i < sizeof(flts) / sizeof(flts[0]); i++) {
		size_t cuts[8];

		assert_true(snprintf(name, sizeof(name), "t%s",
		                arc_suffix(flts[i])) < (int)sizeof(name));
		if (write_volume(f, name, flts[i], m, 4, 65536, &err) != PV_OK)
			continue; /* filter not built in */
		assert_int_equal(read_all(path_of(f, name), &err), PV_OK);
		len = file_size(path_of(f, name));
		cuts[0] = len - 1;
		cuts[1] = len - 4;
		cuts[2] = len - 9;
		cuts[3] = len / 2;
		cuts[4] = 100;
		cuts[5] = len - 1024; /* plain tar: just the end marker gone */
		/* plain tar: exactly between the first two members, where
		 * libarchive itself sees a clean end of file */
		cuts[6] = 512 + ((sizeof(crlf_nul) - 1 + 511) / 512) * 512;
		cuts[7] = 0;
		for (k = 0; k < 8; k++) {
			assert_true(snprintf(cut, sizeof(cut), "cut-%s", name) <
			            (int)sizeof(cut));
			copy_cut(path_of(f, name), path_of(f, cut), cuts[k],
			    -1);
			pv_errclear(&err);
			if (read_all(path_of(f, cut), &err) != PV_EIO)
				fail_msg("%s cut at %zu of %zu: not PV_EIO "
				         "(%s)",
				    name, cuts[k], len, err.msg);
			assert_non_null(strstr(err.msg, cut));
			assert_int_equal(unlink(path_of(f, cut)), 0);
		}
	}
}

static void
test_arc_flipped_byte_in_compressed_stream_is_eio(void **state)
{
	struct fixture *f = *state;
	struct member m[4];
	struct pv_err err;
	size_t len, k;
	long at[8];

	sample(f, m);
	/* compressible content, so that a flip lands in deflate codes and
	 * not only in stored noise */
	m[2].len = 0;
	assert_int_equal(write_volume(f, "f.tar.gz", ARC_GZIP, m, 4, 512, &err),
	    PV_OK);
	len = file_size(path_of(f, "f.tar.gz"));
	at[0] = 12;
	at[1] = (long)len / 4;
	at[2] = (long)len / 2;
	at[3] = (long)len * 3 / 4;
	at[4] = (long)len - 12; /* end of the deflate data */
	at[5] = (long)len - 7;  /* CRC-32 */
	at[6] = (long)len - 2;  /* ISIZE */
	at[7] = 3;              /* header flags */
	for (k = 0; k < 8; k++) {
		copy_cut(path_of(f, "f.tar.gz"), path_of(f, "g.tar.gz"), len,
		    at[k]);
		pv_errclear(&err);
		if (read_all(path_of(f, "g.tar.gz"), &err) != PV_EIO)
			fail_msg("flip at %ld of %zu: not PV_EIO (%s)", at[k],
			    len, err.msg);
		assert_non_null(strstr(err.msg, "g.tar.gz"));
		assert_int_equal(unlink(path_of(f, "g.tar.gz")), 0);
	}
	/* and a flip in the noise member of a big volume */
	sample(f, m);
	assert_int_equal(write_volume(f, "h.tar.gz", ARC_GZIP, m, 4, 65536,
	                     &err),
	    PV_OK);
	len = file_size(path_of(f, "h.tar.gz"));
	copy_cut(path_of(f, "h.tar.gz"), path_of(f, "i.tar.gz"), len,
	    (long)len / 2);
	assert_int_equal(read_all(path_of(f, "i.tar.gz"), &err), PV_EIO);
}

static void
test_arc_not_an_archive_is_eio(void **state)
{
	struct fixture *f = *state;
	struct arc_rd *r = NULL;
	struct pv_err err;
	FILE *fp;

	fp = fopen(path_of(f, "junk.tar.gz"), "w");
	assert_non_null(fp);
	assert_true(fputs("this is not an archive at all\n", fp) >= 0);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(read_all(path_of(f, "junk.tar.gz"), &err), PV_EIO);
	assert_non_null(strstr(err.msg, "junk.tar.gz"));
	assert_int_equal(arc_rd_open(path_of(f, "missing"), &r, &err), PV_EIO);
	assert_null(r);
	arc_rd_close(NULL);
}

/* Disk full, simulated with RLIMIT_FSIZE (EFBIG instead of ENOSPC: the
 * same path through the code): PV_EIO, and neither the volume nor its
 * temporary file is left. */
static void
test_arc_disk_full_is_eio_and_nothing_visible(void **state)
{
	struct fixture *f = *state;
	struct rlimit old, lim;
	struct arc *a = NULL;
	struct pv_err err;
	enum pv_code rc;
	void (*oldsig)(int);
	size_t i;

	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	oldsig = signal(SIGXFSZ, SIG_IGN);
	lim = old;
	lim.rlim_cur = 256 * 1024;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);

	rc = arc_open(f->dir, "full.tar.gz", ARC_GZIP, -1, &a, &err);
	assert_int_equal(rc, PV_OK);
	rc = arc_entry_begin(a, "big.eml", 0, f->biglen, &err);
	for (i = 0; rc == PV_OK && i < f->biglen; i += 65536)
		rc = arc_entry_data(a, f->big + i, 65536, &err);
	if (rc == PV_OK)
		rc = arc_entry_end(a, &err);
	if (rc == PV_OK)
		rc = arc_commit(a, &err);
	else
		arc_abort(a);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	(void)signal(SIGXFSZ, oldsig);
	assert_int_equal(rc, PV_EIO);
	assert_non_null(strstr(err.msg, "full.tar.gz"));
	assert_int_equal(count_files(f->dir), 0);

	/* Same, with the failure surfacing in arc_commit's final flush. */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	oldsig = signal(SIGXFSZ, SIG_IGN);
	rc = arc_open(f->dir, "full.tar", ARC_NONE, -1, &a, &err);
	assert_int_equal(rc, PV_OK);
	rc = arc_entry_begin(a, "big.eml", 0, 256 * 1024 - 1000, &err);
	if (rc == PV_OK)
		rc = arc_entry_data(a, f->big, 256 * 1024 - 1000, &err);
	if (rc == PV_OK)
		rc = arc_entry_end(a, &err);
	if (rc == PV_OK)
		rc = arc_commit(a, &err);
	else
		arc_abort(a);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	(void)signal(SIGXFSZ, oldsig);
	assert_int_equal(rc, PV_EIO);
	assert_int_equal(count_files(f->dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_arc_round_trip_bytes_and_mtimes, clean),
	    cmocka_unit_test_setup(test_arc_volume_lists_with_tar_tools, clean),
	    cmocka_unit_test_setup(test_arc_bytes_written_is_the_file_size,
	        clean),
	    cmocka_unit_test_setup(test_arc_open_refuses_an_existing_volume,
	        clean),
	    cmocka_unit_test_setup(
	        test_arc_commit_never_replaces_a_volume_that_appeared, clean),
	    cmocka_unit_test_setup(test_arc_abort_leaves_no_file, clean),
	    cmocka_unit_test_setup(
	        test_arc_wrong_byte_count_is_internal_and_nothing_visible,
	        clean),
	    cmocka_unit_test_setup(
	        test_arc_refuses_unsafe_member_and_volume_names, clean),
	    cmocka_unit_test_setup(test_arc_cleanup_removes_partials_only,
	        clean),
	    cmocka_unit_test_setup(test_arc_truncated_volume_is_eio_naming_it,
	        clean),
	    cmocka_unit_test_setup(
	        test_arc_flipped_byte_in_compressed_stream_is_eio, clean),
	    cmocka_unit_test_setup(test_arc_not_an_archive_is_eio, clean),
	    cmocka_unit_test_setup(
	        test_arc_disk_full_is_eio_and_nothing_visible, clean),
	};

	return cmocka_run_group_tests_name("arc", tests, setup, teardown);
}
