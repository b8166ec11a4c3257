/* SPDX-License-Identifier: MIT */
/*
 * core/arc.c - archive volumes: write a compressed tar under a hidden
 * temporary name and make it visible only once it is durable; read one
 * back, refusing to let a damaged volume pass for a short one.  The only
 * libarchive user (and zlib's home, for the gzip check below).
 *
 * Durability (DESIGN.md §3, docs/ARCHIVE.md): close the archive, fsync the
 * file, give it its name without ever replacing an existing file
 * (renameat2 RENAME_NOREPLACE, else link + unlink, else a check + rename
 * on file systems that have neither), then fsync the directory.  Until
 * the last step succeeds the caller must not record anything as archived;
 * on any failure nothing stays visible under the volume's name.
 *
 * Reading: libarchive does not check the CRC-32 of a gzip stream, and its
 * tar reader takes an end of file at a block boundary for the end of the
 * archive.  Either would let a damaged volume read back short or wrong
 * without an error, so every gzip byte read is also run through zlib's own
 * checked inflate, and the end of the archive must be the tar end marker.
 */
/* renameat2() and mkostemp() are GNU extensions of glibc. */
#define _GNU_SOURCE

#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <zlib.h>

#include "arc.h"
#include "log.h"
#include "xmem.h"

#define PARTIAL_TAG  ".partial-"
#define PARTIAL_RAND 6 /* mkstemp's XXXXXX */
#define RD_BUF       (64u * 1024u)
#define MEMBER_MAX   4096u

struct arc {
	struct archive *ar; /* owned */
	int fd;             /* the temporary file; -1 once closed */
	char *dir;          /* owned */
	char *path;         /* owned: dir/name, where the volume will be */
	char *tmp;          /* owned: dir/.name.partial-XXXXXX */
	uint64_t nbytes;    /* bytes written to the file */
	bool in_entry;
	char *member; /* owned: the member being written */
	uint64_t esize;
	uint64_t edone;
	bool failed;  /* a step failed: the volume can only be dropped */
	bool discard; /* dropping it: the write callback drops the bytes */
};

struct arc_rd {
	struct archive *ar; /* owned */
	int fd;
	char *path;         /* owned */
	unsigned char *buf; /* owned, RD_BUF: what libarchive reads */
	bool started;       /* the first read was done */
	bool file_eof;
	bool in_entry;      /* arc_rd_next returned a member */
	bool at_end;        /* arc_rd_next said eof */
	const char *member; /* borrowed from libarchive's entry */
	bool failed;

	/* The checked gzip inflate running beside libarchive's. */
	bool gz;
	bool zinit;
	bool zend;    /* at the end of a complete gzip member */
	bool zignore; /* bytes after the last member: not ours to judge */
	z_stream zs;
	unsigned char *zout; /* owned, RD_BUF scratch */
	char zerr[128];
};

const char *
arc_suffix(enum arc_filter f)
{
	switch (f) {
	case ARC_GZIP:
		return ".tar.gz";
	case ARC_ZSTD:
		return ".tar.zst";
	case ARC_XZ:
		return ".tar.xz";
	case ARC_NONE:
		return ".tar";
	}
	return ".tar";
}

static const char *
filter_name(enum arc_filter f)
{
	switch (f) {
	case ARC_GZIP:
		return "gzip";
	case ARC_ZSTD:
		return "zstd";
	case ARC_XZ:
		return "xz";
	case ARC_NONE:
		return "none";
	}
	return "?";
}

static const char *
arerr(struct archive *ar)
{
	const char *s = ar != NULL ? archive_error_string(ar) : NULL;

	return s != NULL ? s : "unknown libarchive error";
}

/* ---- writing --------------------------------------------------------- */

static la_ssize_t
write_cb(struct archive *ar, void *client, const void *p, size_t n)
{
	struct arc *a = client;
	const char *b = p;
	size_t off = 0;

	if (a->discard)
		return (la_ssize_t)n;
	while (off < n) {
		ssize_t w = write(a->fd, b + off, n - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			archive_set_error(ar, errno, "write: %s",
			    strerror(errno));
			return -1;
		}
		off += (size_t)w;
		a->nbytes += (uint64_t)w;
	}
	return (la_ssize_t)n;
}

/* A plain file name of our own: not hidden (that is the partial files'
 * space), no directory part. */
static bool
valid_volume_name(const char *name)
{
	return name[0] != '\0' && name[0] != '.' && strchr(name, '/') == NULL;
}

/* A relative path that extracts where it should: printable ASCII, no
 * empty, "." or ".." component, no leading '/'. */
static bool
valid_member(const char *m)
{
	const char *c = m;
	size_t len = strlen(m), i;

	if (len == 0 || len > MEMBER_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (m[i] < 0x20 || m[i] > 0x7e || m[i] == '\\')
			return false;
	for (;;) {
		const char *slash = strchr(c, '/');
		size_t clen = slash != NULL ? (size_t)(slash - c) : strlen(c);

		if (clen == 0 || (clen == 1 && c[0] == '.') ||
		    (clen == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		if (slash == NULL)
			return true;
		c = slash + 1;
	}
}

static enum pv_code
add_filter(struct archive *ar, enum arc_filter f, int level, const char *path,
    struct pv_err *err)
{
	char lv[16];
	int r = ARCHIVE_OK, n;

	switch (f) {
	case ARC_GZIP:
		r = archive_write_add_filter_gzip(ar);
		break;
	case ARC_ZSTD:
		r = archive_write_add_filter_zstd(ar);
		break;
	case ARC_XZ:
		r = archive_write_add_filter_xz(ar);
		break;
	case ARC_NONE:
		return PV_OK;
	}
	/* ARCHIVE_WARN means "through an external program": not wanted. */
	if (r != ARCHIVE_OK)
		return pv_errf(err, PV_ECONFIG,
		    "%s: %s compression is not available here: %s", path,
		    filter_name(f), arerr(ar));
	if (level < 0)
		return PV_OK;
	n = snprintf(lv, sizeof(lv), "%d", level);
	if (n < 0 || (size_t)n >= sizeof(lv) ||
	    archive_write_set_filter_option(ar, NULL, "compression-level",
	        lv) != ARCHIVE_OK)
		return pv_errf(err, PV_ECONFIG,
		    "%s: %s compression level %d: %s", path, filter_name(f),
		    level, arerr(ar));
	return PV_OK;
}

static void
arc_free(struct arc *a)
{
	if (a->ar != NULL) {
		a->discard = true;
		(void)archive_write_free(a->ar);
	}
	if (a->fd != -1)
		(void)close(a->fd);
	free(a->dir);
	free(a->path);
	free(a->tmp);
	free(a->member);
	free(a);
}

enum pv_code
arc_open(const char *dir, const char *name, enum arc_filter f, int level,
    struct arc **out, struct pv_err *err)
{
	struct arc *a;
	struct stat st;
	enum pv_code rc;

	if (!valid_volume_name(name))
		return pv_errf(err, PV_ECONFIG,
		    "\"%s\": a volume name is a plain file name", name);
	a = xcalloc(1, sizeof(*a));
	a->fd = -1;
	a->dir = xstrdup(dir);
	a->path = xasprintf("%s/%s", dir, name);
	if (lstat(a->path, &st) == 0) {
		rc = pv_errf(err, PV_EIO,
		    "%s: exists already; volumes are never overwritten",
		    a->path);
		goto fail;
	}
	if (errno != ENOENT) {
		rc = pv_errf(err, PV_EIO, "%s: %s", a->path, strerror(errno));
		goto fail;
	}
	a->tmp = xasprintf("%s/.%s" PARTIAL_TAG "XXXXXX", dir, name);
	a->fd = mkostemp(a->tmp, O_CLOEXEC);
	if (a->fd == -1) {
		rc = pv_errf(err, PV_EIO,
		    "%s: cannot create a temporary file: "
		    "%s",
		    a->path, strerror(errno));
		XFREE(a->tmp); /* nothing to remove */
		goto fail;
	}
	a->ar = archive_write_new();
	if (a->ar == NULL) {
		rc = pv_errf(err, PV_EINTERNAL, "%s: archive_write_new failed",
		    a->path);
		goto fail;
	}
	if (archive_write_set_format_pax_restricted(a->ar) != ARCHIVE_OK) {
		rc =
		    pv_errf(err, PV_EINTERNAL, "%s: %s", a->path, arerr(a->ar));
		goto fail;
	}
	rc = add_filter(a->ar, f, level, a->path, err);
	if (rc != PV_OK)
		goto fail;
	/* No padding after the last byte: tape blocking would put zeros
	 * after the end of the gzip stream, which gzip calls garbage. */
	if (archive_write_set_bytes_in_last_block(a->ar, 1) != ARCHIVE_OK ||
	    archive_write_open2(a->ar, a, NULL, write_cb, NULL, NULL) !=
	        ARCHIVE_OK) {
		rc = pv_errf(err, PV_EIO, "%s: %s", a->path, arerr(a->ar));
		goto fail;
	}
	log_debug(LOG_ARC, "%s: writing through %s", a->path, a->tmp);
	*out = a;
	return PV_OK;
fail:
	arc_abort(a);
	return rc;
}

static enum pv_code
unusable(struct arc *a, struct pv_err *err)
{
	return pv_errf(err, PV_EIO, "%s: unusable after an earlier error",
	    a->path);
}

enum pv_code
arc_entry_begin(struct arc *a, const char *member, int64_t mtime, uint64_t size,
    struct pv_err *err)
{
	struct archive_entry *e;
	int r;

	if (a->failed)
		return unusable(a, err);
	if (a->in_entry) {
		a->failed = true;
		return pv_errf(err, PV_EINTERNAL,
		    "%s: member %s begun before %s ended", a->path, member,
		    a->member);
	}
	if (!valid_member(member) || size > INT64_MAX) {
		a->failed = true;
		return pv_errf(err, PV_EINTERNAL,
		    "%s: refusing member \"%s\" of %llu bytes", a->path, member,
		    (unsigned long long)size);
	}
	e = archive_entry_new();
	if (e == NULL) {
		a->failed = true;
		return pv_errf(err, PV_EINTERNAL,
		    "%s: archive_entry_new failed", a->path);
	}
	archive_entry_set_pathname(e, member);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_set_uname(e, "");
	archive_entry_set_gname(e, "");
	archive_entry_set_mtime(e, (time_t)mtime, 0);
	archive_entry_set_size(e, (la_int64_t)size);
	r = archive_write_header(a->ar, e);
	archive_entry_free(e);
	if (r != ARCHIVE_OK) {
		a->failed = true;
		return pv_errf(err, PV_EIO, "%s: %s: %s", a->path, member,
		    arerr(a->ar));
	}
	free(a->member);
	a->member = xstrdup(member);
	a->in_entry = true;
	a->esize = size;
	a->edone = 0;
	return PV_OK;
}

enum pv_code
arc_entry_data(struct arc *a, const void *p, size_t n, struct pv_err *err)
{
	const char *b = p;

	if (a->failed)
		return unusable(a, err);
	if (!a->in_entry || n > a->esize - a->edone) {
		a->failed = true;
		return pv_errf(err, PV_EINTERNAL,
		    "%s: %s: more data than the member's size", a->path,
		    a->in_entry ? a->member : "(no member)");
	}
	while (n > 0) {
		la_ssize_t w = archive_write_data(a->ar, b, n);

		if (w <= 0) {
			a->failed = true;
			return pv_errf(err, PV_EIO, "%s: %s: %s", a->path,
			    a->member, arerr(a->ar));
		}
		b += w;
		n -= (size_t)w;
		a->edone += (uint64_t)w;
	}
	return PV_OK;
}

enum pv_code
arc_entry_end(struct arc *a, struct pv_err *err)
{
	if (a->failed)
		return unusable(a, err);
	if (!a->in_entry || a->edone != a->esize) {
		a->failed = true;
		return pv_errf(err, PV_EINTERNAL,
		    "%s: %s: %llu bytes given for a size of %llu", a->path,
		    a->in_entry ? a->member : "(no member)",
		    (unsigned long long)a->edone, (unsigned long long)a->esize);
	}
	a->in_entry = false;
	if (archive_write_finish_entry(a->ar) != ARCHIVE_OK) {
		a->failed = true;
		return pv_errf(err, PV_EIO, "%s: %s: %s", a->path, a->member,
		    arerr(a->ar));
	}
	return PV_OK;
}

uint64_t
arc_bytes_written(const struct arc *a)
{
	return a->nbytes;
}

static enum pv_code
fsync_dir(const char *dir, struct pv_err *err)
{
	int fd, e;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1)
		return pv_errf(err, PV_EIO, "%s: %s", dir, strerror(errno));
	if (fsync(fd) != 0) {
		e = errno;
		(void)close(fd);
		return pv_errf(err, PV_EIO, "%s: fsync: %s", dir, strerror(e));
	}
	(void)close(fd);
	return PV_OK;
}

static bool
no_such_op(int e)
{
	return e == EINVAL || e == ENOSYS || e == ENOTSUP || e == EOPNOTSUPP ||
	       e == EPERM;
}

/* Give tmp the name path, failing if path exists. */
static enum pv_code
publish(const struct arc *a, struct pv_err *err)
{
	struct stat st;

	if (renameat2(AT_FDCWD, a->tmp, AT_FDCWD, a->path, RENAME_NOREPLACE) ==
	    0)
		return PV_OK;
	if (errno == EEXIST)
		goto exists;
	if (!no_such_op(errno))
		goto fail;
	/* No RENAME_NOREPLACE here (older kernel, NFS, FUSE...). */
	if (link(a->tmp, a->path) == 0) {
		if (unlink(a->tmp) != 0) /* arc_cleanup will get it */
			log_warn("%s", a->tmp);
		return PV_OK;
	}
	if (errno == EEXIST)
		goto exists;
	if (!no_such_op(errno))
		goto fail;
	/* No hard links either (vfat, exFAT, some FUSE): check, then
	 * rename.  The state lock keeps other popvault runs out of the
	 * window between the two. */
	if (lstat(a->path, &st) == 0)
		goto exists;
	if (errno != ENOENT || rename(a->tmp, a->path) != 0)
		goto fail;
	return PV_OK;
exists:
	return pv_errf(err, PV_EIO,
	    "%s: exists already; volumes are never overwritten", a->path);
fail:
	return pv_errf(err, PV_EIO, "%s: rename: %s", a->path, strerror(errno));
}

enum pv_code
arc_commit(struct arc *a, struct pv_err *err)
{
	enum pv_code rc;
	int fd;

	if (a->failed) {
		rc = unusable(a, err);
		goto fail;
	}
	if (a->in_entry) {
		rc = pv_errf(err, PV_EINTERNAL, "%s: %s: member not ended",
		    a->path, a->member);
		goto fail;
	}
	if (archive_write_close(a->ar) != ARCHIVE_OK) {
		rc = pv_errf(err, PV_EIO, "%s: %s", a->path, arerr(a->ar));
		goto fail;
	}
	if (fsync(a->fd) != 0) {
		rc = pv_errf(err, PV_EIO, "%s: fsync: %s", a->path,
		    strerror(errno));
		goto fail;
	}
	fd = a->fd;
	a->fd = -1;
	/* NFS and some others report write errors only here. */
	if (close(fd) != 0) {
		rc = pv_errf(err, PV_EIO, "%s: close: %s", a->path,
		    strerror(errno));
		goto fail;
	}
	rc = publish(a, err);
	if (rc != PV_OK)
		goto fail;
	rc = fsync_dir(a->dir, err);
	if (rc != PV_OK) {
		/* Not durable: it must not look as if it were. */
		if (unlink(a->path) != 0)
			log_warn("%s", a->path);
		XFREE(a->tmp);
		goto fail;
	}
	log_debug(LOG_ARC, "%s: committed, %llu bytes", a->path,
	    (unsigned long long)a->nbytes);
	XFREE(a->tmp);
	arc_free(a);
	return PV_OK;
fail:
	arc_abort(a);
	return rc;
}

void
arc_abort(struct arc *a)
{
	if (a == NULL)
		return;
	if (a->tmp != NULL && unlink(a->tmp) != 0 && errno != ENOENT)
		log_warn("%s", a->tmp);
	arc_free(a);
}

/* ".NAME.partial-XXXXXX", as arc_open makes them. */
static bool
is_partial(const char *n)
{
	size_t len = strlen(n), tag = strlen(PARTIAL_TAG), i;

	if (len < 2 + tag + PARTIAL_RAND || n[0] != '.')
		return false;
	if (memcmp(n + len - PARTIAL_RAND - tag, PARTIAL_TAG, tag) != 0)
		return false;
	for (i = len - PARTIAL_RAND; i < len; i++) {
		char c = n[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		        (c >= '0' && c <= '9')))
			return false;
	}
	return true;
}

enum pv_code
arc_cleanup(const char *dir, size_t *nremoved, struct pv_err *err)
{
	DIR *d;
	struct dirent *de;
	struct stat st;
	size_t n = 0;
	enum pv_code rc = PV_OK;

	d = opendir(dir);
	if (d == NULL)
		return pv_errf(err, PV_EIO, "%s: %s", dir, strerror(errno));
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (de == NULL) {
			if (errno != 0)
				rc = pv_errf(err, PV_EIO, "%s: %s", dir,
				    strerror(errno));
			break;
		}
		if (!is_partial(de->d_name))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) !=
		    0) {
			if (errno == ENOENT)
				continue;
			rc = pv_errf(err, PV_EIO, "%s/%s: %s", dir, de->d_name,
			    strerror(errno));
			break;
		}
		if (!S_ISREG(st.st_mode))
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) != 0) {
			if (errno == ENOENT)
				continue;
			rc = pv_errf(err, PV_EIO, "%s/%s: %s", dir, de->d_name,
			    strerror(errno));
			break;
		}
		log_debug(LOG_ARC, "%s/%s: removed a partial volume", dir,
		    de->d_name);
		n++;
	}
	(void)closedir(d);
	if (rc != PV_OK)
		return rc;
	*nremoved = n;
	return PV_OK;
}

/* ---- reading --------------------------------------------------------- */

/* Run p[0..n) through the checked inflate; false with rd->zerr set on a
 * damaged stream. */
static bool
gz_check(struct arc_rd *rd, const unsigned char *p, size_t n)
{
	int r;

	rd->zs.next_in = (unsigned char *)(uintptr_t)p;
	rd->zs.avail_in = (uInt)n;
	while (rd->zs.avail_in > 0 && !rd->zignore) {
		if (rd->zend) {
			/* Another member may follow (gzip allows it and
			 * libarchive reads it); anything else is ignored,
			 * as libarchive does. */
			if (rd->zs.next_in[0] != 0x1f) {
				rd->zignore = true;
				break;
			}
			if (inflateReset(&rd->zs) != Z_OK)
				goto bad;
			rd->zend = false;
		}
		rd->zs.next_out = rd->zout;
		rd->zs.avail_out = RD_BUF;
		r = inflate(&rd->zs, Z_NO_FLUSH);
		if (r == Z_STREAM_END)
			rd->zend = true;
		else if (r != Z_OK)
			goto bad;
	}
	return true;
bad:
	(void)snprintf(rd->zerr, sizeof(rd->zerr), "gzip: %s",
	    rd->zs.msg != NULL ? rd->zs.msg : "damaged stream");
	return false;
}

static la_ssize_t
read_cb(struct archive *ar, void *client, const void **out)
{
	struct arc_rd *rd = client;
	ssize_t n;

	do
		n = read(rd->fd, rd->buf, RD_BUF);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		archive_set_error(ar, errno, "read: %s", strerror(errno));
		return -1;
	}
	if (!rd->started) {
		rd->started = true;
		rd->gz = n >= 2 && rd->buf[0] == 0x1f && rd->buf[1] == 0x8b;
		if (rd->gz) {
			if (inflateInit2(&rd->zs, 15 + 16) != Z_OK) {
				archive_set_error(ar, ENOMEM, "inflateInit2");
				return -1;
			}
			rd->zinit = true;
		}
	}
	if (n == 0) {
		rd->file_eof = true;
		if (rd->gz && !rd->zend && !rd->zignore) {
			archive_set_error(ar, EILSEQ,
			    "gzip: unexpected end of file (volume cut short?)");
			return -1;
		}
	} else if (rd->gz && !gz_check(rd, rd->buf, (size_t)n)) {
		archive_set_error(ar, EILSEQ, "%s", rd->zerr);
		return -1;
	}
	*out = rd->buf;
	return (la_ssize_t)n;
}

enum pv_code
arc_rd_open(const char *path, struct arc_rd **out, struct pv_err *err)
{
	struct arc_rd *rd;
	enum pv_code rc;

	rd = xcalloc(1, sizeof(*rd));
	rd->path = xstrdup(path);
	rd->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (rd->fd == -1) {
		rc = pv_errf(err, PV_EIO, "%s: %s", path, strerror(errno));
		goto fail;
	}
	rd->buf = xmalloc(RD_BUF);
	rd->zout = xmalloc(RD_BUF);
	rd->ar = archive_read_new();
	if (rd->ar == NULL) {
		rc = pv_errf(err, PV_EINTERNAL, "%s: archive_read_new failed",
		    path);
		goto fail;
	}
	/* Only the filters we write: "all" would let a crafted file make
	 * libarchive run an external decompressor (lrzip, lzop, ...). */
	(void)archive_read_support_filter_gzip(rd->ar);
	(void)archive_read_support_filter_zstd(rd->ar);
	(void)archive_read_support_filter_xz(rd->ar);
	(void)archive_read_support_format_tar(rd->ar);
	if (archive_read_open(rd->ar, rd, NULL, read_cb, NULL) != ARCHIVE_OK) {
		rc = pv_errf(err, PV_EIO, "%s: %s", path, arerr(rd->ar));
		goto fail;
	}
	*out = rd;
	return PV_OK;
fail:
	arc_rd_close(rd);
	return rc;
}

static enum pv_code
rd_fail(struct arc_rd *rd, const char *what, struct pv_err *err)
{
	rd->failed = true;
	if (what != NULL)
		return pv_errf(err, PV_EIO, "%s: %s: %s", rd->path, what,
		    arerr(rd->ar));
	return pv_errf(err, PV_EIO, "%s: %s", rd->path, arerr(rd->ar));
}

/* At the end of the tar stream: read the rest of the file through the
 * gzip check, which must end on a complete member. */
static enum pv_code
gz_finish(struct arc_rd *rd, struct pv_err *err)
{
	ssize_t n;

	if (!rd->gz)
		return PV_OK;
	while (!rd->file_eof && !rd->zignore) {
		n = read(rd->fd, rd->buf, RD_BUF);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return pv_errf(err, PV_EIO, "%s: read: %s", rd->path,
			    strerror(errno));
		if (n == 0)
			rd->file_eof = true;
		else if (!gz_check(rd, rd->buf, (size_t)n))
			return pv_errf(err, PV_EIO, "%s: %s", rd->path,
			    rd->zerr);
	}
	if (!rd->zend && !rd->zignore)
		return pv_errf(err, PV_EIO,
		    "%s: gzip: unexpected end of file (volume cut short?)",
		    rd->path);
	return PV_OK;
}

enum pv_code
arc_rd_next(struct arc_rd *r, const char **member, uint64_t *size,
    int64_t *mtime, bool *eof, struct pv_err *err)
{
	struct archive_entry *e;
	la_int64_t before, sz;
	enum pv_code rc;
	int a;

	if (r->failed)
		return pv_errf(err, PV_EIO, "%s: unusable after an error",
		    r->path);
	if (r->at_end) {
		*eof = true;
		return PV_OK;
	}
	for (;;) {
		if (r->in_entry) {
			r->in_entry = false;
			if (archive_read_data_skip(r->ar) != ARCHIVE_OK)
				return rd_fail(r, r->member, err);
		}
		/* Where the previous member ended (see below). */
		before = archive_filter_bytes(r->ar, 0);
		a = archive_read_next_header(r->ar, &e);
		if (a == ARCHIVE_EOF) {
			/* libarchive's tar reader also says EOF when the
			 * file simply stops between two members, or within
			 * the end marker; only the whole marker (two zero
			 * blocks, as every volume ends) moves it 1024 on. */
			if (archive_filter_bytes(r->ar, 0) - before < 1024) {
				r->failed = true;
				return pv_errf(err, PV_EIO,
				    "%s: no end-of-archive marker (volume cut "
				    "short?)",
				    r->path);
			}
			rc = gz_finish(r, err);
			if (rc != PV_OK) {
				r->failed = true;
				return rc;
			}
			r->at_end = true;
			*eof = true;
			return PV_OK;
		}
		if (a == ARCHIVE_WARN)
			log_debug(LOG_ARC, "%s: %s", r->path, arerr(r->ar));
		else if (a != ARCHIVE_OK)
			return rd_fail(r, NULL, err);
		r->in_entry = true;
		r->member = archive_entry_pathname(e);
		if (r->member == NULL)
			return rd_fail(r, "a member without a usable name",
			    err);
		/* Only regular files hold messages. */
		if (archive_entry_filetype(e) != AE_IFREG)
			continue;
		sz = archive_entry_size_is_set(e) ? archive_entry_size(e) : 0;
		if (sz < 0)
			return rd_fail(r, r->member, err);
		*member = r->member;
		*size = (uint64_t)sz;
		*mtime = (int64_t)archive_entry_mtime(e);
		*eof = false;
		return PV_OK;
	}
}

enum pv_code
arc_rd_data(struct arc_rd *r, void *p, size_t cap, size_t *got,
    struct pv_err *err)
{
	la_ssize_t n;

	if (r->failed)
		return pv_errf(err, PV_EIO, "%s: unusable after an error",
		    r->path);
	if (!r->in_entry) {
		*got = 0;
		return PV_OK;
	}
	n = archive_read_data(r->ar, p, cap);
	if (n < 0)
		return rd_fail(r, r->member, err);
	*got = (size_t)n;
	return PV_OK;
}

void
arc_rd_close(struct arc_rd *r)
{
	if (r == NULL)
		return;
	if (r->ar != NULL)
		(void)archive_read_free(r->ar);
	if (r->zinit)
		(void)inflateEnd(&r->zs);
	if (r->fd != -1)
		(void)close(r->fd);
	free(r->buf);
	free(r->zout);
	free(r->path);
	free(r);
}

static bool
all_digits(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return false;
	return n > 0;
}

/* <account-safe>-YYYYmmddTHHMMSSZ-<n><suffix> (docs/ARCHIVE.md §1); a
 * hidden name (a partial volume) never is one. */
bool
arc_is_volume_name(const char *s)
{
	static const char *const sfx[] = {".tar.gz", ".tar.zst", ".tar.xz",
	    ".tar"};
	size_t len = strlen(s), i, n = 0, k;

	if (s[0] == '.')
		return false;
	for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		k = strlen(sfx[i]);
		if (len > k && strcmp(s + len - k, sfx[i]) == 0) {
			n = len - k;
			break;
		}
	}
	if (n == 0)
		return false;
	/* the volume number */
	k = n;
	while (k > 0 && s[k - 1] >= '0' && s[k - 1] <= '9')
		k--;
	if (k == n || k < 19 || s[k - 1] != '-')
		return false;
	/* "-YYYYmmddTHHMMSSZ" before it, and a non-empty account */
	k -= 1 + 17;
	return s[k] == '-' && all_digits(s + k + 1, 8) && s[k + 9] == 'T' &&
	       all_digits(s + k + 10, 6) && s[k + 16] == 'Z' && k > 0;
}

static int
cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

enum pv_code
arc_list(const char *dir, char ***out, size_t *nout, struct pv_err *err)
{
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0, i;
	DIR *d;

	*out = NULL;
	*nout = 0;
	d = opendir(dir);
	if (d == NULL)
		return pv_errf(err, PV_EIO, "archive %s: %s", dir,
		    strerror(errno));
	for (;;) {
		struct stat sb;
		char *path;

		errno = 0;
		de = readdir(d);
		if (de == NULL)
			break;
		if (!arc_is_volume_name(de->d_name))
			continue;
		/* Not a regular file: not a volume of ours. */
		path = xasprintf("%s/%s", dir, de->d_name);
		if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) {
			free(path);
			continue;
		}
		free(path);
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			names = xreallocarray(names, cap, sizeof(*names));
		}
		names[n++] = xstrdup(de->d_name);
	}
	if (errno != 0) {
		enum pv_code rc = pv_errf(err, PV_EIO, "archive %s: %s", dir,
		    strerror(errno));

		(void)closedir(d);
		for (i = 0; i < n; i++)
			free(names[i]);
		free(names);
		return rc;
	}
	(void)closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp_name);
	*out = names;
	*nout = n;
	return PV_OK;
}
