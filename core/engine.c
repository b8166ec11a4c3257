/* SPDX-License-Identifier: MIT */
/*
 * core/engine.c - one account's backup: POP3 -> archive volume -> state ->
 * delete gate -> QUIT.  The order of the steps below is the product's
 * promise ("no message is ever lost"); each step that changes state is
 * counted by step() so that tests can stop the program after any of them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "arc.h"
#include "buf.h"
#include "config.h"
#include "digest.h"
#include "engine.h"
#include "log.h"
#include "manifest.h"
#include "msg.h"
#include "net.h"
#include "pop3.h"
#include "progress.h"
#include "spool.h"
#include "store.h"
#include "text.h"
#include "upload.h"
#include "xmem.h"

/* A volume's manifest and its rows for the state are held in memory until
 * the volume is closed; past either bound a new volume is started, so the
 * memory a run needs does not follow the size or the number of messages
 * (20,000 tiny messages in one volume had cost 25 MB more). */
#define MANIFEST_SOFT_MAX (8u << 20)
#define VOLUME_MAX_MSGS   10000u
#define MANIFEST_HARD_MAX (16u << 20)
#define LOG_UIDL_MAX      80

struct engine {
	struct store *st; /* borrowed */
	struct engine_opts o;
	struct spool *spool;
	struct digest *sha;
	struct digest *canon;
	struct msg_scan *scan;
};

/* A message recorded in the volume being written, not yet in the state. */
struct pend {
	size_t idx;           /* into the run's items */
	struct upload_item c; /* its content; message_id owned */
	char *member;         /* stored here: its member name; else NULL */
};

/* One account's run. */
struct run {
	struct engine *e;
	struct pop3 *p;
	const struct config_account *a;
	struct engine_stats *s;
	char *safe; /* file-name-safe account name */
	const struct pop3_item *items;
	size_t nitems;
	/* what to fetch: indexes into items */
	size_t *fetch;
	size_t *fetch_nums;
	size_t nfetch;
	bool *durable;     /* per item: recorded DONE in the state */
	bool *uploaded;    /* per item: DONE in the target (migrate) */
	bool *known_row;   /* per item: its message row exists already */
	struct upload *up; /* migrate: the target's sink */
	int64_t *first_seen;
	uint64_t fetch_bytes;
	uint64_t msgs_done;
	/* the volume being written */
	struct arc *arc;
	char *vol_name;
	int64_t vol_id;
	struct buf manifest;
	/* Its rows, written to the state in one short transaction when it
	 * is closed, so that other accounts' runs (other connections) are
	 * never kept waiting on it. */
	struct pend *pend;
	size_t npend, pend_cap;
	size_t *pset; /* pend index + 1 by content, 0: empty; pset_mask + 1 */
	size_t pset_mask;
	bool vol_broken;
	unsigned vol_seq;
	char uidl_buf[LOG_UIDL_MAX * 4 + 8]; /* see uidl_shown() */
};

/* State transitions so far, over every engine of the process. */
static atomic_long steps;

static void
step(struct engine *e, const char *what)
{
	long n = atomic_fetch_add(&steps, 1) + 1;

	log_debug(LOG_ENGINE, "step %ld: %s", n, what);
	if (e->o.stop_after > 0 && n == e->o.stop_after) {
		log_debug(LOG_ENGINE, "test hook: stopping after step %ld", n);
		_exit(100);
	}
}

char *
engine_safe_name(const char *account)
{
	char *s = xstrdup(account);
	char *p;

	for (p = s; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		        (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		        c == '@' || c == '+' || c == '-'))
			*p = '_';
	}
	if (s[0] == '.')
		s[0] = '_'; /* never a hidden file, never ".." */
	return s;
}

/* A message's UIDL as it may appear in a log line: printable ASCII,
 * bounded; valid until the next call (one buffer per run). */
static const char *
uidl_shown(struct run *r, const struct pop3_item *it)
{
	return text_escape(it->uidl, it->uidl_len, r->uidl_buf,
	    sizeof(r->uidl_buf));
}

struct engine *
engine_new(struct store *st, const struct engine_opts *o)
{
	struct engine *e = xcalloc(1, sizeof(*e));

	e->st = st;
	e->o = *o;
	e->spool = spool_new(o->cfg->mem_max, o->cfg->tmpdir);
	e->sha = digest_new();
	e->canon = digest_new();
	return e;
}

void
engine_free(struct engine *e)
{
	if (e == NULL)
		return;
	spool_free(e->spool);
	digest_free(e->sha);
	digest_free(e->canon);
	msg_scan_free(e->scan);
	free(e);
}

static enum pv_code
fsync_dir(const char *dir, struct pv_err *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd == -1)
		return pv_errf(err, PV_EIO, "%s: %s", dir, strerror(errno));
	if (fsync(fd) != 0) {
		enum pv_code rc =
		    pv_errf(err, PV_EIO, "%s: fsync: %s", dir, strerror(errno));

		(void)close(fd);
		return rc;
	}
	(void)close(fd);
	return PV_OK;
}

enum pv_code
engine_recover(struct engine *e, struct pv_err *err)
{
	const char *dir = e->o.cfg->archive;
	struct store_volume *vols = NULL;
	size_t n = 0, i, nremoved = 0;
	enum pv_code rc;

	if (dir == NULL)
		return PV_OK; /* migrate without an archive: no volumes */
	rc = store_volumes_pending(e->st, &vols, &n, err);
	if (rc != PV_OK)
		return rc;
	for (i = 0; i < n && rc == PV_OK; i++) {
		char *path = xasprintf("%s/%s", dir, vols[i].name);
		struct stat sb;

		if (stat(path, &sb) == 0) {
			/* Renamed into place before the run died: make the
			 * rename durable, then believe it. */
			rc = fsync_dir(dir, err);
			if (rc == PV_OK)
				rc = store_volume_done(e->st, vols[i].id, err);
			if (rc == PV_OK)
				log_info(
				    "recovered volume %s from an interrupted run",
				    vols[i].name);
		} else {
			rc = store_volume_drop(e->st, vols[i].id, err);
			if (rc == PV_OK)
				log_verbose(
				    "dropped unfinished volume %s of an interrupted run; its messages will be fetched again",
				    vols[i].name);
		}
		free(path);
	}
	store_volumes_free(vols, n);
	if (rc != PV_OK)
		return rc;
	rc = arc_cleanup(dir, &nremoved, err);
	if (rc == PV_OK && nremoved > 0)
		log_verbose(
		    "removed %zu partial volume file(s) of an interrupted run",
		    nremoved);
	return rc;
}


static enum arc_filter
filter_of(const char *name)
{
	if (strcmp(name, "zstd") == 0)
		return ARC_ZSTD;
	if (strcmp(name, "xz") == 0)
		return ARC_XZ;
	if (strcmp(name, "none") == 0)
		return ARC_NONE;
	return ARC_GZIP;
}

/* Open the next volume if none is open: the state records it (PENDING)
 * inside the transaction that will also hold its messages. */
static enum pv_code
volume_open(struct run *r, struct pv_err *err)
{
	struct engine *e = r->e;
	const struct config *cfg = e->o.cfg;
	enum arc_filter f = filter_of(cfg->compress);
	char stamp[32];
	struct tm tm;
	time_t now = (time_t)e->o.now;
	enum pv_code rc;

	if (r->arc != NULL)
		return PV_OK;
	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm) == 0)
		return pv_errf(err, PV_EINTERNAL, "cannot format the time");
	for (;;) {
		struct stat sb;
		char *path;

		free(r->vol_name);
		r->vol_name = xasprintf("%s-%s-%u%s", r->safe, stamp,
		    ++r->vol_seq, arc_suffix(f));
		path = xasprintf("%s/%s", cfg->archive, r->vol_name);
		if (stat(path, &sb) != 0) {
			free(path);
			break;
		}
		free(path); /* an earlier run in the same second: next */
	}
	rc = arc_open(cfg->archive, r->vol_name, f, cfg->level, &r->arc, err);
	if (rc != PV_OK)
		return rc;
	buf_reset(&r->manifest);
	if (!manifest_format_header(&r->manifest, r->vol_name, e->o.now)) {
		arc_abort(r->arc);
		r->arc = NULL;
		return pv_errf(err, PV_EINTERNAL, "manifest buffer too small");
	}
	r->vol_id = 0;
	r->vol_broken = false;
	return PV_OK;
}

static void
pend_clear(struct run *r)
{
	size_t i;

	for (i = 0; i < r->npend; i++) {
		free((char *)(uintptr_t)r->pend[i].c.message_id);
		free(r->pend[i].member);
	}
	r->npend = 0;
	if (r->pset != NULL)
		memset(r->pset, 0, (r->pset_mask + 1) * sizeof(*r->pset));
}

static size_t
sha_slot(const char *sha, size_t mask)
{
	uint64_t h = 0;
	int i;

	for (i = 0; i < 16; i++) /* hex digits: already well spread */
		h = h << 4 | (uint64_t)(sha[i] <= '9' ? sha[i] - '0'
		                                      : sha[i] - 'a' + 10);
	return (size_t)h & mask;
}

static void
pset_put(struct run *r, size_t k)
{
	size_t j = sha_slot(r->pend[k].c.sha256, r->pset_mask);

	while (r->pset[j] != 0)
		j = (j + 1) & r->pset_mask;
	r->pset[j] = k + 1;
}

/* The message of this volume that stores content sha, if any. */
static const struct pend *
pend_stored(const struct run *r, const char *sha)
{
	size_t j;

	if (r->pset == NULL)
		return NULL;
	for (j = sha_slot(sha, r->pset_mask); r->pset[j] != 0;
	     j = (j + 1) & r->pset_mask) {
		const struct pend *p = &r->pend[r->pset[j] - 1];

		if (p->member != NULL && strcmp(p->c.sha256, sha) == 0)
			return p;
	}
	return NULL;
}

/* A new row for the volume; the caller fills it in. */
static struct pend *
pend_new(struct run *r)
{
	struct pend *p;

	if (r->npend == r->pend_cap) {
		r->pend_cap = r->pend_cap ? r->pend_cap * 2 : 64;
		r->pend = xreallocarray(r->pend, r->pend_cap, sizeof(*r->pend));
	}
	if (r->pset == NULL || (r->npend + 1) * 2 > r->pset_mask + 1) {
		size_t cap = r->pset != NULL ? (r->pset_mask + 1) * 2 : 128, k;

		free(r->pset);
		r->pset = xcalloc(cap, sizeof(*r->pset));
		r->pset_mask = cap - 1;
		for (k = 0; k < r->npend; k++)
			pset_put(r, k);
	}
	p = &r->pend[r->npend++];
	memset(p, 0, sizeof(*p));
	return p;
}

/* Abandon the open volume: nothing of it becomes visible or recorded. */
static void
volume_abort(struct run *r)
{
	if (r->arc == NULL)
		return;
	arc_abort(r->arc);
	r->arc = NULL;
	pend_clear(r);
}

/* The state's row for item idx with content c, in volume vol (0: none,
 * the row is born DONE). */
static void
msg_row(const struct run *r, size_t idx, const struct upload_item *c,
    int64_t vol, struct store_msg *m)
{
	const struct pop3_item *it = &r->items[idx];

	memset(m, 0, sizeof(*m));
	m->account = r->a->name;
	m->uidl = it->uidl;
	m->uidl_len = it->uidl_len;
	memcpy(m->sha256, c->sha256, sizeof(m->sha256));
	m->size = c->size;
	m->list_size = it->size;
	m->message_id = c->message_id;
	memcpy(m->canon, c->canon, sizeof(m->canon));
	m->date = c->date;
	m->date_off = c->date_off;
	m->date_src = c->date_src;
	m->first_seen = r->e->o.now;
	m->volume_id = vol;
	m->state = vol != 0 ? STORE_PENDING : STORE_DONE;
}

/* The volume's rows, PENDING, in one transaction with the volume. */
static enum pv_code
volume_record(struct run *r, struct pv_err *err)
{
	struct engine *e = r->e;
	struct store_msg m;
	size_t i;
	enum pv_code rc;

	rc = store_reserve(e->st, r->npend * 2, err);
	if (rc == PV_OK)
		rc = store_begin(e->st, err);
	if (rc != PV_OK)
		return rc;
	rc = store_volume_add(e->st, r->vol_name, e->o.now, &r->vol_id, err);
	for (i = 0; rc == PV_OK && i < r->npend; i++) {
		const struct pend *p = &r->pend[i];

		if (p->member != NULL) {
			rc = store_blob_add(e->st, p->c.sha256, p->c.size,
			    r->vol_id, p->member, err);
			if (rc != PV_OK)
				break;
		}
		msg_row(r, p->idx, &p->c, r->vol_id, &m);
		rc = store_msg_add(e->st, &m, err);
	}
	if (rc == PV_OK)
		rc = store_commit(e->st, err);
	else
		store_rollback(e->st);
	if (rc == PV_OK)
		rc = store_reserve(e->st, 0, err);
	else
		(void)store_reserve(e->st, 0, &(struct pv_err){0});
	return rc;
}

static enum pv_code
arc_chunk(void *arg, const void *p, size_t n, struct pv_err *err)
{
	return arc_entry_data(arg, p, n, err);
}

/* Close the open volume: manifest last, then journal (the PENDING rows
 * are committed), then the file becomes durable and visible, then the
 * state says DONE.  A crash between any two of these is settled by
 * engine_recover() on the next run. */
static enum pv_code
volume_close(struct run *r, struct pv_err *err)
{
	struct engine *e = r->e;
	enum pv_code rc;
	size_t i;

	if (r->arc == NULL)
		return PV_OK;
	if (r->vol_broken || r->npend == 0) {
		volume_abort(r);
		return PV_OK;
	}
	rc = arc_entry_begin(r->arc, MANIFEST_NAME, e->o.now, r->manifest.len,
	    err);
	if (rc == PV_OK)
		rc = arc_entry_data(r->arc, r->manifest.data, r->manifest.len,
		    err);
	if (rc == PV_OK)
		rc = arc_entry_end(r->arc, err);
	if (rc != PV_OK) {
		volume_abort(r);
		return rc;
	}
	rc = volume_record(r, err);
	if (rc != PV_OK) {
		volume_abort(r);
		return rc;
	}
	step(e, "volume recorded as pending");
	rc = arc_commit(r->arc, err);
	r->arc = NULL;
	if (rc != PV_OK) {
		struct pv_err e2;

		/* Not visible: forget the rows, so nothing counts as stored. */
		if (store_volume_drop(e->st, r->vol_id, &e2) != PV_OK)
			log_warnx("%s", e2.msg);
		pend_clear(r);
		return rc;
	}
	step(e, "volume durable");
	rc = store_volume_done(e->st, r->vol_id, err);
	if (rc != PV_OK)
		return rc;
	step(e, "volume recorded as done");
	for (i = 0; i < r->npend; i++)
		r->durable[r->pend[i].idx] = true;
	r->s->volumes++;
	log_verbose("account %s: volume %s: %zu message(s)", r->a->name,
	    r->vol_name, r->npend);
	pend_clear(r);
	return PV_OK;
}

static enum pv_code
cb_begin(void *arg, size_t i, struct pv_err *err)
{
	struct run *r = arg;
	struct engine *e = r->e;

	(void)i;
	(void)err;
	if (*e->o.abort)
		return pv_errf(err, PV_EABORT, "interrupted");
	spool_reset(e->spool);
	digest_reset(e->sha);
	digest_reset(e->canon);
	msg_scan_reset(e->scan);
	return PV_OK;
}

static enum pv_code
cb_data(void *arg, const char *p, size_t n, struct pv_err *err)
{
	struct run *r = arg;
	struct engine *e = r->e;
	enum pv_code rc;

	rc = spool_write(e->spool, p, n, err);
	if (rc != PV_OK)
		return rc;
	digest_update(e->sha, p, n);
	msg_scan_feed(e->scan, p, n);
	progress_step(r->msgs_done, r->s->bytes + spool_size(e->spool));
	return PV_OK;
}

static void
canon_cb(void *arg, const void *p, size_t n)
{
	digest_update(arg, p, n);
}

/* What cb_end learnt of the message just retrieved. */
struct got {
	size_t idx;
	struct msg_info mi;
	struct upload_item c; /* c.message_id is mi's, c.tag the index */
};

/* Write the message into the open volume (or refer to the copy of its
 * content in this volume or in a durable one); its row is recorded with
 * the volume (volume_record). */
static enum pv_code
archive_one(struct run *r, const struct got *g, struct pv_err *err)
{
	struct engine *e = r->e;
	const struct pop3_item *it = &r->items[g->idx];
	const struct pend *here;
	struct manifest_rec rec;
	struct pend *p;
	char *bvol = NULL, *bmember = NULL, *entry = NULL, *member = NULL;
	bool found = false;
	enum pv_code rc;

	rc = volume_open(r, err);
	if (rc != PV_OK)
		goto out;
	here = pend_stored(r, g->c.sha256);
	if (here != NULL) {
		found = true;
		entry = xasprintf("%s/%s", r->vol_name, here->member);
	} else {
		rc = store_blob_get(e->st, g->c.sha256, &found, &bvol, &bmember,
		    err);
		if (rc != PV_OK)
			goto out;
		if (found)
			entry = xasprintf("%s/%s", bvol, bmember);
	}
	if (!found) {
		member = xasprintf("%s/%s.eml", r->safe, g->c.sha256);
		rc = arc_entry_begin(r->arc, member, g->c.date, g->c.size, err);
		if (rc == PV_OK)
			rc = spool_each(e->spool, arc_chunk, r->arc, err);
		if (rc == PV_OK)
			rc = arc_entry_end(r->arc, err);
		if (rc != PV_OK) {
			r->vol_broken = true;
			goto out;
		}
		r->s->stored++;
	} else {
		r->s->dups++;
	}
	memset(&rec, 0, sizeof(rec));
	rec.kind = found ? MANIFEST_REF : MANIFEST_STORED;
	rec.account = (char *)(uintptr_t)r->a->name;
	rec.uidl = (char *)(uintptr_t)it->uidl;
	rec.uidl_len = it->uidl_len;
	memcpy(rec.sha256, g->c.sha256, sizeof(rec.sha256));
	rec.size = g->c.size;
	rec.date = g->c.date;
	rec.date_off = g->c.date_off;
	rec.date_src = (char *)(uintptr_t)g->c.date_src;
	rec.message_id = g->mi.message_id;
	rec.entry = found ? entry : member;
	memcpy(rec.canon, g->c.canon, sizeof(rec.canon));
	rec.first_seen = e->o.now;
	if (!manifest_format_rec(&r->manifest, &rec)) {
		r->vol_broken = true;
		rc = pv_errf(err, PV_EINTERNAL, "manifest buffer full");
		goto out;
	}
	p = pend_new(r);
	p->idx = g->idx;
	p->c = g->c;
	p->c.message_id =
	    g->c.message_id != NULL ? xstrdup(g->c.message_id) : NULL;
	p->member = member;
	member = NULL;
	pset_put(r, r->npend - 1);
out:
	free(bvol);
	free(bmember);
	free(entry);
	free(member);
	return rc;
}

/* Flush the target's batch: its records are transactions of its own
 * (the open volume's rows are not in the state yet). */
static enum pv_code
target_flush(struct run *r, struct pv_err *err)
{
	return upload_flush(r->up, err);
}

/* Offer the message to the target: found there already, or queued for
 * APPEND. */
static enum pv_code
target_one(struct run *r, const struct got *g, struct pv_err *err)
{
	struct engine *e = r->e;
	bool present = false;
	enum pv_code rc;

	if (upload_wants_flush(r->up, g->c.sha256)) {
		rc = target_flush(r, err);
		if (rc != PV_OK)
			return rc;
	}
	rc = upload_present(r->up, &g->c, &present, err);
	if (rc == PV_OK && !present)
		rc = upload_add(r->up, &g->c, e->spool, err);
	if (rc == PV_OK && upload_wants_flush(r->up, NULL))
		rc = target_flush(r, err);
	return rc;
}

/* The sink's verdict on one message (inside the transaction that
 * records it, except for FAILED). */
static enum pv_code
target_done(void *arg, const struct upload_item *ui,
    const struct upload_res *res, struct pv_err *err)
{
	struct run *r = arg;
	struct engine *e = r->e;
	size_t idx = (size_t)(uintptr_t)ui->tag;
	const struct pop3_item *it = &r->items[idx];
	struct store_msg m;
	enum pv_code rc;

	if (res->outcome == UPLOAD_FAILED) {
		if (res->target_wide) {
			/* named once, in the run's error */
			r->s->failed++;
			return PV_OK;
		}
		log_warnx(
		    "account %s: message %zu (UIDL %s, Message-ID %s, %llu bytes) not uploaded: %s; left on the server",
		    r->a->name, it->num, uidl_shown(r, it),
		    ui->message_id != NULL ? ui->message_id : "none",
		    (unsigned long long)ui->size, res->text);
		r->s->failed++;
		return PV_OK;
	}
	if (e->o.cfg->archive == NULL && !r->known_row[idx]) {
		/* The target is the only sink: the row is born DONE. */
		msg_row(r, idx, ui, 0, &m);
		rc = store_msg_add(e->st, &m, err);
		if (rc != PV_OK)
			return rc;
		r->known_row[idx] = true;
		r->durable[idx] = true;
		r->first_seen[idx] = e->o.now;
	}
	r->uploaded[idx] = true;
	if (res->outcome == UPLOAD_APPENDED)
		r->s->uploaded++;
	else
		r->s->present++;
	return PV_OK;
}

static enum pv_code
cb_end(void *arg, size_t k, struct pv_err *err)
{
	struct run *r = arg;
	struct engine *e = r->e;
	struct got g;
	const struct pop3_item *it;
	bool was_known;
	enum pv_code rc = PV_OK;

	memset(&g, 0, sizeof(g));
	g.idx = r->fetch[k];
	it = &r->items[g.idx];
	was_known = r->known_row[g.idx];
	g.c.size = spool_size(e->spool);
	digest_final_hex(e->sha, g.c.sha256);
	msg_scan_end(e->scan, &g.mi);
	digest_final_hex(e->canon, g.c.canon);
	g.c.date_src = msg_best_date(&g.mi, e->o.now, &g.c.date, &g.c.date_off);
	g.c.message_id = g.mi.message_id;
	g.c.tag = (void *)(uintptr_t)g.idx;
	if (g.c.size != it->size) {
		log_verbose(
		    "account %s: message %zu (UIDL %s): LIST said %llu bytes, RETR gave %llu",
		    r->a->name, it->num, uidl_shown(r, it),
		    (unsigned long long)it->size, (unsigned long long)g.c.size);
	}
	if (e->o.cfg->archive != NULL && !r->known_row[g.idx])
		rc = archive_one(r, &g, err);
	if (rc == PV_OK && r->up != NULL)
		rc = target_one(r, &g, err);
	if (rc != PV_OK)
		goto out;
	if (!was_known)
		r->first_seen[g.idx] = e->o.now;
	r->s->fetched++;
	r->s->bytes += g.c.size;
	r->msgs_done++;
	progress_step(r->msgs_done, r->s->bytes);
	if (r->arc != NULL &&
	    (arc_bytes_written(r->arc) >= e->o.cfg->volume_size ||
	        r->manifest.len >= MANIFEST_SOFT_MAX ||
	        r->npend >= VOLUME_MAX_MSGS))
		rc = volume_close(r, err);
out:
	msg_info_clear(&g.mi);
	return rc;
}

static enum pv_code
cb_failed(void *arg, size_t k, const char *text, struct pv_err *err)
{
	struct run *r = arg;
	const struct pop3_item *it = &r->items[r->fetch[k]];
	(void)err;
	log_warnx(
	    "account %s: message %zu (UIDL %s) not copied: the server said: %s",
	    r->a->name, it->num, uidl_shown(r, it), text);
	r->s->failed++;
	return PV_OK;
}

static const struct pop3_retr_cb retr_cb = {
    .begin = cb_begin,
    .data = cb_data,
    .end = cb_end,
    .failed = cb_failed,
};

/* The state's rows of the account, in UIDL order, merged with the
 * server's items in the same order (pop3_by_uidl): one pass over each,
 * where a lookup per message costs a B-tree search each. */
struct known_merge {
	struct run *r;
	const struct pop3_item *const *by_uidl;
	size_t next;                     /* first item not below the row */
	char (*sha)[DIGEST_HEX_LEN + 1]; /* migrate: the content of each */
};

/* A state row: mark every item with its UIDL (a UIDL the server gives
 * twice marks both). */
static enum pv_code
merge_row(void *arg, const struct store_known *m, struct pv_err *err)
{
	struct known_merge *x = arg;
	struct run *r = x->r;
	size_t k;

	(void)err;
	while (x->next < r->nitems &&
	       pop3_uidl_cmp(x->by_uidl[x->next]->uidl,
	           x->by_uidl[x->next]->uidl_len, m->uidl, m->uidl_len) < 0)
		x->next++;
	if (m->state != STORE_DONE)
		return PV_OK; /* PENDING after recovery: fetched again */
	for (k = x->next; k < r->nitems && pop3_uidl_cmp(x->by_uidl[k]->uidl,
	                                       x->by_uidl[k]->uidl_len, m->uidl,
	                                       m->uidl_len) == 0;
	     k++) {
		size_t i = (size_t)(x->by_uidl[k] - r->items);

		r->durable[i] = true;
		r->known_row[i] = true;
		r->first_seen[i] = m->first_seen;
		if (x->sha != NULL)
			memcpy(x->sha[i], m->sha256, sizeof(x->sha[i]));
	}
	return PV_OK;
}

/* Decide per message: known (and durable everywhere) or to fetch. */
static enum pv_code
plan(struct run *r, struct pv_err *err)
{
	struct engine *e = r->e;
	const struct config *cfg = e->o.cfg;
	struct known_merge x;
	size_t i;
	enum pv_code rc = PV_OK;

	memset(&x, 0, sizeof(x));
	if (e->st != NULL && r->nitems > 0) {
		x.r = r;
		x.by_uidl = pop3_by_uidl(r->p);
		if (r->up != NULL)
			x.sha = xcalloc(r->nitems, sizeof(*x.sha));
		rc =
		    store_msg_known_each(e->st, r->a->name, merge_row, &x, err);
	}
	for (i = 0; rc == PV_OK && i < r->nitems; i++) {
		const struct pop3_item *it = &r->items[i];

		if (r->durable[i] && r->up != NULL) {
			rc =
			    upload_known(r->up, x.sha[i], &r->uploaded[i], err);
			if (rc != PV_OK)
				break;
		}
		if (r->durable[i] && (r->up == NULL || r->uploaded[i])) {
			r->s->known++;
			continue;
		}
		if (!pop3_uidl_is_unique(r->p, it)) {
			/* We could copy it, but never tell it apart from its
			 * twin later: keep it on the server and say so. */
			log_warnx(
			    "account %s: message %zu: the server gives UIDL %s to more than one message: not copied, left on the server",
			    r->a->name, it->num, uidl_shown(r, it));
			r->s->failed++;
			continue;
		}
		if (cfg->max_size > 0 && it->size > cfg->max_size) {
			log_warnx(
			    "account %s: message %zu (UIDL %s) is %llu bytes, over max_size %llu: not copied, left on the server",
			    r->a->name, it->num, uidl_shown(r, it),
			    (unsigned long long)it->size,
			    (unsigned long long)cfg->max_size);
			r->s->failed++;
			continue;
		}
		r->fetch[r->nfetch] = i;
		r->fetch_nums[r->nfetch] = it->num;
		r->nfetch++;
		r->fetch_bytes += it->size;
	}
	free(x.sha);
	return rc;
}

/* The account's retention rule for item i, once it is durable: keep,
 * delete, or delete once first seen delete_after ago.  Never a message
 * whose UIDL the server gives to another one too. */
static bool
delete_due(const struct run *r, size_t i, int64_t first_seen)
{
	const struct config_account *a = r->a;

	if (a->keep == CONFIG_KEEP || !pop3_uidl_is_unique(r->p, &r->items[i]))
		return false;
	return a->keep == CONFIG_DELETE ||
	       first_seen + a->delete_after <= r->e->o.now;
}

/* Durable in every sink and recorded so: the message row DONE (its
 * volume closed, fsynced, renamed; or, without an archive, its upload
 * recorded) and, when migrating, its upload DONE in the target. */
static bool
everywhere(const struct run *r, size_t i)
{
	return r->durable[i] && (r->up == NULL || r->uploaded[i]);
}

/* The delete gate: DELE only what is durable everywhere (everywhere()),
 * by the account's rule; then QUIT, the moment the server deletes; then
 * record it.  *nrefused: the DELEs the server answered -ERR (pop3_dele
 * logged each one); those messages stay on the server. */
static enum pv_code
delete_and_quit(struct run *r, size_t *nrefused, struct pv_err *err)
{
	struct engine *e = r->e;
	const struct config_account *a = r->a;
	size_t *nums = NULL, n = 0, ndeleted = 0, i;
	char **uidls = NULL; /* owned copies: the items die with QUIT */
	size_t *lens = NULL;
	bool *refused = NULL;
	enum pv_code rc;

	*nrefused = 0;
	if (a->keep != CONFIG_KEEP) {
		nums = xcalloc(r->nitems, sizeof(*nums));
		uidls = xcalloc(r->nitems, sizeof(*uidls));
		lens = xcalloc(r->nitems, sizeof(*lens));
		for (i = 0; i < r->nitems; i++) {
			if (!everywhere(r, i) ||
			    !delete_due(r, i, r->first_seen[i]))
				continue;
			nums[n] = r->items[i].num;
			uidls[n] = xmalloc(r->items[i].uidl_len + 1);
			memcpy(uidls[n], r->items[i].uidl,
			    r->items[i].uidl_len + 1);
			lens[n++] = r->items[i].uidl_len;
		}
	}
	if (n > 0) {
		refused = xcalloc(n, sizeof(*refused));
		rc = pop3_dele(r->p, nums, n, refused, &ndeleted, err);
		if (rc != PV_OK)
			goto fail;
		step(e, "DELE sent");
		if (*e->o.abort) {
			rc = pv_errf(err, PV_EABORT,
			    "interrupted before QUIT: nothing deleted");
			goto fail;
		}
	}
	rc = pop3_quit(r->p, err);
	r->p = NULL;
	if (rc != PV_OK)
		goto out;
	if (n > 0) {
		step(e, "QUIT done");
		/* The server has deleted them, recorded or not: count them,
		 * and say so if recording fails. */
		r->s->deleted += ndeleted;
		rc = store_begin(e->st, err);
		for (i = 0; i < n && rc == PV_OK; i++)
			if (!refused[i])
				rc = store_msg_deleted(e->st, a->name, uidls[i],
				    lens[i], e->o.now, err);
		if (rc == PV_OK)
			rc = store_commit(e->st, err);
		else
			store_rollback(e->st);
		if (rc != PV_OK) {
			(void)pv_errprefix(err,
			    "%zu archived message(s) deleted on the server, not recorded so",
			    ndeleted);
			goto out;
		}
		*nrefused = n - ndeleted;
	}
	goto out;
fail:
	pop3_close(r->p); /* no QUIT: the server deletes nothing */
	r->p = NULL;
out:
	for (i = 0; i < n; i++)
		free(uidls[i]);
	free(uidls);
	free(lens);
	free(refused);
	free(nums);
	return rc;
}

/* What the delete gate would let through, without fetching: what is
 * durable already, and what this run would fetch (first seen now). */
static void
dry_run_report(struct run *r)
{
	size_t i;
	uint64_t del = 0;

	for (i = 0; i < r->nitems; i++)
		if (everywhere(r, i) && delete_due(r, i, r->first_seen[i]))
			del++;
	for (i = 0; i < r->nfetch; i++)
		if (delete_due(r, r->fetch[i], r->e->o.now))
			del++;
	r->s->would_fetch = r->nfetch;
	r->s->would_fetch_bytes = r->fetch_bytes;
	r->s->would_delete = del;
}

static void
upload_step(void *arg, const char *what)
{
	step(arg, what);
}

/* Open the target's sink for this account: its folder, or its own
 * folder under it (per_account). */
static enum pv_code
target_open(struct run *r, struct pv_err *err)
{
	struct engine *e = r->e;
	struct upload_conf uc = *e->o.target;

	if (e->o.per_account)
		uc.subfolder = r->a->name;
	uc.mem_max = e->o.cfg->mem_max;
	uc.tmpdir = e->o.cfg->tmpdir;
	uc.step = upload_step;
	uc.step_arg = e;
	return upload_open(e->st, &uc, target_done, r, e->o.abort, &r->up, err);
}

static void
netconf_of(const struct engine *e, const struct config_account *a,
    const char *password, struct net_conf *nc)
{
	memset(nc, 0, sizeof(*nc));
	nc->proto = NET_POP3;
	nc->host = a->host;
	nc->port = a->port;
	nc->implicit_tls = a->tls == CONFIG_TLS_IMPLICIT;
	nc->allow_plaintext = a->allow_plaintext;
	nc->no_tls = a->tls == CONFIG_TLS_OFF;
	nc->user = a->user;
	nc->password = password;
	nc->auth = a->auth;
	nc->cafile = a->cafile;
	nc->pinnedkey = a->pinnedkey;
	nc->connect_timeout_ms = e->o.cfg->connect_timeout_ms;
	nc->io_timeout_ms = e->o.cfg->timeout_ms;
	nc->abort = e->o.abort;
}

enum pv_code
engine_backup(struct engine *e, const struct config_account *a,
    const char *password, struct engine_stats *s, struct pv_err *err)
{
	struct run r;
	struct net_conf nc;
	size_t nmissing = 0, nrefused = 0;
	enum pv_code rc, rc2;

	memset(&r, 0, sizeof(r));
	memset(s, 0, sizeof(*s));
	r.e = e;
	r.a = a;
	r.s = s;
	r.safe = engine_safe_name(a->name);
	buf_init(&r.manifest, MANIFEST_HARD_MAX);
	if (e->scan == NULL)
		e->scan = msg_scan_new(canon_cb, e->canon);

	netconf_of(e, a, password, &nc);
	rc = pop3_open(&nc, e->o.cfg->window, &r.p, err);
	if (rc != PV_OK)
		goto out;
	rc = pop3_list(r.p, &r.items, &r.nitems, &nmissing, err);
	if (rc != PV_OK)
		goto out;
	s->seen = r.nitems;
	if (nmissing > 0) {
		log_warnx(
		    "account %s: %zu message(s) missing from the server's UIDL or LIST answer: not copied",
		    a->name, nmissing);
		s->failed += nmissing;
	}
	r.fetch = xcalloc(r.nitems, sizeof(*r.fetch));
	r.fetch_nums = xcalloc(r.nitems, sizeof(*r.fetch_nums));
	r.durable = xcalloc(r.nitems, sizeof(*r.durable));
	r.uploaded = xcalloc(r.nitems, sizeof(*r.uploaded));
	r.known_row = xcalloc(r.nitems, sizeof(*r.known_row));
	r.first_seen = xcalloc(r.nitems, sizeof(*r.first_seen));
	if (e->o.target != NULL && !e->o.dry_run) {
		rc = target_open(&r, err);
		if (rc != PV_OK)
			goto out;
	}
	rc = plan(&r, err);
	if (rc != PV_OK)
		goto out;
	if (e->o.dry_run) {
		dry_run_report(&r);
		goto out; /* pop3_close below: nothing was marked */
	}
	log_debug(LOG_ENGINE, "account %s: %zu on the server, %zu to fetch",
	    a->name, r.nitems, r.nfetch);

	if (e->o.progress)
		progress_start(a->name, r.nfetch, r.fetch_bytes);
	rc = pop3_retr(r.p, r.fetch_nums, r.nfetch, &retr_cb, &r, err);
	if (e->o.progress)
		progress_end();
	/* Keep every message that arrived whole, even after a failure: the
	 * next run then has less to fetch. */
	if (r.up != NULL && !r.vol_broken) {
		struct pv_err err2;

		rc2 = target_flush(&r, rc == PV_OK ? err : &err2);
		if (rc == PV_OK)
			rc = rc2;
		else if (rc2 != PV_OK)
			log_warnx("account %s: %s", a->name, err2.msg);
	}
	if (r.vol_broken) {
		volume_abort(&r);
	} else {
		struct pv_err err2;

		rc2 = volume_close(&r, rc == PV_OK ? err : &err2);
		if (rc == PV_OK)
			rc = rc2;
		else if (rc2 != PV_OK)
			log_warnx("account %s: %s", a->name, err2.msg);
	}
	if (rc != PV_OK)
		goto out;
	if (r.up != NULL) {
		rc = upload_close(r.up, err);
		r.up = NULL;
		if (rc != PV_OK)
			goto out;
	}
	rc = delete_and_quit(&r, &nrefused, err);
	if (rc == PV_OK && s->failed > 0 && nrefused > 0)
		rc = pv_errf(err, PV_EMSG,
		    "%llu message(s) could not be copied and were left on the server; the server refused to delete %zu archived message(s)",
		    (unsigned long long)s->failed, nrefused);
	else if (rc == PV_OK && s->failed > 0)
		rc = pv_errf(err, PV_EMSG,
		    "%llu message(s) could not be copied and were left on the server",
		    (unsigned long long)s->failed);
	else if (rc == PV_OK && nrefused > 0)
		rc = pv_errf(err, PV_EMSG,
		    "the server refused to delete %zu archived message(s): left on the server, the next run tries again",
		    nrefused);
out:
	volume_abort(&r);
	upload_abort(r.up);
	pop3_close(r.p); /* only reached with a session on failure: no QUIT */
	buf_free(&r.manifest);
	free(r.safe);
	free(r.vol_name);
	free(r.fetch);
	free(r.fetch_nums);
	free(r.durable);
	free(r.uploaded);
	free(r.known_row);
	free(r.first_seen);
	pend_clear(&r);
	free(r.pend);
	free(r.pset);
	return rc;
}
