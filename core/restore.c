/* SPDX-License-Identifier: MIT */
/*
 * core/restore.c - archive volumes -> IMAP folder (restore.h).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arc.h"
#include "buf.h"
#include "digest.h"
#include "log.h"
#include "manifest.h"
#include "restore.h"
#include "spool.h"
#include "store.h"
#include "upload.h"
#include "xmem.h"

#define MANIFEST_MAX (64u << 20) /* the most a manifest may be */
#define CHUNK        65536

/* One distinct content to restore. */
struct want {
	char sha[65];
	char canon[65];
	char *message_id; /* owned; NULL if none */
	char *account;    /* owned: the first account recording it */
	char *vol;        /* owned: the volume holding its bytes */
	char *member;     /* owned: its member there */
	uint64_t size;
	int64_t date;
	int date_off;
	bool needed; /* not in the folder: its bytes must be read */
	bool done;   /* its bytes were found and queued (or failed) */
};

struct ctx {
	const struct restore_filter *f;
	struct restore_stats *s;
	volatile sig_atomic_t *abort;
	const char *dir;
	const char *vol; /* the volume whose manifest is being parsed */
	struct want *w;
	size_t n, cap;
	char **accts; /* every account the manifests name */
	size_t naccts;
};

/* Remember the account names the manifests give (a handful). */
static void
note_account(struct ctx *c, const char *a)
{
	size_t i;

	for (i = 0; i < c->naccts; i++)
		if (strcmp(c->accts[i], a) == 0)
			return;
	c->accts = xreallocarray(c->accts, c->naccts + 1, sizeof(*c->accts));
	c->accts[c->naccts++] = xstrdup(a);
}

/* --account names none of them: say which there are. */
static enum pv_code
no_such_account(const struct ctx *c, struct pv_err *err)
{
	char list[512];
	size_t i, len = 0;

	list[0] = '\0';
	for (i = 0; i < c->naccts && len + 4 < sizeof(list); i++) {
		int k = snprintf(list + len, sizeof(list) - len, "%s%s",
		    i ? ", " : "", c->accts[i]);

		if (k < 0)
			break;
		len += (size_t)k < sizeof(list) - len ? (size_t)k
		                                      : sizeof(list) - len - 1;
	}
	return pv_errf(err, PV_EUSAGE,
	    "no account '%s' in the archive; its accounts: %s", c->f->account,
	    c->naccts > 0 ? list : "none");
}

static enum pv_code
on_rec(void *arg, const struct manifest_rec *r, struct pv_err *err)
{
	struct ctx *c = arg;
	struct want *w;
	const char *slash;

	c->s->records++;
	note_account(c, r->account);
	if (c->f->account != NULL && strcmp(r->account, c->f->account) != 0)
		return PV_OK;
	if ((c->f->since != 0 && r->date < c->f->since) ||
	    (c->f->until != 0 && r->date >= c->f->until))
		return PV_OK;
	if (c->f->message_id != NULL &&
	    (r->message_id == NULL ||
	        strcmp(r->message_id, c->f->message_id) != 0))
		return PV_OK;
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 256;
		c->w = xreallocarray(c->w, c->cap, sizeof(*c->w));
	}
	w = &c->w[c->n];
	memset(w, 0, sizeof(*w));
	memcpy(w->sha, r->sha256, sizeof(w->sha));
	memcpy(w->canon, r->canon, sizeof(w->canon));
	if (r->kind == MANIFEST_STORED) {
		w->vol = xstrdup(c->vol);
		w->member = xstrdup(r->entry);
	} else {
		slash = strchr(r->entry, '/');
		if (slash == NULL || slash == r->entry)
			return pv_errf(err, PV_EPROTO,
			    "volume %s: manifest: reference '%s' names no volume",
			    c->vol, r->entry);
		w->vol = xstrndup(r->entry, (size_t)(slash - r->entry));
		w->member = xstrdup(slash + 1);
	}
	w->message_id = r->message_id != NULL ? xstrdup(r->message_id) : NULL;
	w->account = xstrdup(r->account);
	w->size = r->size;
	w->date = r->date;
	w->date_off = r->date_off;
	c->n++;
	return PV_OK;
}

static void
want_free(struct want *w)
{
	free(w->message_id);
	free(w->account);
	free(w->vol);
	free(w->member);
}

/* Pass 1: one volume's manifest, read to the volume's end. */
static enum pv_code
read_manifest(struct ctx *c, const char *name, struct pv_err *err)
{
	char *path = xasprintf("%s/%s", c->dir, name);
	struct arc_rd *rd = NULL;
	struct buf mf;
	char *volname = NULL, *chunk = xmalloc(CHUNK);
	bool eof = false, seen = false;
	int64_t created;
	enum pv_code rc;

	buf_init(&mf, MANIFEST_MAX);
	rc = arc_rd_open(path, &rd, err);
	while (rc == PV_OK) {
		const char *member;
		uint64_t size;
		int64_t mtime;
		size_t got;

		rc = arc_rd_next(rd, &member, &size, &mtime, &eof, err);
		if (rc != PV_OK || eof)
			break;
		if (strcmp(member, MANIFEST_NAME) != 0)
			continue;
		seen = true;
		buf_reset(&mf);
		do {
			rc = arc_rd_data(rd, chunk, CHUNK, &got, err);
			if (rc == PV_OK && !buf_add(&mf, chunk, got))
				rc = pv_errf(err, PV_EIO,
				    "volume %s: manifest too big", name);
		} while (rc == PV_OK && got > 0);
	}
	if (rc == PV_OK && !seen)
		rc = pv_errf(err, PV_EIO, "volume %s has no manifest", name);
	if (rc == PV_OK) {
		c->vol = name;
		rc = manifest_parse(mf.data, mf.len, &volname, &created, on_rec,
		    c, err);
		if (rc == PV_EPROTO)
			(void)pv_errprefix(err, "volume %s", name);
	}
	free(volname);
	arc_rd_close(rd);
	buf_free(&mf);
	free(chunk);
	free(path);
	return rc;
}

static int
cmp_sha(const void *a, const void *b)
{
	return strcmp(((const struct want *)a)->sha,
	    ((const struct want *)b)->sha);
}

static int
cmp_loc(const void *a, const void *b)
{
	const struct want *x = a, *y = b;
	int k = strcmp(x->vol, y->vol);

	return k != 0 ? k : strcmp(x->member, y->member);
}

/* One want per content. */
static void
distinct(struct ctx *c)
{
	size_t i, n = 0;

	if (c->n > 1)
		qsort(c->w, c->n, sizeof(*c->w), cmp_sha);
	for (i = 0; i < c->n; i++) {
		if (n > 0 && strcmp(c->w[n - 1].sha, c->w[i].sha) == 0) {
			want_free(&c->w[i]);
			continue;
		}
		c->w[n++] = c->w[i];
	}
	c->n = n;
}

static void
item_of(const struct want *w, struct upload_item *ui)
{
	memset(ui, 0, sizeof(*ui));
	memcpy(ui->sha256, w->sha, sizeof(ui->sha256));
	memcpy(ui->canon, w->canon, sizeof(ui->canon));
	ui->message_id = w->message_id;
	ui->size = w->size;
	ui->date = w->date;
	ui->date_off = w->date_off;
	ui->date_src = "archive";
	ui->tag = (void *)(uintptr_t)w;
}

static enum pv_code
flush_if(struct upload *up, const char *sha, struct pv_err *err)
{
	if (upload_wants_flush(up, sha))
		return upload_flush(up, err);
	return PV_OK;
}

static enum pv_code
on_done(void *arg, const struct upload_item *ui, const struct upload_res *res,
    struct pv_err *err)
{
	(void)arg;
	(void)err;
	if (res->outcome == UPLOAD_FAILED && !res->target_wide)
		log_warnx(
		    "message %s (Message-ID %s, %llu bytes) not restored: %s",
		    ui->sha256,
		    ui->message_id != NULL ? ui->message_id : "none",
		    (unsigned long long)ui->size, res->text);
	return PV_OK;
}

/* Pass 2, one volume: queue the needed members found in it. */
static enum pv_code
read_members(struct ctx *c, struct upload *up, struct spool *sp,
    struct digest *sha, struct want *first, size_t count, struct pv_err *err)
{
	char *path = xasprintf("%s/%s", c->dir, first->vol);
	struct arc_rd *rd = NULL;
	char *chunk = xmalloc(CHUNK);
	bool eof = false;
	enum pv_code rc;

	rc = arc_rd_open(path, &rd, err);
	while (rc == PV_OK) {
		const char *member;
		uint64_t size;
		int64_t mtime;
		struct want key, *w;
		struct upload_item ui;
		char hex[65];
		size_t got;

		if (*c->abort) {
			rc = pv_errf(err, PV_EABORT, "interrupted");
			break;
		}
		rc = arc_rd_next(rd, &member, &size, &mtime, &eof, err);
		if (rc != PV_OK || eof)
			break;
		memset(&key, 0, sizeof(key));
		key.vol = first->vol;
		key.member = (char *)(uintptr_t)member;
		w = bsearch(&key, first, count, sizeof(*first), cmp_loc);
		if (w == NULL || w->done)
			continue;
		spool_reset(sp);
		digest_reset(sha);
		do {
			rc = arc_rd_data(rd, chunk, CHUNK, &got, err);
			if (rc == PV_OK && got > 0) {
				digest_update(sha, chunk, got);
				rc = spool_write(sp, chunk, got, err);
			}
		} while (rc == PV_OK && got > 0);
		if (rc != PV_OK)
			break;
		w->done = true;
		digest_final_hex(sha, hex);
		if (strcmp(hex, w->sha) != 0 || spool_size(sp) != w->size) {
			log_warnx(
			    "volume %s: member %s is damaged (its bytes do not hash to its name): not restored",
			    w->vol, w->member);
			c->s->failed++;
			continue;
		}
		item_of(w, &ui);
		rc = flush_if(up, ui.sha256, err);
		if (rc == PV_OK)
			rc = upload_add(up, &ui, sp, err);
		if (rc == PV_OK)
			rc = flush_if(up, NULL, err);
	}
	arc_rd_close(rd);
	free(chunk);
	free(path);
	return rc;
}

enum pv_code
restore_run(struct store *st, const char *dir, const struct restore_filter *f,
    const struct upload_conf *uc, volatile sig_atomic_t *abort,
    struct restore_stats *s, struct pv_err *err)
{
	struct ctx c;
	struct upload *up = NULL;
	struct spool *sp = NULL;
	struct digest *sha = NULL;
	char **vols = NULL;
	size_t nvols = 0, i, j, nneeded = 0;
	enum pv_code rc;

	memset(&c, 0, sizeof(c));
	memset(s, 0, sizeof(*s));
	c.f = f;
	c.s = s;
	c.abort = abort;
	c.dir = dir;
	rc = arc_list(dir, &vols, &nvols, err);
	if (rc != PV_OK)
		return rc;
	if (nvols == 0) {
		rc = pv_errf(err, PV_EIO, "archive %s: no volumes in it", dir);
		goto out;
	}
	/* Pass 1: the manifests. */
	for (i = 0; i < nvols; i++) {
		struct pv_err e2;

		if (*abort) {
			rc = pv_errf(err, PV_EABORT, "interrupted");
			goto out;
		}
		s->volumes++;
		if (read_manifest(&c, vols[i], &e2) != PV_OK) {
			log_warnx("%s: its messages are not restored", e2.msg);
			s->damaged++;
		}
	}
	if (f->account != NULL && s->damaged == 0) {
		for (i = 0; i < c.naccts; i++)
			if (strcmp(c.accts[i], f->account) == 0)
				break;
		if (i == c.naccts) {
			rc = no_such_account(&c, err);
			goto out;
		}
	}
	distinct(&c);
	s->selected = c.n;
	if (c.n == 0 && s->records > 0)
		log_warnx(
		    "the filters select none of the %llu message record(s) in %s",
		    (unsigned long long)s->records, dir);
	log_verbose(
	    "archive %s: %llu volume(s), %llu record(s), %zu message(s) selected",
	    dir, (unsigned long long)s->volumes, (unsigned long long)s->records,
	    c.n);
	if (c.n == 0)
		goto done;

	rc = upload_open(st, uc, on_done, &c, abort, &up, err);
	if (rc != PV_OK)
		goto out;
	/* What the folder holds already. */
	for (i = 0; i < c.n; i++) {
		struct upload_item ui;
		bool present = false;

		item_of(&c.w[i], &ui);
		rc = flush_if(up, ui.sha256, err);
		if (rc == PV_OK)
			rc = upload_present(up, &ui, &present, err);
		if (rc == PV_OK)
			rc = flush_if(up, NULL, err);
		if (rc != PV_OK)
			goto out;
		c.w[i].needed = !present;
		nneeded += !present;
	}
	rc = upload_flush(up, err);
	if (rc != PV_OK)
		goto out;
	log_verbose("target: %zu message(s) to upload, %zu there already",
	    nneeded, c.n - nneeded);
	/* Pass 2: the bytes, volume by volume. */
	j = 0;
	for (i = 0; i < c.n; i++)
		if (c.w[i].needed)
			c.w[j++] = c.w[i];
		else
			want_free(&c.w[i]);
	c.n = j;
	if (c.n > 1)
		qsort(c.w, c.n, sizeof(*c.w), cmp_loc);
	sp = spool_new(uc->mem_max, uc->tmpdir);
	sha = digest_new();
	for (i = 0; i < c.n; i = j) {
		struct pv_err e2;

		for (j = i + 1; j < c.n && strcmp(c.w[j].vol, c.w[i].vol) == 0;
		     j++)
			;
		rc = read_members(&c, up, sp, sha, &c.w[i], j - i, &e2);
		if (rc == PV_EIO) {
			/* A damaged volume: what came before the damage is
			 * queued; the rest is reported below. */
			log_warnx("%s", e2.msg);
			rc = PV_OK;
		} else if (rc != PV_OK) {
			*err = e2;
			goto out;
		}
	}
	for (i = 0; i < c.n; i++)
		if (!c.w[i].done) {
			log_warnx(
			    "message %s (Message-ID %s): its bytes are not in volume %s (member %s): not restored",
			    c.w[i].sha,
			    c.w[i].message_id != NULL ? c.w[i].message_id
			                              : "none",
			    c.w[i].vol, c.w[i].member);
			s->failed++;
		}
	rc = upload_flush(up, err);
	if (rc != PV_OK)
		goto out;
	s->uploaded = upload_stats(up)->appended;
	s->present = upload_stats(up)->present;
	s->failed += upload_stats(up)->failed;
	s->bytes = upload_stats(up)->bytes;
	rc = upload_close(up, err);
	up = NULL;
	if (rc != PV_OK)
		goto out;
done:
	if (s->failed > 0 || s->damaged > 0)
		rc = pv_errf(err, PV_EMSG,
		    "%llu message(s) not restored, %llu volume(s) unreadable",
		    (unsigned long long)s->failed,
		    (unsigned long long)s->damaged);
out:
	if (up != NULL) {
		s->uploaded = upload_stats(up)->appended;
		s->present = upload_stats(up)->present;
		s->failed += upload_stats(up)->failed;
	}
	upload_abort(up);
	spool_free(sp);
	digest_free(sha);
	for (i = 0; i < c.n; i++)
		want_free(&c.w[i]);
	free(c.w);
	for (i = 0; i < c.naccts; i++)
		free(c.accts[i]);
	free(c.accts);
	for (i = 0; i < nvols; i++)
		free(vols[i]);
	free(vols);
	return rc;
}
