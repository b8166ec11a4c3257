/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_store.c - the state db on a real SQLite: temporary
 * files where locking, durability or the bytes of the file matter,
 * ":memory:" where they do not.  A second process is a real fork(),
 * because the run lock is between processes.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sqlite3.h> /* only to build a version-1 file as it was */

#include "err.h"
#include "log.h"
#include "pop3.h"
#include "store.h"

struct fix {
	char dir[PATH_MAX];
	char path[PATH_MAX]; /* dir/state.db */
};

static int
setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	const char *tmp = getenv("TMPDIR");
	int n;

	if (f == NULL)
		return -1;
	n = snprintf(f->dir, sizeof(f->dir), "%s/test_store.XXXXXX",
	    tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	if (n < 0 || (size_t)n >= sizeof(f->dir) || mkdtemp(f->dir) == NULL)
		goto fail;
	n = snprintf(f->path, sizeof(f->path), "%s/state.db", f->dir);
	if (n < 0 || (size_t)n >= sizeof(f->path))
		goto fail;
	*state = f;
	return 0;
fail:
	free(f);
	return -1;
}

static int
teardown(void **state)
{
	struct fix *f = *state;
	struct dirent *de;
	DIR *d;

	d = opendir(f->dir);
	if (d != NULL) {
		while ((de = readdir(d)) != NULL) {
			char p[PATH_MAX + 256];

			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			if (snprintf(p, sizeof(p), "%s/%s", f->dir,
			        de->d_name) < (int)sizeof(p))
				(void)unlink(p);
		}
		(void)closedir(d);
	}
	(void)rmdir(f->dir);
	free(f);
	return 0;
}

/* ---- helpers ---- */

static struct store *
open_ok(const char *path, unsigned flags)
{
	struct store *st = NULL;
	struct pv_err err;
	enum pv_code rc;

	rc = store_open(path, flags, &st, &err);
	if (rc != PV_OK)
		fail_msg("store_open %s: %s", path, err.msg);
	assert_non_null(st);
	return st;
}

static struct store *
mem_store(void)
{
	return open_ok(":memory:", STORE_CREATE);
}

/* A distinct well-formed digest for each n. */
static void
sha_of(unsigned n, char out[65])
{
	int k = snprintf(out, 65, "%064x", n);

	assert_int_equal(k, 64);
}

static int64_t
volume(struct store *st, const char *name)
{
	struct pv_err err;
	int64_t id = -1;

	assert_int_equal(store_volume_add(st, name, 1000, &id, &err), PV_OK);
	assert_true(id > 0);
	return id;
}

static void
msg_init(struct store_msg *m, const char *account, const char *uidl,
    size_t uidl_len, const char *sha, int64_t vol)
{
	memset(m, 0, sizeof(*m));
	m->account = account;
	m->uidl = uidl;
	m->uidl_len = uidl_len;
	memcpy(m->sha256, sha, 65);
	m->size = 1234;
	m->list_size = 1240;
	m->message_id = "abc@example.org";
	sha_of(0xcafe, m->canon);
	m->date = 1700000000;
	m->date_off = -300;
	m->date_src = "received";
	m->first_seen = 1700000100;
	m->volume_id = vol;
	m->state = STORE_PENDING;
}

/* Add a message whose content is new: blob and message row. */
static void
add_msg(struct store *st, const char *account, const char *uidl,
    unsigned content, int64_t vol)
{
	struct store_msg m;
	struct pv_err err;
	char sha[65];
	bool found = true;

	sha_of(content, sha);
	assert_int_equal(store_blob_get(st, sha, &found, NULL, NULL, &err),
	    PV_OK);
	if (!found)
		assert_int_equal(store_blob_add(st, sha, 100, vol, "member.eml",
		                     &err),
		    PV_OK);
	msg_init(&m, account, uidl, strlen(uidl), sha, vol);
	if (store_msg_add(st, &m, &err) != PV_OK)
		fail_msg("store_msg_add: %s", err.msg);
}

/* Look a message up: -1 unknown, else its state. */
static int
msg_state(struct store *st, const char *account, const char *uidl)
{
	struct store_msg m;
	struct pv_err err;
	bool found = false;
	int state;

	assert_int_equal(store_msg_get(st, account, uidl, strlen(uidl), &m,
	                     &found, &err),
	    PV_OK);
	if (!found)
		return -1;
	state = (int)m.state;
	store_msg_clear(&m);
	return state;
}

static bool
blob_known(struct store *st, unsigned content)
{
	struct pv_err err;
	char sha[65];
	bool found = false;

	sha_of(content, sha);
	assert_int_equal(store_blob_get(st, sha, &found, NULL, NULL, &err),
	    PV_OK);
	return found;
}

/* One integer from SQL on the closed file at path, read-only. */
static int64_t
file_int(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int64_t v;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	v = sqlite3_column_int64(s, 0);
	assert_int_equal(sqlite3_finalize(s), SQLITE_OK);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
	return v;
}

static size_t
npending(struct store *st)
{
	struct store_volume *v = NULL;
	struct pv_err err;
	size_t n = 99;

	assert_int_equal(store_volumes_pending(st, &v, &n, &err), PV_OK);
	store_volumes_free(v, n);
	return n;
}

static char *
slurp(const char *path, size_t *len)
{
	struct stat sb;
	char *p;
	int fd;

	fd = open(path, O_RDONLY);
	assert_true(fd != -1);
	assert_int_equal(fstat(fd, &sb), 0);
	p = malloc((size_t)sb.st_size + 1);
	assert_non_null(p);
	assert_int_equal(read(fd, p, (size_t)sb.st_size), sb.st_size);
	(void)close(fd);
	*len = (size_t)sb.st_size;
	return p;
}

static void
spit(const char *path, const void *p, size_t n)
{
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd != -1);
	assert_int_equal(write(fd, p, n), (ssize_t)n);
	assert_int_equal(close(fd), 0);
}

/* Overwrite 4 big-endian bytes of the file at 'off'. */
static void
patch_be32(const char *path, off_t off, uint32_t v)
{
	unsigned char b[4] = {v >> 24, v >> 16, v >> 8, v};
	int fd;

	fd = open(path, O_WRONLY);
	assert_true(fd != -1);
	assert_int_equal(pwrite(fd, b, 4, off), 4);
	assert_int_equal(close(fd), 0);
}

/* A closed state file with a volume of n messages. */
static void
make_state(const char *path, unsigned n)
{
	struct store *st = open_ok(path, STORE_CREATE);
	struct pv_err err;
	char uidl[32];
	int64_t vol;
	unsigned i;

	assert_int_equal(store_begin(st, &err), PV_OK);
	vol = volume(st, "v1.tar.gz");
	for (i = 0; i < n; i++) {
		assert_true(snprintf(uidl, sizeof(uidl), "u%u", i) > 0);
		add_msg(st, "acct", uidl, i, vol);
	}
	assert_int_equal(store_commit(st, &err), PV_OK);
	assert_int_equal(store_volume_done(st, vol, &err), PV_OK);
	store_close(st);
}

/* Expect store_open to fail with 'code' and text containing 'text'. */
static void
open_fails(const char *path, unsigned flags, enum pv_code code,
    const char *text)
{
	struct store *st = NULL;
	struct pv_err err;
	enum pv_code rc;

	rc = store_open(path, flags, &st, &err);
	if (rc != code || strstr(err.msg, text) == NULL)
		fail_msg("store_open %s: got %d \"%s\", want %d \"%s\"", path,
		    (int)rc, rc == PV_OK ? "" : err.msg, (int)code, text);
	assert_null(st);
}

/* Run fn(path) in a child process; true if it returned 0. */
static bool
in_child(int (*fn)(const char *path), const char *path)
{
	pid_t pid;
	int status;

	pid = fork();
	assert_true(pid != -1);
	if (pid == 0)
		_exit(fn(path));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* An upload of content n recorded at time 'when'. */
static void
upl_init(struct store_upload *u, unsigned n, int64_t when)
{
	memset(u, 0, sizeof(*u));
	sha_of(n, u->sha256);
	u->state = STORE_UPL_INTENT;
	u->uidvalidity = 100;
	u->uidnext = 50;
	u->internaldate = 1700000000;
	u->date_off = 60;
	u->date_src = "date";
	u->when = when;
}

/* A target id, created or found; fails the test on error. */
static int64_t
target(struct store *st, const char *folder, uint32_t uidvalidity, bool *reset)
{
	struct pv_err err;
	int64_t id = -1;
	bool rs = true;

	if (store_target_get(st, "me@imap.example:993", folder, uidvalidity,
	        &id, &rs, &err) != PV_OK)
		fail_msg("store_target_get: %s", err.msg);
	assert_true(id > 0);
	if (reset != NULL)
		*reset = rs;
	return id;
}

/* -1 no upload row of content n, else its state. */
static int
upl_state(struct store *st, int64_t tid, unsigned n)
{
	struct store_upload u;
	struct pv_err err;
	char sha[65];
	bool found = false;

	sha_of(n, sha);
	assert_int_equal(store_upload_get(st, tid, sha, &found, &u, &err),
	    PV_OK);
	return found ? (int)u.state : -1;
}

/* ---- opening ---- */

static void
test_store_create_and_reopen_keeps_rows(void **state)
{
	struct fix *f = *state;
	struct store *st;
	struct pv_err err;
	int64_t vol;

	st = open_ok(f->path, STORE_CREATE);
	vol = volume(st, "v1.tar.gz");
	add_msg(st, "work", "uidl-1", 1, vol);
	assert_int_equal(store_volume_done(st, vol, &err), PV_OK);
	store_close(st);

	/* STORE_CREATE on an existing file opens it; it never starts
	 * afresh. */
	st = open_ok(f->path, STORE_CREATE);
	assert_int_equal(msg_state(st, "work", "uidl-1"), STORE_DONE);
	assert_true(blob_known(st, 1));
	store_close(st);
	st = open_ok(f->path, 0);
	assert_int_equal(msg_state(st, "work", "uidl-1"), STORE_DONE);
	store_close(st);
}

static void
test_store_missing_file_without_create_is_config_error(void **state)
{
	struct fix *f = *state;
	char lock[PATH_MAX + 8];
	struct stat sb;

	open_fails(f->path, 0, PV_ECONFIG, "no state at");
	open_fails(f->path, STORE_READONLY, PV_ECONFIG, "no state at");
	assert_true(snprintf(lock, sizeof(lock), "%s.lock", f->path) > 0);
	assert_int_equal(stat(lock, &sb), -1); /* no stray lock file */
	assert_int_equal(stat(f->path, &sb), -1);
}

static void
test_store_create_needs_the_parent_directory(void **state)
{
	struct fix *f = *state;
	char p[PATH_MAX + 32];

	assert_true(snprintf(p, sizeof(p), "%s/nodir/state.db", f->dir) > 0);
	open_fails(p, STORE_CREATE, PV_EIO, "nodir");
}

static void
test_store_directory_is_refused_without_a_lock_file(void **state)
{
	struct fix *f = *state;
	char lock[PATH_MAX + 8];

	open_fails(f->dir, STORE_CREATE, PV_ECONFIG, "not a regular file");
	assert_true(snprintf(lock, sizeof(lock), "%s.lock", f->dir) > 0);
	assert_int_equal(access(lock, F_OK), -1);
}

static void
test_store_stale_temporary_file_does_not_matter(void **state)
{
	struct fix *f = *state;
	char tmp[PATH_MAX + 8];
	struct store *st;

	/* What a run killed while creating the state leaves behind. */
	assert_true(snprintf(tmp, sizeof(tmp), "%s.new", f->path) > 0);
	spit(tmp, "half", 4);
	st = open_ok(f->path, STORE_CREATE);
	assert_int_equal(msg_state(st, "a", "x"), -1);
	store_close(st);
	assert_int_equal(access(tmp, F_OK), -1);
}

static void
test_store_garbage_file_is_refused_unchanged(void **state)
{
	struct fix *f = *state;
	char junk[8192], *after;
	size_t n;

	memset(junk, 'x', sizeof(junk));
	memcpy(junk, "From: someone\r\n", 15);
	spit(f->path, junk, sizeof(junk));
	open_fails(f->path, 0, PV_EIO, "damaged");
	open_fails(f->path, STORE_CREATE, PV_EIO, "damaged");
	open_fails(f->path, STORE_READONLY, PV_EIO, "damaged");
	after = slurp(f->path, &n);
	assert_int_equal(n, sizeof(junk));
	assert_memory_equal(after, junk, sizeof(junk));
	free(after);

	/* Shorter than an SQLite header. */
	spit(f->path, "hello\n", 6);
	open_fails(f->path, STORE_CREATE, PV_EIO, "damaged");
	after = slurp(f->path, &n);
	assert_int_equal(n, 6);
	assert_memory_equal(after, "hello\n", 6);
	free(after);
}

static void
test_store_empty_file_is_refused_unchanged(void **state)
{
	struct fix *f = *state;
	struct stat sb;

	spit(f->path, "", 0);
	open_fails(f->path, STORE_CREATE, PV_EIO, "empty");
	assert_int_equal(stat(f->path, &sb), 0);
	assert_int_equal(sb.st_size, 0);
}

static void
test_store_truncated_db_is_refused_unchanged(void **state)
{
	struct fix *f = *state;
	char *before, *after;
	size_t n, m;

	make_state(f->path, 3000);
	before = slurp(f->path, &n);
	assert_true(n > 64 * 1024);
	assert_int_equal(truncate(f->path, (off_t)(n / 2)), 0);
	open_fails(f->path, 0, PV_EIO, "damaged");
	open_fails(f->path, STORE_CREATE, PV_EIO, "damaged");
	open_fails(f->path, STORE_READONLY, PV_EIO, "damaged");
	after = slurp(f->path, &m);
	assert_int_equal(m, n / 2);
	assert_memory_equal(after, before, m);
	free(before);
	free(after);
}

static void
test_store_damaged_page_is_refused_unchanged(void **state)
{
	struct fix *f = *state;
	char junk[4096], *before, *after;
	size_t n, m;
	int fd;

	/* An intact header over a damaged body: only a check of the pages
	 * finds it. */
	make_state(f->path, 3000);
	memset(junk, 0x55, sizeof(junk));
	fd = open(f->path, O_WRONLY);
	assert_true(fd != -1);
	assert_int_equal(pwrite(fd, junk, sizeof(junk), 40 * 4096),
	    (ssize_t)sizeof(junk));
	assert_int_equal(close(fd), 0);
	before = slurp(f->path, &n);
	assert_true(n > 41 * 4096);
	open_fails(f->path, 0, PV_EIO, "damaged");
	open_fails(f->path, STORE_READONLY, PV_EIO, "damaged");
	after = slurp(f->path, &m);
	assert_int_equal(m, n);
	assert_memory_equal(after, before, n);
	free(before);
	free(after);
}

static void
test_store_future_schema_is_refused_unchanged(void **state)
{
	struct fix *f = *state;
	char *before, *after, want[64];
	size_t n, m;

	make_state(f->path, 10);
	patch_be32(f->path, 60, STORE_SCHEMA_VERSION + 1); /* user_version */
	before = slurp(f->path, &n);
	assert_true(snprintf(want, sizeof(want), "has schema version %d",
	                STORE_SCHEMA_VERSION + 1) > 0);
	open_fails(f->path, 0, PV_ECONFIG, want);
	open_fails(f->path, STORE_READONLY, PV_ECONFIG, "upgrade popvault");
	after = slurp(f->path, &m);
	assert_int_equal(m, n);
	assert_memory_equal(after, before, n);
	free(before);
	free(after);
}

static void
test_store_foreign_sqlite_file_is_refused_unchanged(void **state)
{
	struct fix *f = *state;
	char *before, *after;
	size_t n, m;

	make_state(f->path, 10);
	patch_be32(f->path, 68, 0x12345678); /* application_id */
	before = slurp(f->path, &n);
	open_fails(f->path, STORE_CREATE, PV_ECONFIG,
	    "is not a popvault state db");
	after = slurp(f->path, &m);
	assert_int_equal(m, n);
	assert_memory_equal(after, before, n);
	free(before);
	free(after);
}

/* A run killed after committing one row and while adding another: no
 * store_close, the -wal file is left as it is. */
static int
child_killed_mid_run(const char *path)
{
	struct store *st = NULL;
	struct pv_err err;
	int64_t vol;

	if (store_open(path, STORE_CREATE, &st, &err) != PV_OK ||
	    store_volume_add(st, "v1", 1, &vol, &err) != PV_OK)
		return 1;
	add_msg(st, "a", "committed", 1, vol);
	if (store_begin(st, &err) != PV_OK)
		return 2;
	add_msg(st, "a", "uncommitted", 2, vol);
	_exit(0);
}

static void
test_store_killed_run_keeps_committed_rows_only(void **state)
{
	struct fix *f = *state;
	char wal[PATH_MAX + 8];
	struct store *st;

	assert_true(in_child(child_killed_mid_run, f->path));
	assert_true(snprintf(wal, sizeof(wal), "%s-wal", f->path) > 0);
	assert_int_equal(access(wal, F_OK), 0);
	/* The dead run's lock died with it. */
	st = open_ok(f->path, 0);
	assert_int_equal(msg_state(st, "a", "committed"), STORE_PENDING);
	assert_int_equal(msg_state(st, "a", "uncommitted"), -1);
	/* Its content is recorded, but not offered for reference while its
	 * volume is pending. */
	assert_false(blob_known(st, 1));
	assert_false(blob_known(st, 2));
	assert_int_equal(npending(st), 1);
	store_close(st);
	assert_int_equal(file_int(f->path, "SELECT count(*) FROM blobs"), 1);
}

static void
test_store_orphaned_wal_is_not_replayed_into_a_new_state(void **state)
{
	struct fix *f = *state;
	char wal[PATH_MAX + 8];
	struct store *st;
	struct stat sb;

	assert_true(in_child(child_killed_mid_run, f->path));
	assert_true(snprintf(wal, sizeof(wal), "%s-wal", f->path) > 0);
	assert_int_equal(stat(wal, &sb), 0);
	assert_true(sb.st_size > 0);
	/* The state file is lost; its -wal is not. */
	assert_int_equal(unlink(f->path), 0);
	st = open_ok(f->path, STORE_CREATE);
	assert_int_equal(msg_state(st, "a", "committed"), -1);
	assert_int_equal(npending(st), 0);
	store_close(st);
	st = open_ok(f->path, 0);
	assert_int_equal(npending(st), 0);
	store_close(st);
}

static void
test_store_new_state_is_private(void **state)
{
	struct fix *f = *state;
	struct store *st;
	struct stat sb;
	mode_t old = umask(022);

	st = open_ok(f->path, STORE_CREATE);
	(void)umask(old);
	assert_int_equal(stat(f->path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	store_close(st);
}

/* ---- the run lock ---- */

static int
child_open_busy(const char *path)
{
	struct store *st = NULL;
	struct pv_err err;
	char want[64];

	if (store_open(path, 0, &st, &err) != PV_EBUSY)
		return 1;
	if (snprintf(want, sizeof(want), "(pid %ld)", (long)getppid()) <= 0)
		return 2;
	if (strstr(err.msg, want) == NULL ||
	    strstr(err.msg, "in use by another popvault run") == NULL)
		return 3;
	return 0;
}

static int
child_open_ok(const char *path)
{
	struct store *st = NULL;
	struct pv_err err;

	if (store_open(path, 0, &st, &err) != PV_OK)
		return 1;
	store_close(st);
	return 0;
}

static void
test_store_second_open_is_busy(void **state)
{
	struct fix *f = *state;
	struct store *st;

	st = open_ok(f->path, STORE_CREATE);
	assert_true(in_child(child_open_busy, f->path));
	store_close(st);
	assert_true(in_child(child_open_ok, f->path));
}

static void
test_store_second_open_in_same_process_is_busy(void **state)
{
	struct fix *f = *state;
	struct store *st, *st2;

	st = open_ok(f->path, STORE_CREATE);
	open_fails(f->path, 0, PV_EBUSY, "in use by another popvault run");
	/* The failed attempt did not release the first one's lock. */
	assert_true(in_child(child_open_busy, f->path));
	store_close(st);
	st2 = open_ok(f->path, 0);
	store_close(st2);
}

/* Another connection of the same run, for another thread: it shares the
 * lock, and each connection sees what the other committed. */
static void
test_store_open_more_shares_the_run(void **state)
{
	struct fix *f = *state;
	struct store *st, *more = NULL, *ro;
	struct pv_err err;
	int64_t v1, v2;

	st = open_ok(f->path, STORE_CREATE);
	assert_int_equal(store_open_more(st, &more, &err), PV_OK);
	v1 = volume(more, "from-more");
	add_msg(more, "a", "a1", 1, v1);
	assert_int_equal(store_volume_done(more, v1, &err), PV_OK);
	assert_int_equal(msg_state(st, "a", "a1"), STORE_DONE);
	v2 = volume(st, "from-main");
	add_msg(st, "b", "b1", 2, v2);
	assert_int_equal(msg_state(more, "b", "b1"), STORE_PENDING);
	assert_int_equal(store_volume_done(st, v2, &err), PV_OK);
	assert_int_equal(msg_state(more, "b", "b1"), STORE_DONE);
	store_close(more);
	/* Still locked by main. */
	open_fails(f->path, 0, PV_EBUSY, "");
	/* Only from a writable, locked one. */
	ro = open_ok(f->path, STORE_READONLY);
	more = NULL;
	assert_int_equal(store_open_more(ro, &more, &err), PV_EINTERNAL);
	assert_null(more);
	store_close(ro);
	store_close(st);
}

static void
test_store_lock_file_names_the_holder(void **state)
{
	struct fix *f = *state;
	char lock[PATH_MAX + 8], want[32], *p;
	struct store *st;
	struct stat sb;
	size_t n;

	assert_true(snprintf(lock, sizeof(lock), "%s.lock", f->path) > 0);
	st = open_ok(f->path, STORE_CREATE);
	assert_int_equal(stat(lock, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_true(snprintf(want, sizeof(want), "%ld\n", (long)getpid()) > 0);
	p = slurp(lock, &n);
	assert_int_equal(n, strlen(want));
	assert_memory_equal(p, want, n);
	free(p);
	store_close(st);
	assert_int_equal(stat(lock, &sb), 0);
	assert_int_equal(sb.st_size, 0);
}

/* A reader sees what was committed, not the writer's open transaction. */
static int
child_read(const char *path)
{
	struct store *st = NULL;
	struct store_msg m;
	struct pv_err err;
	bool found = false;
	int rc = 0;

	if (store_open(path, STORE_READONLY, &st, &err) != PV_OK)
		return 1;
	if (store_msg_get(st, "a", "committed", 9, &m, &found, &err) != PV_OK ||
	    !found)
		rc = 2;
	else
		store_msg_clear(&m);
	found = true;
	if (rc == 0 && (store_msg_get(st, "a", "uncommitted", 11, &m, &found,
	                    &err) != PV_OK ||
	                   found))
		rc = 3;
	store_close(st);
	return rc;
}

static void
test_store_readonly_open_works_while_locked(void **state)
{
	struct fix *f = *state;
	struct store *st, *ro;
	struct pv_err err;
	int64_t vol;

	st = open_ok(f->path, STORE_CREATE);
	vol = volume(st, "v1");
	add_msg(st, "a", "committed", 1, vol);
	assert_int_equal(store_begin(st, &err), PV_OK);
	add_msg(st, "a", "uncommitted", 2, vol);
	assert_true(in_child(child_read, f->path));
	/* In this process too: READONLY takes no lock. */
	ro = open_ok(f->path, STORE_READONLY);
	assert_int_equal(msg_state(ro, "a", "committed"), STORE_PENDING);
	assert_int_equal(msg_state(ro, "a", "uncommitted"), -1);
	store_close(ro);
	assert_int_equal(store_commit(st, &err), PV_OK);
	store_close(st);
}

static void
test_store_readonly_refuses_writes(void **state)
{
	struct fix *f = *state;
	struct store_upload u;
	struct store *st;
	struct pv_err err;
	int64_t id = 0, run = 0;
	bool reset = false;

	make_state(f->path, 1);
	st = open_ok(f->path, STORE_READONLY);
	assert_int_equal(store_volume_add(st, "v9", 1, &id, &err),
	    PV_EINTERNAL);
	assert_int_equal(id, 0);
	assert_int_equal(store_begin(st, &err), PV_EINTERNAL);
	assert_int_equal(store_run_begin(st, "backup", 1, &run, &err),
	    PV_EINTERNAL);
	assert_int_equal(store_target_get(st, "k", "INBOX", 1, &id, &reset,
	                     &err),
	    PV_EINTERNAL);
	assert_int_equal(id, 0);
	upl_init(&u, 1, 7);
	assert_int_equal(store_upload_intent(st, 1, &u, &err), PV_EINTERNAL);
	assert_int_equal(store_upload_done(st, 1, &u, &err), PV_EINTERNAL);
	assert_int_equal(store_upload_drop(st, 1, u.sha256, &err),
	    PV_EINTERNAL);
	assert_int_equal(msg_state(st, "acct", "u0"), STORE_DONE);
	store_close(st);
}

/* ---- messages ---- */

static void
test_store_msg_round_trip_with_odd_uidl(void **state)
{
	static const char uidl[] = "a b\t\x01\x7f\x80\xff\xc3\xa9 \r\nx\0y ";
	const size_t ulen = sizeof(uidl) - 1;
	struct store *st = mem_store();
	struct store_msg m, in;
	struct pv_err err;
	char sha[65];
	bool found = false;
	int64_t vol;

	(void)state;
	vol = volume(st, "v1");
	sha_of(7, sha);
	msg_init(&in, "Jos\xc3\xa9 at work", uidl, ulen, sha, vol);
	assert_int_equal(store_msg_add(st, &in, &err), PV_OK);
	memset(&m, 0x5a, sizeof(m));
	assert_int_equal(store_msg_get(st, "Jos\xc3\xa9 at work", uidl, ulen,
	                     &m, &found, &err),
	    PV_OK);
	assert_true(found);
	assert_string_equal(m.account, "Jos\xc3\xa9 at work");
	assert_int_equal(m.uidl_len, ulen);
	assert_memory_equal(m.uidl, uidl, ulen);
	assert_int_equal(m.uidl[ulen], '\0');
	assert_string_equal(m.sha256, sha);
	assert_int_equal(m.size, 1234);
	assert_int_equal(m.list_size, 1240);
	assert_string_equal(m.message_id, "abc@example.org");
	assert_string_equal(m.canon, in.canon);
	assert_int_equal(m.date, 1700000000);
	assert_int_equal(m.date_off, -300);
	assert_string_equal(m.date_src, "received");
	assert_int_equal(m.first_seen, 1700000100);
	assert_int_equal(m.volume_id, vol);
	assert_int_equal(m.state, STORE_PENDING);
	assert_int_equal(m.deleted_at, 0);
	/* The result owns its strings: they are not the arguments. */
	assert_true(m.account != in.account && m.uidl != in.uidl);
	store_msg_clear(&m);
	assert_null(m.account);

	/* Prefixes and extensions are other UIDLs. */
	found = true;
	assert_int_equal(store_msg_get(st, "Jos\xc3\xa9 at work", uidl,
	                     ulen - 1, &m, &found, &err),
	    PV_OK);
	assert_false(found);
	store_close(st);
}

static void
test_store_msg_without_optional_fields_round_trips(void **state)
{
	struct store *st = mem_store();
	struct store_msg m, in;
	struct pv_err err;
	char sha[65];
	bool found = false;
	int64_t vol;

	(void)state;
	vol = volume(st, "v1");
	sha_of(8, sha);
	msg_init(&in, "a", "", 0, sha, vol); /* an empty UIDL is a value */
	in.message_id = NULL;
	in.canon[0] = '\0';
	assert_int_equal(store_msg_add(st, &in, &err), PV_OK);
	assert_int_equal(store_msg_get(st, "a", "", 0, &m, &found, &err),
	    PV_OK);
	assert_true(found);
	assert_int_equal(m.uidl_len, 0);
	assert_null(m.message_id);
	assert_string_equal(m.canon, "");
	store_msg_clear(&m);
	store_close(st);
}

static void
test_store_msg_get_unknown_leaves_out_untouched(void **state)
{
	struct store *st = mem_store();
	struct store_msg m, copy;
	struct pv_err err;
	bool found = true;

	(void)state;
	memset(&m, 0x5a, sizeof(m));
	memcpy(&copy, &m, sizeof(m));
	assert_int_equal(store_msg_get(st, "a", "nope", 4, &m, &found, &err),
	    PV_OK);
	assert_false(found);
	assert_memory_equal(&m, &copy, sizeof(m));
	store_close(st);
}

static void
test_store_duplicate_uidl_is_refused(void **state)
{
	struct store *st = mem_store();
	struct store_msg m;
	struct pv_err err;
	char sha[65];
	int64_t vol;

	(void)state;
	vol = volume(st, "v1");
	sha_of(1, sha);
	msg_init(&m, "work", "same", 4, sha, vol);
	assert_int_equal(store_msg_add(st, &m, &err), PV_OK);
	assert_int_equal(store_msg_add(st, &m, &err), PV_EINTERNAL);
	assert_non_null(strstr(err.msg, "UNIQUE"));
	/* The same UIDL in another account is another message. */
	m.account = "home";
	assert_int_equal(store_msg_add(st, &m, &err), PV_OK);
	store_close(st);
}

static void
test_store_msg_add_needs_a_pending_volume(void **state)
{
	struct store *st = mem_store();
	struct store_msg m;
	struct pv_err err;
	char sha[65];
	int64_t vol;

	(void)state;
	sha_of(1, sha);
	msg_init(&m, "a", "u1", 2, sha, 42);
	assert_int_equal(store_msg_add(st, &m, &err), PV_EINTERNAL);
	assert_int_equal(store_blob_add(st, sha, 1, 42, "x", &err),
	    PV_EINTERNAL);
	vol = volume(st, "v1");
	add_msg(st, "a", "u0", 1, vol);
	assert_int_equal(store_volume_done(st, vol, &err), PV_OK);
	m.volume_id = vol;
	assert_int_equal(store_msg_add(st, &m, &err), PV_EINTERNAL);
	assert_non_null(strstr(err.msg, "not pending"));
	sha_of(2, sha);
	assert_int_equal(store_blob_add(st, sha, 1, vol, "x", &err),
	    PV_EINTERNAL);
	store_close(st);
}

static void
test_store_msg_add_refuses_a_malformed_digest(void **state)
{
	struct store *st = mem_store();
	struct store_msg m;
	struct pv_err err;
	char sha[65];
	bool found;
	int64_t vol;

	(void)state;
	vol = volume(st, "v1");
	sha_of(1, sha);
	sha[3] = 'A'; /* upper case would never match a lookup */
	msg_init(&m, "a", "u", 1, sha, vol);
	assert_int_equal(store_msg_add(st, &m, &err), PV_EINTERNAL);
	assert_int_equal(store_blob_get(st, "abc", &found, NULL, NULL, &err),
	    PV_EINTERNAL);
	store_close(st);
}

static void
test_store_msg_deleted_records_the_first_time(void **state)
{
	struct store *st = mem_store();
	struct store_msg m;
	struct pv_err err;
	bool found = false;
	int64_t vol;

	(void)state;
	vol = volume(st, "v1");
	add_msg(st, "a", "u1", 1, vol);
	assert_int_equal(store_volume_done(st, vol, &err), PV_OK);
	assert_int_equal(store_msg_deleted(st, "a", "u1", 2, 5000, &err),
	    PV_OK);
	assert_int_equal(store_msg_deleted(st, "a", "u1", 2, 6000, &err),
	    PV_OK);
	assert_int_equal(store_msg_get(st, "a", "u1", 2, &m, &found, &err),
	    PV_OK);
	assert_true(found);
	assert_int_equal(m.deleted_at, 5000);
	store_msg_clear(&m);
	assert_int_equal(store_msg_deleted(st, "a", "u2", 2, 5000, &err),
	    PV_EINTERNAL);
	store_close(st);
}

/* ---- blobs and volumes ---- */

static void
test_store_blob_found_only_in_a_durable_volume(void **state)
{
	struct store *st = mem_store();
	struct pv_err err;
	char sha[65], *vname = NULL, *member = NULL;
	bool found = false;
	int64_t vol, vol2;

	(void)state;
	sha_of(99, sha);
	assert_int_equal(store_blob_get(st, sha, &found, &vname, &member, &err),
	    PV_OK);
	assert_false(found);
	assert_null(vname);
	assert_null(member);
	assert_int_equal(store_begin(st, &err), PV_OK);
	vol = volume(st, "work-1.tar.gz");
	assert_int_equal(store_blob_add(st, sha, 100, vol, "work/x.eml", &err),
	    PV_OK);
	/* The same content again in the same volume: stored once. */
	assert_int_equal(store_blob_add(st, sha, 100, vol, "work/y.eml", &err),
	    PV_EINTERNAL);
	/* Pending: not a copy to refer to (another account's run may be
	 * writing it), */
	assert_int_equal(store_blob_get(st, sha, &found, &vname, &member, &err),
	    PV_OK);
	assert_false(found);
	/* so another volume written at the same time holds its own. */
	vol2 = volume(st, "home-1.tar.gz");
	assert_int_equal(store_blob_add(st, sha, 100, vol2, "home/x.eml", &err),
	    PV_OK);
	assert_int_equal(store_commit(st, &err), PV_OK);
	assert_int_equal(store_volume_done(st, vol2, &err), PV_OK);
	assert_int_equal(store_blob_get(st, sha, &found, &vname, &member, &err),
	    PV_OK);
	assert_true(found);
	assert_string_equal(vname, "home-1.tar.gz");
	assert_string_equal(member, "home/x.eml");
	free(vname);
	free(member);
	assert_int_equal(store_volume_done(st, vol, &err), PV_OK);
	/* Both durable: the older copy. */
	found = false;
	assert_int_equal(store_blob_get(st, sha, &found, NULL, &member, &err),
	    PV_OK);
	assert_true(found);
	assert_string_equal(member, "work/x.eml");
	free(member);
	store_close(st);
}

static void
test_store_volume_done_makes_messages_done(void **state)
{
	struct store *st = mem_store();
	struct pv_err err;
	int64_t v1, v2;

	(void)state;
	v1 = volume(st, "v1");
	v2 = volume(st, "v2");
	add_msg(st, "a", "u1", 1, v1);
	add_msg(st, "a", "u2", 2, v1);
	add_msg(st, "a", "u3", 3, v2);
	assert_int_equal(msg_state(st, "a", "u1"), STORE_PENDING);
	assert_int_equal(store_volume_done(st, v1, &err), PV_OK);
	assert_int_equal(msg_state(st, "a", "u1"), STORE_DONE);
	assert_int_equal(msg_state(st, "a", "u2"), STORE_DONE);
	assert_int_equal(msg_state(st, "a", "u3"), STORE_PENDING);
	/* Settling it twice is harmless (recovery after a crash). */
	assert_int_equal(store_volume_done(st, v1, &err), PV_OK);
	assert_int_equal(npending(st), 1);
	assert_int_equal(store_volume_done(st, 77, &err), PV_EINTERNAL);
	store_close(st);
}

static void
test_store_volume_done_refuses_content_stored_nowhere(void **state)
{
	struct store *st = mem_store();
	struct store_msg m;
	struct pv_err err;
	char sha[65];
	int64_t v1, v2;

	(void)state;
	/* A message without a blob row: its bytes are in no volume. */
	v1 = volume(st, "v1");
	sha_of(5, sha);
	msg_init(&m, "a", "u1", 2, sha, v1);
	assert_int_equal(store_msg_add(st, &m, &err), PV_OK);
	assert_int_equal(store_volume_done(st, v1, &err), PV_EINTERNAL);
	assert_non_null(strstr(err.msg, "in no volume"));
	assert_int_equal(msg_state(st, "a", "u1"), STORE_PENDING);

	/* A message whose bytes are in another volume still pending. */
	v2 = volume(st, "v2");
	assert_int_equal(store_blob_add(st, sha, 1, v1, "m", &err), PV_OK);
	msg_init(&m, "b", "u1", 2, sha, v2);
	assert_int_equal(store_msg_add(st, &m, &err), PV_OK);
	assert_int_equal(store_volume_done(st, v2, &err), PV_EINTERNAL);
	assert_non_null(strstr(err.msg, "still pending"));
	assert_int_equal(msg_state(st, "b", "u1"), STORE_PENDING);
	assert_int_equal(store_volume_done(st, v1, &err), PV_OK);
	assert_int_equal(store_volume_done(st, v2, &err), PV_OK);
	assert_int_equal(msg_state(st, "b", "u1"), STORE_DONE);
	store_close(st);
}

static void
test_store_volume_ops_refused_inside_a_transaction(void **state)
{
	struct store *st = mem_store();
	struct pv_err err;
	int64_t vol;

	(void)state;
	vol = volume(st, "v1");
	add_msg(st, "a", "u1", 1, vol);
	assert_int_equal(store_begin(st, &err), PV_OK);
	assert_int_equal(store_begin(st, &err), PV_EINTERNAL);
	assert_int_equal(store_volume_done(st, vol, &err), PV_EINTERNAL);
	assert_non_null(strstr(err.msg, "outside a transaction"));
	assert_int_equal(store_volume_drop(st, vol, &err), PV_EINTERNAL);
	/* The caller's transaction is still there and still works. */
	add_msg(st, "a", "u2", 2, vol);
	assert_int_equal(store_commit(st, &err), PV_OK);
	assert_int_equal(store_commit(st, &err), PV_EINTERNAL);
	assert_int_equal(msg_state(st, "a", "u2"), STORE_PENDING);
	store_close(st);
}

static void
test_store_volume_drop_removes_only_that_volume(void **state)
{
	struct store *st = mem_store();
	struct store_msg m;
	struct pv_err err;
	char sha[65];
	int64_t v1, v2, v3;

	(void)state;
	v1 = volume(st, "v1");
	add_msg(st, "a", "a1", 1, v1);
	assert_int_equal(store_volume_done(st, v1, &err), PV_OK);
	v2 = volume(st, "v2");
	v3 = volume(st, "v3");
	add_msg(st, "a", "a2", 2, v2); /* new content, in v2 */
	add_msg(st, "a", "a3", 1, v2); /* content already in v1 */
	add_msg(st, "b", "b1", 3, v3);

	assert_int_equal(store_volume_drop(st, v2, &err), PV_OK);
	assert_int_equal(msg_state(st, "a", "a2"), -1);
	assert_int_equal(msg_state(st, "a", "a3"), -1);
	assert_false(blob_known(st, 2));
	assert_true(blob_known(st, 1));
	assert_int_equal(msg_state(st, "a", "a1"), STORE_DONE);
	assert_int_equal(msg_state(st, "b", "b1"), STORE_PENDING);
	assert_false(blob_known(st, 3)); /* pending still */
	assert_int_equal(npending(st), 1);
	/* The rows can be recorded again, in another volume. */
	sha_of(2, sha);
	msg_init(&m, "a", "a2", 2, sha, v3);
	assert_int_equal(store_msg_add(st, &m, &err), PV_OK);

	/* A durable volume is never dropped; an unknown one is a bug. */
	assert_int_equal(store_volume_drop(st, v1, &err), PV_EINTERNAL);
	assert_int_equal(msg_state(st, "a", "a1"), STORE_DONE);
	assert_int_equal(store_volume_drop(st, 77, &err), PV_EINTERNAL);
	store_close(st);
}

static void
test_store_volume_drop_forgets_messages_whose_bytes_it_held(void **state)
{
	struct store *st = mem_store();
	struct store_msg m;
	struct pv_err err;
	char sha[65];
	int64_t v1, v2;

	(void)state;
	v1 = volume(st, "v1");
	v2 = volume(st, "v2");
	add_msg(st, "a", "a1", 1, v1);
	add_msg(st, "c", "c1", 1, v2); /* v2's own copy of the same bytes */
	/* A row of v2 whose bytes v1 and v2 both hold: v2 can be done while
	 * v1 is pending. */
	sha_of(1, sha);
	msg_init(&m, "b", "b1", 2, sha, v2);
	assert_int_equal(store_msg_add(st, &m, &err), PV_OK);
	add_msg(st, "b", "b2", 2, v2);
	assert_int_equal(store_volume_done(st, v2, &err), PV_OK);
	assert_int_equal(msg_state(st, "b", "b1"), STORE_DONE);
	assert_int_equal(msg_state(st, "c", "c1"), STORE_DONE);
	store_close(st);

	/* A row whose bytes only pending v1 holds (what a version-2 state
	 * could record: a reference into a pending volume) goes with v1;
	 * c1 has its own copy and stays. */
	st = mem_store();
	v1 = volume(st, "v1");
	v2 = volume(st, "v2");
	add_msg(st, "a", "a1", 1, v1);
	add_msg(st, "c", "c1", 1, v2);
	sha_of(3, sha);
	add_msg(st, "x", "x3", 3, v1);
	msg_init(&m, "b", "b3", 2, sha, v2); /* bytes only in v1 */
	assert_int_equal(store_msg_add(st, &m, &err), PV_OK);
	add_msg(st, "b", "b2", 2, v2);
	assert_int_equal(store_volume_drop(st, v1, &err), PV_OK);
	assert_int_equal(msg_state(st, "b", "b3"), -1);
	assert_int_equal(msg_state(st, "c", "c1"), STORE_PENDING);
	assert_int_equal(msg_state(st, "b", "b2"), STORE_PENDING);
	assert_int_equal(store_volume_done(st, v2, &err), PV_OK);
	assert_int_equal(msg_state(st, "b", "b2"), STORE_DONE);
	assert_int_equal(msg_state(st, "c", "c1"), STORE_DONE);
	store_close(st);
}

static void
test_store_volumes_pending_lists_only_pending(void **state)
{
	struct store *st = mem_store();
	struct store_volume *v = NULL;
	struct pv_err err;
	size_t n = 0;
	int64_t v1, v2, v3;

	(void)state;
	assert_int_equal(store_volumes_pending(st, &v, &n, &err), PV_OK);
	assert_int_equal(n, 0);
	store_volumes_free(v, n);
	v1 = volume(st, "v1");
	v2 = volume(st, "v2");
	v3 = volume(st, "v3");
	add_msg(st, "a", "u1", 1, v2);
	assert_int_equal(store_volume_done(st, v2, &err), PV_OK);
	assert_int_equal(store_volumes_pending(st, &v, &n, &err), PV_OK);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].id, v1);
	assert_string_equal(v[0].name, "v1");
	assert_int_equal(v[0].state, STORE_PENDING);
	assert_int_equal(v[0].created, 1000);
	assert_int_equal(v[1].id, v3);
	assert_string_equal(v[1].name, "v3");
	store_volumes_free(v, n);
	store_volumes_free(NULL, 0);
	store_close(st);
}

struct done_seen {
	char rows[8][80];
	size_t n;
};

static enum pv_code
collect_done(void *arg, const struct store_done *d, struct pv_err *err)
{
	struct done_seen *c = arg;
	int k;

	(void)err;
	assert_true(c->n < 8);
	if (d->volume != NULL) {
		assert_null(d->account);
		k = snprintf(c->rows[c->n], sizeof(c->rows[0]), "v %s",
		    d->volume);
	} else {
		assert_non_null(d->sha256);
		k = snprintf(c->rows[c->n], sizeof(c->rows[0]), "m %s %.4s",
		    d->account, d->sha256 + 60);
	}
	assert_true(k > 0 && (size_t)k < sizeof(c->rows[0]));
	c->n++;
	return PV_OK;
}

static enum pv_code
stop_done(void *arg, const struct store_done *d, struct pv_err *err)
{
	(void)arg;
	(void)d;
	return pv_errf(err, PV_EABORT, "stop");
}

static void
test_store_done_each_lists_done_volumes_then_done_messages(void **state)
{
	struct store *st = mem_store();
	struct done_seen c;
	struct pv_err err;
	int64_t v1, v2, v3;

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_done_each(st, collect_done, &c, &err), PV_OK);
	assert_int_equal(c.n, 0);
	v1 = volume(st, "v1");
	v2 = volume(st, "v2");
	v3 = volume(st, "v3");
	add_msg(st, "b", "u1", 1, v1);
	add_msg(st, "a", "u2", 2, v1);
	add_msg(st, "a", "u3", 3, v2); /* stays PENDING */
	add_msg(st, "c", "u4", 1, v3); /* content in v1 */
	assert_int_equal(store_volume_done(st, v1, &err), PV_OK);
	assert_int_equal(store_volume_done(st, v3, &err), PV_OK);
	assert_int_equal(store_done_each(st, collect_done, &c, &err), PV_OK);
	assert_int_equal(c.n, 5);
	assert_string_equal(c.rows[0], "v v1");
	assert_string_equal(c.rows[1], "v v3");
	assert_string_equal(c.rows[2], "m a 0002");
	assert_string_equal(c.rows[3], "m b 0001");
	assert_string_equal(c.rows[4], "m c 0001");
	assert_int_equal(store_done_each(st, stop_done, NULL, &err), PV_EABORT);
	assert_string_equal(err.msg, "stop");
	store_close(st);
}

/* ---- IMAP targets (schema 2) ---- */

struct seen {
	size_t n;
	struct store_status s[8];
	char names[8][32];
	char errors[8][64];
	char codes[8][16];
};

static enum pv_code
collect(void *arg, const struct store_status *s, struct pv_err *err)
{
	struct seen *c = arg;

	(void)err;
	if (c->n == 8)
		return PV_EINTERNAL;
	c->s[c->n] = *s;
	(void)snprintf(c->names[c->n], 32, "%s", s->account);
	(void)snprintf(c->errors[c->n], 64, "%s",
	    s->last_error != NULL ? s->last_error : "(none)");
	(void)snprintf(c->codes[c->n], 16, "%s",
	    s->last_code != NULL ? s->last_code : "(none)");
	c->n++;
	return PV_OK;
}


struct tgt_seen {
	char rows[8][64];
	size_t n;
};

static enum pv_code
collect_target(void *arg, const struct store_target *t, struct pv_err *err)
{
	struct tgt_seen *c = arg;

	(void)err;
	assert_true(c->n < 8);
	assert_true(snprintf(c->rows[c->n], sizeof(c->rows[0]),
	                "%" PRId64 " %s %s %" PRIu32, t->id, t->key, t->folder,
	                t->uidvalidity) > 0);
	c->n++;
	return PV_OK;
}

static void
test_store_target_get_returns_the_same_id(void **state)
{
	struct store *st = mem_store();
	struct tgt_seen c;
	struct pv_err err;
	int64_t a, b, x, other = 0;
	bool reset = true;

	(void)state;
	a = target(st, "INBOX", 100, &reset);
	assert_false(reset);
	x = target(st, "Archive/2023", 7, &reset);
	assert_false(reset);
	assert_true(x != a);
	b = target(st, "INBOX", 100, &reset);
	assert_int_equal(b, a);
	assert_false(reset);
	/* The same folder of another account is another target. */
	assert_int_equal(store_target_get(st, "you@imap.example:993", "INBOX",
	                     100, &other, &reset, &err),
	    PV_OK);
	assert_true(other != a && other != x);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_target_each(st, "me@imap.example:993",
	                     collect_target, &c, &err),
	    PV_OK);
	assert_int_equal(c.n, 2); /* folder order, this key only */
	assert_true(strstr(c.rows[0], " Archive/2023 7") != NULL);
	assert_true(strstr(c.rows[1], " INBOX 100") != NULL);
	store_close(st);
}

static void
test_store_new_uidvalidity_forgets_the_targets_uploads(void **state)
{
	struct store *st = mem_store();
	struct store_upload u;
	struct tgt_seen c;
	struct pv_err err;
	int64_t t, t2;
	bool reset = true;

	(void)state;
	t = target(st, "INBOX", 100, NULL);
	t2 = target(st, "Sent", 5, NULL);
	upl_init(&u, 1, 10);
	assert_int_equal(store_upload_intent(st, t, &u, &err), PV_OK);
	upl_init(&u, 2, 11);
	u.how = "appended";
	assert_int_equal(store_upload_done(st, t, &u, &err), PV_OK);
	assert_int_equal(store_upload_done(st, t2, &u, &err), PV_OK);
	/* Unknown (0) resets nothing and forgets nothing. */
	assert_int_equal(target(st, "INBOX", 0, &reset), t);
	assert_false(reset);
	assert_int_equal(upl_state(st, t, 2), STORE_UPL_DONE);
	/* Inside the caller's transaction, the reset is the caller's: a
	 * rollback undoes it. */
	assert_int_equal(store_begin(st, &err), PV_OK);
	assert_int_equal(target(st, "INBOX", 300, &reset), t);
	assert_true(reset);
	assert_int_equal(upl_state(st, t, 2), -1);
	store_rollback(st);
	assert_int_equal(upl_state(st, t, 2), STORE_UPL_DONE);
	/* And outside one it is its own. */
	assert_int_equal(target(st, "INBOX", 200, &reset), t);
	assert_true(reset);
	assert_int_equal(upl_state(st, t, 1), -1);
	assert_int_equal(upl_state(st, t, 2), -1);
	assert_int_equal(upl_state(st, t2, 2), STORE_UPL_DONE);
	assert_int_equal(target(st, "INBOX", 200, &reset), t);
	assert_false(reset);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_target_each(st, "me@imap.example:993",
	                     collect_target, &c, &err),
	    PV_OK);
	assert_true(strstr(c.rows[0], " INBOX 200") != NULL);
	store_close(st);
}

static void
test_store_upload_intent_then_done(void **state)
{
	struct store *st = mem_store();
	struct store_upload u, g;
	struct pv_err err;
	int64_t t;
	bool found = false;

	(void)state;
	t = target(st, "INBOX", 100, NULL);
	upl_init(&u, 3, 1000);
	u.how = "found"; /* ignored for an intent */
	u.state = STORE_UPL_DONE;
	assert_int_equal(store_upload_intent(st, t, &u, &err), PV_OK);
	memset(&g, 0x5a, sizeof(g));
	assert_int_equal(store_upload_get(st, t, u.sha256, &found, &g, &err),
	    PV_OK);
	assert_true(found);
	assert_int_equal(g.state, STORE_UPL_INTENT);
	assert_null(g.how);
	assert_string_equal(g.sha256, u.sha256);
	assert_int_equal(g.uidnext, 50);
	assert_int_equal(g.uidvalidity, 100);
	assert_int_equal(g.internaldate, 1700000000);
	assert_int_equal(g.date_off, 60);
	assert_string_equal(g.date_src, "date");
	assert_int_equal(g.when, 1000);
	/* A second intent (a retry) replaces the first. */
	u.uidnext = 51;
	assert_int_equal(store_upload_intent(st, t, &u, &err), PV_OK);
	assert_int_equal(store_upload_get(st, t, u.sha256, &found, &g, &err),
	    PV_OK);
	assert_int_equal(g.uidnext, 51);
	u.how = "appended";
	u.uid = 4000000000u; /* UIDs are unsigned 32-bit */
	u.date_src = "archive";
	u.when = 1001;
	assert_int_equal(store_upload_done(st, t, &u, &err), PV_OK);
	memset(&g, 0, sizeof(g));
	assert_int_equal(store_upload_get(st, t, u.sha256, &found, &g, &err),
	    PV_OK);
	assert_int_equal(g.state, STORE_UPL_DONE);
	assert_string_equal(g.how, "appended");
	assert_int_equal(g.uid, 4000000000u);
	assert_string_equal(g.date_src, "archive");
	assert_int_equal(g.when, 1001);
	/* Unknown content: not found, *out untouched. */
	memset(&g, 0x5a, sizeof(g));
	sha_of(99, u.sha256);
	found = true;
	assert_int_equal(store_upload_get(st, t, u.sha256, &found, &g, &err),
	    PV_OK);
	assert_false(found);
	assert_int_equal(g.uid, 0x5a5a5a5a);
	/* What the contract refuses. */
	u.how = "maybe";
	assert_int_equal(store_upload_done(st, t, &u, &err), PV_EINTERNAL);
	u.how = "found";
	u.date_src = "guessed";
	assert_int_equal(store_upload_done(st, t, &u, &err), PV_EINTERNAL);
	u.date_src = "date";
	u.sha256[0] = 'A';
	assert_int_equal(store_upload_intent(st, t, &u, &err), PV_EINTERNAL);
	assert_int_equal(store_upload_get(st, t, u.sha256, &found, &g, &err),
	    PV_EINTERNAL);
	sha_of(99, u.sha256);
	assert_int_equal(store_upload_intent(st, t + 100, &u, &err),
	    PV_EINTERNAL); /* no such target: the foreign key */
	store_close(st);
}

static void
test_store_upload_intent_over_done_is_refused(void **state)
{
	struct store *st = mem_store();
	struct store_upload u, g;
	struct pv_err err;
	int64_t t;
	bool found = false;

	(void)state;
	t = target(st, "INBOX", 100, NULL);
	upl_init(&u, 4, 1000);
	u.how = "found";
	u.uid = 17;
	assert_int_equal(store_upload_done(st, t, &u, &err), PV_OK);
	u.uid = 0;
	u.uidnext = 99;
	assert_int_equal(store_upload_intent(st, t, &u, &err), PV_EINTERNAL);
	assert_non_null(strstr(err.msg, "never goes back"));
	assert_int_equal(store_upload_get(st, t, u.sha256, &found, &g, &err),
	    PV_OK);
	assert_int_equal(g.state, STORE_UPL_DONE);
	assert_int_equal(g.uid, 17);
	assert_int_equal(g.uidnext, 50);
	store_close(st);
}

static void
test_store_upload_drop_removes_an_intent_never_a_done(void **state)
{
	struct store *st = mem_store();
	struct store_upload u;
	struct pv_err err;
	int64_t t;

	(void)state;
	t = target(st, "INBOX", 100, NULL);
	upl_init(&u, 5, 1);
	assert_int_equal(store_upload_intent(st, t, &u, &err), PV_OK);
	assert_int_equal(store_upload_drop(st, t, u.sha256, &err), PV_OK);
	assert_int_equal(upl_state(st, t, 5), -1);
	/* No row: nothing to do. */
	assert_int_equal(store_upload_drop(st, t, u.sha256, &err), PV_OK);
	u.how = "appended";
	assert_int_equal(store_upload_done(st, t, &u, &err), PV_OK);
	assert_int_equal(store_upload_drop(st, t, u.sha256, &err),
	    PV_EINTERNAL);
	assert_int_equal(upl_state(st, t, 5), STORE_UPL_DONE);
	store_close(st);
}

struct upl_seen {
	unsigned sha[8]; /* last 4 hex digits of each */
	size_t n;
	size_t stop_at; /* 0: never */
};

static enum pv_code
collect_upload(void *arg, const struct store_upload *u, struct pv_err *err)
{
	struct upl_seen *c = arg;

	assert_true(c->n < 8);
	c->sha[c->n++] = (unsigned)strtoul(u->sha256 + 60, NULL, 16);
	if (c->stop_at != 0 && c->n == c->stop_at)
		return pv_errf(err, PV_EABORT, "stop");
	return PV_OK;
}

static void
test_store_upload_each_lists_oldest_first_by_state(void **state)
{
	struct store *st = mem_store();
	struct store_upload u;
	struct upl_seen c;
	struct pv_err err;
	int64_t t, t2;

	(void)state;
	t = target(st, "INBOX", 100, NULL);
	t2 = target(st, "Other", 100, NULL);
	/* Recorded in the order 9, 3, 7, 5; times deliberately reversed:
	 * the order is the order of recording. */
	upl_init(&u, 9, 40);
	assert_int_equal(store_upload_intent(st, t, &u, &err), PV_OK);
	upl_init(&u, 3, 30);
	assert_int_equal(store_upload_intent(st, t, &u, &err), PV_OK);
	upl_init(&u, 7, 20);
	u.how = "appended";
	assert_int_equal(store_upload_done(st, t, &u, &err), PV_OK);
	upl_init(&u, 5, 10);
	assert_int_equal(store_upload_intent(st, t, &u, &err), PV_OK);
	upl_init(&u, 1, 10);
	assert_int_equal(store_upload_intent(st, t2, &u, &err), PV_OK);
	/* 9 becomes DONE: it leaves the INTENT list. */
	upl_init(&u, 9, 50);
	u.how = "found";
	assert_int_equal(store_upload_done(st, t, &u, &err), PV_OK);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_upload_each(st, t, STORE_UPL_INTENT,
	                     collect_upload, &c, &err),
	    PV_OK);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.sha[0], 3);
	assert_int_equal(c.sha[1], 5);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_upload_each(st, t, STORE_UPL_DONE,
	                     collect_upload, &c, &err),
	    PV_OK);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.sha[0], 9);
	assert_int_equal(c.sha[1], 7);
	memset(&c, 0, sizeof(c));
	c.stop_at = 1;
	assert_int_equal(store_upload_each(st, t, STORE_UPL_INTENT,
	                     collect_upload, &c, &err),
	    PV_EABORT);
	assert_int_equal(c.n, 1);
	store_close(st);
}

static void
test_store_msg_without_volume_is_done_and_not_archived(void **state)
{
	struct store *st = mem_store();
	struct store_msg m, g;
	struct done_seen c;
	struct pv_err err;
	char sha[65];
	bool found = false;
	int64_t vol;

	(void)state;
	sha_of(42, sha);
	msg_init(&m, "imap-only", "u1", 2, sha, 0);
	assert_int_equal(store_msg_add(st, &m, &err), PV_OK);
	assert_int_equal(store_msg_get(st, "imap-only", "u1", 2, &g, &found,
	                     &err),
	    PV_OK);
	assert_true(found);
	assert_int_equal(g.state, STORE_DONE);
	assert_int_equal(g.volume_id, 0);
	store_msg_clear(&g);
	/* Still unique per (account, UIDL). */
	assert_int_equal(store_msg_add(st, &m, &err), PV_EINTERNAL);
	/* An archived one beside it, so that the walk is not empty. */
	vol = volume(st, "v1");
	add_msg(st, "archived", "u2", 43, vol);
	assert_int_equal(store_volume_done(st, vol, &err), PV_OK);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_done_each(st, collect_done, &c, &err), PV_OK);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.rows[0], "v v1");
	assert_string_equal(c.rows[1], "m archived 002b");
	/* status counts it: it is done. */
	{
		struct seen ss;

		memset(&ss, 0, sizeof(ss));
		assert_int_equal(store_status_each(st, collect, &ss, &err),
		    PV_OK);
		assert_int_equal(ss.n, 2);
		assert_string_equal(ss.names[1], "imap-only");
		assert_int_equal(ss.s[1].messages, 1);
		assert_int_equal(ss.s[1].bytes, 1234);
		assert_int_equal(ss.s[1].pending, 0);
		assert_int_equal(ss.s[1].newest, 1700000100);
	}
	/* Volume operations do not touch it. */
	vol = volume(st, "v2");
	assert_int_equal(store_volume_drop(st, vol, &err), PV_OK);
	assert_int_equal(msg_state(st, "imap-only", "u1"), STORE_DONE);
	store_close(st);
}

struct msg_seen {
	char rows[8][80];
	size_t n;
};

static enum pv_code
collect_msg(void *arg, const struct store_msg *m, struct pv_err *err)
{
	struct msg_seen *c = arg;

	(void)err;
	assert_true(c->n < 8);
	assert_true(snprintf(c->rows[c->n], sizeof(c->rows[0]),
	                "%s %.*s %.4s v%" PRId64 " s%d %s", m->account,
	                (int)m->uidl_len, m->uidl, m->sha256 + 60, m->volume_id,
	                (int)m->state,
	                m->message_id != NULL ? m->message_id : "-") > 0);
	c->n++;
	return PV_OK;
}

static enum pv_code
stop_msg(void *arg, const struct store_msg *m, struct pv_err *err)
{
	(void)arg;
	(void)m;
	return pv_errf(err, PV_EABORT, "stop");
}

static void
test_store_msg_each_lists_every_row_in_account_order(void **state)
{
	struct store *st = mem_store();
	struct store_msg m;
	struct msg_seen c;
	struct pv_err err;
	char sha[65];
	int64_t vol;

	(void)state;
	vol = volume(st, "v1");
	add_msg(st, "b", "z-first", 1, vol);
	add_msg(st, "a", "y", 2, vol);
	add_msg(st, "b", "a-second", 3, vol);
	sha_of(4, sha);
	msg_init(&m, "a", "", 0, sha, 0); /* empty UIDL, no volume */
	m.message_id = NULL;
	assert_int_equal(store_msg_add(st, &m, &err), PV_OK);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_msg_each(st, NULL, collect_msg, &c, &err),
	    PV_OK);
	assert_int_equal(c.n, 4);
	assert_string_equal(c.rows[0], "a y 0002 v1 s0 abc@example.org");
	assert_string_equal(c.rows[1], "a  0004 v0 s1 -");
	assert_string_equal(c.rows[2], "b z-first 0001 v1 s0 abc@example.org");
	assert_string_equal(c.rows[3], "b a-second 0003 v1 s0 abc@example.org");
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_msg_each(st, "b", collect_msg, &c, &err), PV_OK);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.rows[0], "b z-first 0001 v1 s0 abc@example.org");
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_msg_each(st, "nobody", collect_msg, &c, &err),
	    PV_OK);
	assert_int_equal(c.n, 0);
	assert_int_equal(store_msg_each(st, NULL, stop_msg, NULL, &err),
	    PV_EABORT);
	store_close(st);
}

/* status of the targets: appended, found and intents counted per folder,
 * folders without uploads listed too, in (key, folder) order. */
struct tstat {
	char folder[32];
	uint64_t appended, found, intents;
	int64_t last;
};

static enum pv_code
collect_tstat(void *arg, const struct store_target_status *t,
    struct pv_err *err)
{
	struct tstat *v = arg;
	size_t i;

	(void)err;
	for (i = 0; v[i].folder[0] != '\0'; i++)
		;
	(void)snprintf(v[i].folder, sizeof(v[i].folder), "%s", t->folder);
	v[i].appended = t->appended;
	v[i].found = t->found;
	v[i].intents = t->intents;
	v[i].last = t->last;
	return PV_OK;
}

static void
test_store_target_status_counts_uploads(void **state)
{
	struct store *st = mem_store();
	struct store_upload u;
	struct tstat v[4];
	struct pv_err err;
	int64_t a, b;

	(void)state;
	memset(v, 0, sizeof(v));
	b = target(st, "B", 7, NULL);
	a = target(st, "A", 7, NULL);
	upl_init(&u, 1, 10);
	u.how = "appended";
	assert_int_equal(store_upload_done(st, a, &u, &err), PV_OK);
	upl_init(&u, 2, 30);
	u.how = "found";
	assert_int_equal(store_upload_done(st, a, &u, &err), PV_OK);
	upl_init(&u, 3, 20);
	assert_int_equal(store_upload_intent(st, a, &u, &err), PV_OK);
	(void)b;
	assert_int_equal(store_target_status_each(st, collect_tstat, v, &err),
	    PV_OK);
	assert_string_equal(v[0].folder, "A");
	assert_int_equal(v[0].appended, 1);
	assert_int_equal(v[0].found, 1);
	assert_int_equal(v[0].intents, 1);
	assert_int_equal(v[0].last, 30);
	assert_string_equal(v[1].folder, "B");
	assert_int_equal(v[1].appended + v[1].found + v[1].intents, 0);
	assert_int_equal(v[1].last, 0);
	assert_string_equal(v[2].folder, "");
	store_close(st);
}

/* plan()'s one pass: every row of the account, in UIDL order, with its
 * state, first retrieval and content; other accounts' rows not. */
struct known_rows {
	char rows[4][96];
	size_t n;
};

static enum pv_code
collect_known(void *arg, const struct store_known *k, struct pv_err *err)
{
	struct known_rows *c = arg;

	(void)err;
	assert_true(c->n < 4);
	(void)snprintf(c->rows[c->n++], sizeof(c->rows[0]), "%.*s %d %.4s",
	    (int)k->uidl_len, k->uidl, (int)k->state, k->sha256 + 60);
	return PV_OK;
}

static void
test_store_msg_known_each_walks_one_account(void **state)
{
	struct store *st = mem_store();
	struct known_rows c;
	struct pv_err err;
	int64_t vol;

	(void)state;
	memset(&c, 0, sizeof(c));
	vol = volume(st, "v1");
	add_msg(st, "a", "u2", 2, vol);
	add_msg(st, "a", "u1", 1, vol);
	add_msg(st, "b", "u0", 3, vol);
	assert_int_equal(store_volume_done(st, vol, &err), PV_OK);
	vol = volume(st, "v2");
	add_msg(st, "a", "u3", 4, vol); /* still PENDING */
	assert_int_equal(store_msg_known_each(st, "a", collect_known, &c, &err),
	    PV_OK);
	assert_int_equal(c.n, 3);
	assert_string_equal(c.rows[0], "u1 1 0001");
	assert_string_equal(c.rows[1], "u2 1 0002");
	assert_string_equal(c.rows[2], "u3 0 0004");
	store_close(st);
}

/* plan() merges this walk with the server's items sorted by
 * pop3_uidl_cmp: the two orders must agree for any bytes. */
struct uidl_order {
	char prev[16];
	size_t prev_len, n;
	bool ordered;
};

static enum pv_code
check_order(void *arg, const struct store_known *k, struct pv_err *err)
{
	struct uidl_order *o = arg;

	(void)err;
	if (o->n > 0 &&
	    pop3_uidl_cmp(o->prev, o->prev_len, k->uidl, k->uidl_len) >= 0)
		o->ordered = false;
	assert_true(k->uidl_len <= sizeof(o->prev));
	memcpy(o->prev, k->uidl, k->uidl_len);
	o->prev_len = k->uidl_len;
	o->n++;
	return PV_OK;
}

static void
test_store_known_each_order_is_pop3_uidl_cmp(void **state)
{
	static const struct {
		const char *u;
		size_t n;
	} uidls[] = {{"b", 1}, {"a\0", 2}, {"a", 1}, {"ab", 2}, {"\xff", 1},
	    {"B", 1}, {"a b", 3}, {"\x01", 1}, {"aa", 2}, {"~", 1}};
	struct store *st = mem_store();
	struct uidl_order o;
	struct store_msg m;
	struct pv_err err;
	char sha[65];
	int64_t vol;
	size_t i;

	(void)state;
	vol = volume(st, "v1");
	for (i = 0; i < sizeof(uidls) / sizeof(uidls[0]); i++) {
		sha_of((unsigned)i + 1, sha);
		msg_init(&m, "a", uidls[i].u, uidls[i].n, sha, vol);
		assert_int_equal(store_msg_add(st, &m, &err), PV_OK);
	}
	memset(&o, 0, sizeof(o));
	o.ordered = true;
	assert_int_equal(store_msg_known_each(st, "a", check_order, &o, &err),
	    PV_OK);
	assert_int_equal(o.n, sizeof(uidls) / sizeof(uidls[0]));
	assert_true(o.ordered);
	store_close(st);
}

/* The version-1 schema exactly as popvault 0.1 created it. */
static const char v1_schema[] =
    "CREATE TABLE volumes (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  name TEXT NOT NULL UNIQUE,\n"
    "  state INTEGER NOT NULL DEFAULT 0 CHECK (state IN (0, 1)),\n"
    "  created INTEGER NOT NULL\n"
    ");\n"
    "CREATE TABLE blobs (\n"
    "  sha256 TEXT NOT NULL PRIMARY KEY CHECK (length(sha256) = 64),\n"
    "  size INTEGER NOT NULL CHECK (size >= 0),\n"
    "  volume_id INTEGER NOT NULL REFERENCES volumes (id),\n"
    "  member TEXT NOT NULL\n"
    ") WITHOUT ROWID;\n"
    "CREATE INDEX blobs_by_volume ON blobs (volume_id);\n"
    "CREATE TABLE messages (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  account TEXT NOT NULL,\n"
    "  uidl BLOB NOT NULL,\n"
    "  sha256 TEXT NOT NULL CHECK (length(sha256) = 64),\n"
    "  size INTEGER NOT NULL CHECK (size >= 0),\n"
    "  list_size INTEGER NOT NULL CHECK (list_size >= 0),\n"
    "  message_id TEXT,\n"
    "  canon TEXT,\n"
    "  date INTEGER NOT NULL,\n"
    "  date_off INTEGER NOT NULL,\n"
    "  date_src TEXT NOT NULL,\n"
    "  first_seen INTEGER NOT NULL,\n"
    "  volume_id INTEGER NOT NULL REFERENCES volumes (id),\n"
    "  state INTEGER NOT NULL DEFAULT 0 CHECK (state IN (0, 1)),\n"
    "  deleted_at INTEGER NOT NULL DEFAULT 0 CHECK (deleted_at >= 0),\n"
    "  UNIQUE (account, uidl)\n"
    ");\n"
    "CREATE INDEX messages_by_volume ON messages (volume_id);\n"
    "CREATE TABLE runs (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  command TEXT NOT NULL,\n"
    "  started INTEGER NOT NULL,\n"
    "  ended INTEGER,\n"
    "  outcome TEXT\n"
    ");\n"
    "CREATE TABLE run_accounts (\n"
    "  run_id INTEGER NOT NULL REFERENCES runs (id),\n"
    "  account TEXT NOT NULL,\n"
    "  seen INTEGER NOT NULL,\n"
    "  fetched INTEGER NOT NULL,\n"
    "  stored INTEGER NOT NULL,\n"
    "  dups INTEGER NOT NULL,\n"
    "  deleted INTEGER NOT NULL,\n"
    "  failed INTEGER NOT NULL,\n"
    "  bytes INTEGER NOT NULL,\n"
    "  code TEXT NOT NULL,\n"
    "  error TEXT,\n"
    "  started INTEGER NOT NULL,\n"
    "  ended INTEGER NOT NULL,\n"
    "  PRIMARY KEY (run_id, account)\n"
    ") WITHOUT ROWID;\n"
    "CREATE INDEX run_accounts_by_account ON run_accounts (account, ended);\n"
    "PRAGMA application_id = 1886351478;\n" /* 0x706f7076 */
    "PRAGMA user_version = 1;\n"
    "INSERT INTO volumes VALUES (1, 'old.tar.gz', 1, 1600000000);\n"
    "INSERT INTO blobs VALUES ('"
    "00000000000000000000000000000000000000000000000000000000000000a1"
    "', 321, 1, 'a1.eml');\n"
    "INSERT INTO messages VALUES (7, 'old', X'75696431', '"
    "00000000000000000000000000000000000000000000000000000000000000a1"
    "', 321, 330, 'old@example.org', NULL, 1500000000, 120, 'date', "
    "1600000000, 1, 1, 1650000000);\n"
    "INSERT INTO runs VALUES (1, 'backup', 1600000000, 1600000100, 'ok');\n"
    "INSERT INTO run_accounts VALUES (1, 'old', 1, 1, 1, 0, 0, 0, 321, "
    "'ok', NULL, 1600000000, 1600000100);\n";

/* A closed version-1 state file built with SQLite itself. */
static void
make_v1_state(const char *path)
{
	sqlite3 *db = NULL;
	char *msg = NULL;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db, v1_schema, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("v1 schema: %s", msg != NULL ? msg : "?");
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

static void
test_store_version_1_state_is_migrated(void **state)
{
	struct fix *f = *state;
	struct store_msg m, g;
	struct store_upload u;
	struct seen ss;
	struct done_seen c;
	struct store *st;
	struct pv_err err;
	char sha[65];
	bool found = false;
	int64_t t;

	make_v1_state(f->path);
	/* A reader cannot migrate, and changes nothing. */
	open_fails(f->path, STORE_READONLY, PV_ECONFIG,
	    "has schema version 1; run a backup once to upgrade it");
	assert_int_equal(file_int(f->path, "PRAGMA user_version"), 1);

	st = open_ok(f->path, 0);
	/* The old rows are all there. */
	assert_int_equal(store_msg_get(st, "old", "uid1", 4, &g, &found, &err),
	    PV_OK);
	assert_true(found);
	assert_int_equal(g.volume_id, 1);
	assert_int_equal(g.state, STORE_DONE);
	assert_int_equal(g.deleted_at, 1650000000);
	assert_string_equal(g.message_id, "old@example.org");
	assert_string_equal(g.canon, "");
	assert_int_equal(g.date_off, 120);
	store_msg_clear(&g);
	sha_of(0xa1, sha);
	assert_true(blob_known(st, 0xa1));
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_done_each(st, collect_done, &c, &err), PV_OK);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.rows[0], "v old.tar.gz");
	assert_string_equal(c.rows[1], "m old 00a1");
	memset(&ss, 0, sizeof(ss));
	assert_int_equal(store_status_each(st, collect, &ss, &err), PV_OK);
	assert_int_equal(ss.n, 1);
	assert_int_equal(ss.s[0].messages, 1);
	assert_int_equal(ss.s[0].last_ok, 1600000100);
	/* The new API works on it. */
	sha_of(0xa2, sha);
	msg_init(&m, "old", "uid2", 4, sha, 0);
	assert_int_equal(store_msg_add(st, &m, &err), PV_OK);
	assert_int_equal(msg_state(st, "old", "uid2"), STORE_DONE);
	t = target(st, "INBOX", 9, NULL);
	upl_init(&u, 0xa2, 5);
	u.how = "appended";
	assert_int_equal(store_upload_done(st, t, &u, &err), PV_OK);
	/* Foreign keys are on again after the rebuild. */
	assert_int_equal(store_upload_intent(st, t + 1, &u, &err),
	    PV_EINTERNAL);
	store_close(st);

	assert_int_equal(file_int(f->path, "PRAGMA user_version"),
	    STORE_SCHEMA_VERSION);
	assert_int_equal(file_int(f->path, "PRAGMA application_id"),
	    0x706f7076);
	/* The same schema as a new file: volume_id nullable, its index
	 * there again. */
	assert_int_equal(file_int(f->path,
	                     "SELECT \"notnull\" FROM pragma_table_info("
	                     "'messages') WHERE name = 'volume_id'"),
	    0);
	assert_int_equal(file_int(f->path,
	                     "SELECT count(*) FROM sqlite_master WHERE name IN "
	                     "('messages_by_volume', 'targets', 'uploads', "
	                     "'messages_new')"),
	    3);
	/* Version 3: a content may be in several volumes. */
	assert_int_equal(file_int(f->path,
	                     "SELECT count(*) FROM pragma_table_info('blobs') "
	                     "WHERE pk > 0"),
	    2);
	assert_int_equal(file_int(f->path,
	                     "SELECT count(*) FROM sqlite_master WHERE name IN "
	                     "('blobs_by_volume', 'blobs_new')"),
	    1);
	/* Reopened, read-only now: nothing more to migrate. */
	st = open_ok(f->path, STORE_READONLY);
	assert_int_equal(msg_state(st, "old", "uid1"), STORE_DONE);
	assert_int_equal(upl_state(st, t, 0xa2), STORE_UPL_DONE);
	store_close(st);
}

static void
test_store_reopened_state_keeps_targets_and_uploads(void **state)
{
	struct fix *f = *state;
	struct store_upload u, g;
	struct store_msg m;
	struct store *st;
	struct pv_err err;
	char sha[65];
	bool found = false, reset = true;
	int64_t t, t2;

	st = open_ok(f->path, STORE_CREATE);
	t = target(st, "INBOX", 100, NULL);
	upl_init(&u, 1, 10);
	assert_int_equal(store_upload_intent(st, t, &u, &err), PV_OK);
	/* The way the engine records an upload to a target only. */
	assert_int_equal(store_begin(st, &err), PV_OK);
	upl_init(&u, 2, 11);
	u.how = "appended";
	u.uid = 12;
	assert_int_equal(store_upload_done(st, t, &u, &err), PV_OK);
	sha_of(2, sha);
	msg_init(&m, "acct", "u2", 2, sha, 0);
	assert_int_equal(store_msg_add(st, &m, &err), PV_OK);
	assert_int_equal(store_commit(st, &err), PV_OK);
	store_close(st);

	st = open_ok(f->path, 0);
	t2 = target(st, "INBOX", 100, &reset);
	assert_int_equal(t2, t);
	assert_false(reset);
	assert_int_equal(upl_state(st, t, 1), STORE_UPL_INTENT);
	sha_of(2, sha);
	assert_int_equal(store_upload_get(st, t, sha, &found, &g, &err), PV_OK);
	assert_true(found);
	assert_int_equal(g.uid, 12);
	assert_string_equal(g.how, "appended");
	assert_int_equal(msg_state(st, "acct", "u2"), STORE_DONE);
	store_close(st);
}

/* ---- transactions ---- */

static void
test_store_rollback_leaves_nothing(void **state)
{
	struct fix *f = *state;
	struct store *st;
	struct pv_err err;
	int64_t vol, run = 0;

	st = open_ok(f->path, STORE_CREATE);
	assert_int_equal(store_begin(st, &err), PV_OK);
	vol = volume(st, "v1");
	add_msg(st, "a", "u1", 1, vol);
	assert_int_equal(store_run_begin(st, "backup", 1, &run, &err), PV_OK);
	store_rollback(st);
	assert_int_equal(msg_state(st, "a", "u1"), -1);
	assert_false(blob_known(st, 1));
	assert_int_equal(npending(st), 0);
	store_rollback(st); /* outside a transaction: nothing */

	/* Closing with a transaction open drops it too. */
	assert_int_equal(store_begin(st, &err), PV_OK);
	vol = volume(st, "v2");
	add_msg(st, "a", "u2", 2, vol);
	store_close(st);
	st = open_ok(f->path, 0);
	assert_int_equal(msg_state(st, "a", "u2"), -1);
	assert_int_equal(npending(st), 0);
	store_close(st);
}

/* ---- runs and status ---- */

static enum pv_code
stop_at_first(void *arg, const struct store_status *s, struct pv_err *err)
{
	(void)arg;
	(void)s;
	return pv_errf(err, PV_EABORT, "enough");
}

static void
run_acct(struct store *st, int64_t run, const char *account, const char *code,
    const char *error, int64_t ended)
{
	struct store_run_acct a;
	struct pv_err err;

	memset(&a, 0, sizeof(a));
	a.account = account;
	a.seen = 10;
	a.fetched = 2;
	a.code = code;
	a.error = error;
	a.started = ended - 5;
	a.ended = ended;
	assert_int_equal(store_run_account(st, run, &a, &err), PV_OK);
}

static void
test_store_run_and_status_aggregates(void **state)
{
	struct store *st = mem_store();
	struct store_msg m;
	struct seen c;
	struct pv_err err;
	char sha[65];
	int64_t r1 = 0, r2 = 0, v1, v2;

	(void)state;
	assert_int_equal(store_run_begin(st, "backup", 100, &r1, &err), PV_OK);
	run_acct(st, r1, "a", "ok", NULL, 110);
	run_acct(st, r1, "b", "net", "b: timed out", 120);
	assert_int_equal(store_run_end(st, r1, 130, "net", &err), PV_OK);
	assert_int_equal(store_run_begin(st, "backup", 200, &r2, &err), PV_OK);
	assert_true(r2 > r1);
	run_acct(st, r2, "a", "auth", "wrong", 205);
	run_acct(st, r2, "a", "auth", "bad password", 210); /* replaces */
	run_acct(st, r2, "b", "net", "b: reset", 220);
	run_acct(st, r2, "c", "tls", "c: bad cert", 230);
	assert_int_equal(store_run_end(st, r2, 240, "auth", &err), PV_OK);
	assert_int_equal(store_run_end(st, 999, 240, "ok", &err), PV_EINTERNAL);

	v1 = volume(st, "v1");
	sha_of(1, sha);
	assert_int_equal(store_blob_add(st, sha, 10, v1, "m1", &err), PV_OK);
	msg_init(&m, "a", "u1", 2, sha, v1);
	m.size = 10;
	m.first_seen = 500;
	assert_int_equal(store_msg_add(st, &m, &err), PV_OK);
	sha_of(2, sha);
	assert_int_equal(store_blob_add(st, sha, 20, v1, "m2", &err), PV_OK);
	msg_init(&m, "a", "u2", 2, sha, v1);
	m.size = 20;
	m.first_seen = 600;
	assert_int_equal(store_msg_add(st, &m, &err), PV_OK);
	assert_int_equal(store_volume_done(st, v1, &err), PV_OK);
	assert_int_equal(store_msg_deleted(st, "a", "u1", 2, 700, &err), PV_OK);
	v2 = volume(st, "v2");
	add_msg(st, "a", "u3", 3, v2);
	add_msg(st, "d", "u1", 4, v2); /* never in a run: still listed */

	memset(&c, 0, sizeof(c));
	assert_int_equal(store_status_each(st, collect, &c, &err), PV_OK);
	assert_int_equal(c.n, 4);
	assert_string_equal(c.names[0], "a");
	assert_int_equal(c.s[0].messages, 2);
	assert_int_equal(c.s[0].bytes, 30);
	assert_int_equal(c.s[0].pending, 1);
	assert_int_equal(c.s[0].deleted, 1);
	assert_int_equal(c.s[0].newest, 600);
	assert_int_equal(c.s[0].last_ok, 110);
	assert_int_equal(c.s[0].last_fail, 210);
	assert_string_equal(c.errors[0], "bad password");
	assert_string_equal(c.codes[0], "auth");
	assert_string_equal(c.names[1], "b");
	assert_int_equal(c.s[1].messages, 0);
	assert_int_equal(c.s[1].last_ok, 0);
	assert_int_equal(c.s[1].last_fail, 220);
	assert_string_equal(c.errors[1], "b: reset");
	assert_string_equal(c.codes[1], "net");
	assert_string_equal(c.names[2], "c"); /* only ever failed */
	assert_int_equal(c.s[2].messages, 0);
	assert_int_equal(c.s[2].newest, 0);
	assert_int_equal(c.s[2].last_fail, 230);
	assert_string_equal(c.errors[2], "c: bad cert");
	assert_string_equal(c.codes[2], "tls");
	assert_string_equal(c.names[3], "d");
	assert_int_equal(c.s[3].messages, 0);
	assert_int_equal(c.s[3].pending, 1);
	assert_int_equal(c.s[3].last_ok, 0);
	assert_int_equal(c.s[3].last_fail, 0);
	assert_string_equal(c.errors[3], "(none)");
	assert_string_equal(c.codes[3], "(none)"); /* no run recorded */

	/* The callback's code stops the walk and comes back. */
	assert_int_equal(store_status_each(st, stop_at_first, NULL, &err),
	    PV_EABORT);
	assert_string_equal(err.msg, "enough");
	store_close(st);
}

/* The latest run decides last_code, also when two runs end in the same
 * second (status --check: a failure right after a success is stale). */
static void
test_store_status_last_code_is_the_latest_run(void **state)
{
	struct store *st = mem_store();
	struct seen c;
	struct pv_err err;
	int64_t r1 = 0, r2 = 0, r3 = 0;

	(void)state;
	assert_int_equal(store_run_begin(st, "backup", 100, &r1, &err), PV_OK);
	run_acct(st, r1, "a", "ok", NULL, 300);
	run_acct(st, r1, "b", "net", "b: refused", 300);
	assert_int_equal(store_run_begin(st, "backup", 300, &r2, &err), PV_OK);
	run_acct(st, r2, "a", "net", "a: refused", 300);
	run_acct(st, r2, "b", "ok", NULL, 300);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_status_each(st, collect, &c, &err), PV_OK);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.codes[0], "net");
	assert_int_equal(c.s[0].last_ok, 300);
	assert_int_equal(c.s[0].last_fail, 300);
	assert_string_equal(c.errors[0], "a: refused");
	assert_string_equal(c.codes[1], "ok");
	assert_string_equal(c.errors[1], "b: refused");

	/* A later end wins over a later run. */
	assert_int_equal(store_run_begin(st, "migrate", 50, &r3, &err), PV_OK);
	run_acct(st, r3, "a", "ok", NULL, 290);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_status_each(st, collect, &c, &err), PV_OK);
	assert_string_equal(c.codes[0], "net");
	store_close(st);
}

static void
test_store_status_of_empty_state_lists_nothing(void **state)
{
	struct store *st = mem_store();
	struct seen c;
	struct pv_err err;

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_status_each(st, collect, &c, &err), PV_OK);
	assert_int_equal(c.n, 0);
	store_close(st);
}

/* ---- a new state, rebuilt from the volumes (STORE_NEW) ---- */

static bool
file_exists(const char *path)
{
	struct stat sb;

	return lstat(path, &sb) == 0;
}

static char *
tmp_of(const struct fix *f)
{
	static char p[PATH_MAX + 8];
	int n = snprintf(p, sizeof(p), "%s.new", f->path);

	assert_true(n > 0 && (size_t)n < sizeof(p));
	return p;
}

static void
test_store_created_says_whether_the_open_made_the_file(void **state)
{
	struct fix *f = *state;
	struct store *st;

	st = open_ok(f->path, STORE_CREATE);
	assert_true(store_created(st));
	store_close(st);
	st = open_ok(f->path, STORE_CREATE);
	assert_false(store_created(st));
	store_close(st);
}

static void
test_store_new_refuses_an_existing_state_unchanged(void **state)
{
	struct fix *f = *state;
	struct store *st;
	char *before, *after;
	size_t n, m;

	st = open_ok(f->path, STORE_CREATE);
	add_msg(st, "acct", "u1", 1, volume(st, "v1"));
	store_close(st);
	before = slurp(f->path, &n);
	open_fails(f->path, STORE_NEW, PV_ECONFIG, "exists");
	after = slurp(f->path, &m);
	assert_int_equal(n, m);
	assert_memory_equal(before, after, n);
	assert_false(file_exists(tmp_of(f)));
	free(before);
	free(after);
	/* Not with the other flags, nor in memory. */
	open_fails(f->path, STORE_NEW | STORE_CREATE, PV_EINTERNAL,
	    "STORE_NEW");
	open_fails(":memory:", STORE_NEW, PV_EINTERNAL, "STORE_NEW");
}

static void
test_store_new_state_is_invisible_until_published(void **state)
{
	struct fix *f = *state;
	struct store *st;

	st = open_ok(f->path, STORE_NEW);
	assert_true(store_created(st));
	add_msg(st, "acct", "u1", 1, volume(st, "v1"));
	assert_false(file_exists(f->path));
	assert_true(file_exists(tmp_of(f)));
	/* Closed (or killed) before store_publish: nothing stays. */
	store_close(st);
	assert_false(file_exists(f->path));
	assert_false(file_exists(tmp_of(f)));
	open_fails(f->path, 0, PV_ECONFIG, "no state");
}

static void
test_store_new_state_published_holds_done_rows(void **state)
{
	struct fix *f = *state;
	struct store *st;
	struct store_msg m;
	struct pv_err err;
	int64_t a, b;
	char sha[65];

	st = open_ok(f->path, STORE_NEW);
	/* Volume a refers to content stored in b, which comes later (by
	 * name, as accounts sort): store_volume_done, one at a time, would
	 * refuse a; all at once they are consistent. */
	a = volume(st, "alice-1");
	b = volume(st, "bob-1");
	add_msg(st, "bob", "b1", 7, b);
	sha_of(7, sha);
	msg_init(&m, "alice", "a1", 2, sha, a);
	assert_int_equal(store_msg_add(st, &m, &err), PV_OK);
	assert_int_equal(store_volume_done(st, a, &err), PV_EINTERNAL);
	assert_int_equal(store_volumes_done_all(st, &err), PV_OK);
	assert_int_equal(msg_state(st, "alice", "a1"), STORE_DONE);
	assert_int_equal(msg_state(st, "bob", "b1"), STORE_DONE);
	assert_int_equal(npending(st), 0);
	assert_false(file_exists(f->path));
	assert_int_equal(store_publish(st, &err), PV_OK);
	assert_true(file_exists(f->path));
	assert_false(file_exists(tmp_of(f)));
	/* A normal store from here on: writable, and its rows are there. */
	assert_true(blob_known(st, 7));
	assert_int_equal(store_msg_deleted(st, "alice", "a1", 2, 1800000000,
	                     &err),
	    PV_OK);
	assert_int_equal(store_publish(st, &err), PV_EINTERNAL);
	store_close(st);
	assert_int_equal(file_int(f->path, "PRAGMA user_version"),
	    STORE_SCHEMA_VERSION);
	assert_int_equal(file_int(f->path,
	                     "SELECT count(*) FROM messages WHERE state = 1"),
	    2);
	st = open_ok(f->path, 0);
	assert_false(store_created(st));
	assert_int_equal(msg_state(st, "alice", "a1"), STORE_DONE);
	store_close(st);
}

static void
test_store_volumes_done_all_refuses_content_stored_nowhere(void **state)
{
	struct fix *f = *state;
	struct store *st, *mem;
	struct store_msg m;
	struct pv_err err;
	int64_t v;
	char sha[65];

	st = open_ok(f->path, STORE_NEW);
	v = volume(st, "v1");
	add_msg(st, "acct", "u1", 1, v);
	sha_of(99, sha);
	msg_init(&m, "acct", "u2", 2, sha, v);
	assert_int_equal(store_msg_add(st, &m, &err), PV_OK);
	assert_int_equal(store_volumes_done_all(st, &err), PV_EINTERNAL);
	assert_non_null(strstr(err.msg, "acct"));
	/* Nothing changed. */
	assert_int_equal(msg_state(st, "acct", "u1"), STORE_PENDING);
	assert_int_equal(npending(st), 1);
	/* Inside a transaction: refused too. */
	assert_int_equal(store_begin(st, &err), PV_OK);
	assert_int_equal(store_volumes_done_all(st, &err), PV_EINTERNAL);
	store_rollback(st);
	store_close(st);
	assert_false(file_exists(f->path));
	/* Only for a state being rebuilt. */
	mem = mem_store();
	add_msg(mem, "acct", "u1", 1, volume(mem, "v1"));
	assert_int_equal(store_volumes_done_all(mem, &err), PV_EINTERNAL);
	assert_int_equal(msg_state(mem, "acct", "u1"), STORE_PENDING);
	assert_int_equal(store_publish(mem, &err), PV_EINTERNAL);
	store_close(mem);
}

/* ---- scale ---- */

static void
test_store_100k_messages_in_one_transaction(void **state)
{
	enum { N = 100000 };
	struct fix *f = *state;
	struct store *st;
	struct store_msg m;
	struct pv_err err;
	char sha[65], uidl[32];
	bool found;
	int64_t vol;
	int i, n;

	st = open_ok(f->path, STORE_CREATE);
	assert_int_equal(store_begin(st, &err), PV_OK);
	vol = volume(st, "big");
	sha_of(1, sha);
	assert_int_equal(store_blob_add(st, sha, 1, vol, "m", &err), PV_OK);
	for (i = 0; i < N; i++) {
		n = snprintf(uidl, sizeof(uidl), "%08X%08X", i, i * 7);
		msg_init(&m, "acct", uidl, (size_t)n, sha, vol);
		if (store_msg_add(st, &m, &err) != PV_OK)
			fail_msg("add %d: %s", i, err.msg);
	}
	for (i = 0; i < N; i++) {
		n = snprintf(uidl, sizeof(uidl), "%08X%08X", i, i * 7);
		found = false;
		if (store_msg_get(st, "acct", uidl, (size_t)n, &m, &found,
		        &err) != PV_OK ||
		    !found)
			fail_msg("get %d: %s", i, found ? err.msg : "missing");
		store_msg_clear(&m);
	}
	assert_int_equal(store_commit(st, &err), PV_OK);
	assert_int_equal(store_volume_done(st, vol, &err), PV_OK);
	store_close(st);
	st = open_ok(f->path, 0);
	assert_int_equal(msg_state(st, "acct", "0000000A00000046"), STORE_DONE);
	store_close(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	    T(test_store_create_and_reopen_keeps_rows),
	    T(test_store_missing_file_without_create_is_config_error),
	    T(test_store_create_needs_the_parent_directory),
	    T(test_store_directory_is_refused_without_a_lock_file),
	    T(test_store_stale_temporary_file_does_not_matter),
	    T(test_store_garbage_file_is_refused_unchanged),
	    T(test_store_empty_file_is_refused_unchanged),
	    T(test_store_truncated_db_is_refused_unchanged),
	    T(test_store_damaged_page_is_refused_unchanged),
	    T(test_store_future_schema_is_refused_unchanged),
	    T(test_store_foreign_sqlite_file_is_refused_unchanged),
	    T(test_store_killed_run_keeps_committed_rows_only),
	    T(test_store_orphaned_wal_is_not_replayed_into_a_new_state),
	    T(test_store_new_state_is_private),
	    T(test_store_second_open_is_busy),
	    T(test_store_second_open_in_same_process_is_busy),
	    T(test_store_lock_file_names_the_holder),
	    T(test_store_readonly_open_works_while_locked),
	    T(test_store_readonly_refuses_writes),
	    T(test_store_msg_round_trip_with_odd_uidl),
	    T(test_store_msg_without_optional_fields_round_trips),
	    T(test_store_msg_get_unknown_leaves_out_untouched),
	    T(test_store_duplicate_uidl_is_refused),
	    T(test_store_msg_add_needs_a_pending_volume),
	    T(test_store_msg_add_refuses_a_malformed_digest),
	    T(test_store_msg_deleted_records_the_first_time),
	    T(test_store_blob_found_only_in_a_durable_volume),
	    T(test_store_volume_done_makes_messages_done),
	    T(test_store_volume_done_refuses_content_stored_nowhere),
	    T(test_store_volume_ops_refused_inside_a_transaction),
	    T(test_store_volume_drop_removes_only_that_volume),
	    T(test_store_volume_drop_forgets_messages_whose_bytes_it_held),
	    T(test_store_volumes_pending_lists_only_pending),
	    T(test_store_done_each_lists_done_volumes_then_done_messages),
	    T(test_store_rollback_leaves_nothing),
	    T(test_store_run_and_status_aggregates),
	    T(test_store_status_last_code_is_the_latest_run),
	    T(test_store_status_of_empty_state_lists_nothing),
	    T(test_store_100k_messages_in_one_transaction),
	    T(test_store_created_says_whether_the_open_made_the_file),
	    T(test_store_new_refuses_an_existing_state_unchanged),
	    T(test_store_new_state_is_invisible_until_published),
	    T(test_store_new_state_published_holds_done_rows),
	    T(test_store_volumes_done_all_refuses_content_stored_nowhere),
	    T(test_store_target_get_returns_the_same_id),
	    T(test_store_new_uidvalidity_forgets_the_targets_uploads),
	    T(test_store_upload_intent_then_done),
	    T(test_store_upload_intent_over_done_is_refused),
	    T(test_store_upload_drop_removes_an_intent_never_a_done),
	    T(test_store_upload_each_lists_oldest_first_by_state),
	    T(test_store_msg_without_volume_is_done_and_not_archived),
	    T(test_store_msg_each_lists_every_row_in_account_order),
	    T(test_store_target_status_counts_uploads),
	    T(test_store_msg_known_each_walks_one_account),
	    T(test_store_version_1_state_is_migrated),
	    T(test_store_open_more_shares_the_run),
	    T(test_store_known_each_order_is_pop3_uidl_cmp),
	    T(test_store_reopened_state_keeps_targets_and_uploads),
#undef T
	};

	log_init(-1, 0); /* "created state ..." is not for test output */
	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
