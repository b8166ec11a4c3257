/* SPDX-License-Identifier: MIT */
/*
 * core/spool.c - one message's bytes, in memory or in a temporary file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spool.h"
#include "xmem.h"

#define SPOOL_CHUNK (256u * 1024u)

struct spool {
	char *mem; /* owned, mem_max bytes once allocated */
	size_t mem_len;
	size_t mem_max;
	char *tmpdir; /* owned */
	int fd;       /* -1 until the first spill */
	uint64_t file_len;
	char *chunk; /* owned read buffer for spool_each */
};

struct spool *
spool_new(size_t mem_max, const char *tmpdir)
{
	struct spool *s = xcalloc(1, sizeof(*s));
	const char *t = tmpdir;

	if (t == NULL)
		t = getenv("TMPDIR");
	if (t == NULL || *t == '\0')
		t = "/tmp";
	s->tmpdir = xstrdup(t);
	s->mem_max = mem_max;
	s->fd = -1;
	return s;
}

void
spool_reset(struct spool *s)
{
	s->mem_len = 0;
	if (s->fd != -1 && s->file_len > 0) {
		/* Give the space back at once; a huge message must not keep
		 * its disk space until the next one. */
		if (ftruncate(s->fd, 0) != 0) {
			(void)close(s->fd);
			s->fd = -1;
		}
	}
	s->file_len = 0;
}

static enum pv_code
open_tmp(struct spool *s, struct pv_err *err)
{
	char *path;
	int fd;

#ifdef O_TMPFILE
	fd = open(s->tmpdir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd != -1) {
		s->fd = fd;
		return PV_OK;
	}
#endif
	path = xasprintf("%s/popvault-spool-XXXXXX", s->tmpdir);
	fd = mkstemp(path);
	if (fd == -1) {
		enum pv_code rc =
		    pv_errf(err, PV_EIO, "%s: %s", path, strerror(errno));

		free(path);
		return rc;
	}
	(void)unlink(path); /* nobody else needs to see it */
	free(path);
	s->fd = fd;
	return PV_OK;
}

static enum pv_code
write_all(struct spool *s, const void *p, size_t n, struct pv_err *err)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = pwrite(s->fd, c, n, (off_t)s->file_len);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return pv_errf(err, PV_EIO, "spool file in %s: %s",
			    s->tmpdir, strerror(errno));
		}
		c += w;
		n -= (size_t)w;
		s->file_len += (uint64_t)w;
	}
	return PV_OK;
}

enum pv_code
spool_write(struct spool *s, const void *p, size_t n, struct pv_err *err)
{
	enum pv_code rc;

	if (s->file_len == 0 && n <= s->mem_max - s->mem_len) {
		if (s->mem == NULL)
			s->mem = xmalloc(s->mem_max ? s->mem_max : 1);
		memcpy(s->mem + s->mem_len, p, n);
		s->mem_len += n;
		return PV_OK;
	}
	if (s->fd == -1) {
		rc = open_tmp(s, err);
		if (rc != PV_OK)
			return rc;
	}
	if (s->file_len == 0 && s->mem_len > 0) {
		/* Spill what was in memory first, so the file holds it all. */
		rc = write_all(s, s->mem, s->mem_len, err);
		if (rc != PV_OK)
			return rc;
		s->mem_len = 0;
	}
	return write_all(s, p, n, err);
}

uint64_t
spool_size(const struct spool *s)
{
	return s->file_len > 0 ? s->file_len : s->mem_len;
}

enum pv_code
spool_each(struct spool *s,
    enum pv_code (*fn)(void *arg, const void *p, size_t n, struct pv_err *err),
    void *arg, struct pv_err *err)
{
	uint64_t off = 0;
	enum pv_code rc;

	if (s->file_len == 0)
		return s->mem_len > 0 ? fn(arg, s->mem, s->mem_len, err)
		                      : PV_OK;
	if (s->chunk == NULL)
		s->chunk = xmalloc(SPOOL_CHUNK);
	while (off < s->file_len) {
		ssize_t r = pread(s->fd, s->chunk, SPOOL_CHUNK, (off_t)off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return pv_errf(err, PV_EIO, "spool file in %s: %s",
			    s->tmpdir, r < 0 ? strerror(errno) : "short read");
		rc = fn(arg, s->chunk, (size_t)r, err);
		if (rc != PV_OK)
			return rc;
		off += (uint64_t)r;
	}
	return PV_OK;
}

void
spool_free(struct spool *s)
{
	if (s == NULL)
		return;
	if (s->fd != -1)
		(void)close(s->fd);
	free(s->mem);
	free(s->chunk);
	free(s->tmpdir);
	free(s);
}
