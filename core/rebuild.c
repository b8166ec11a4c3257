/* SPDX-License-Identifier: MIT */
/*
 * core/rebuild.c - a new state db from the archive volumes (rebuild.h).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "manifest.h"
#include "rebuild.h"
#include "store.h"
#include "text.h"
#include "verify.h"
#include "xmem.h"

/* A "ref" record kept until every volume was read. */
struct deferred {
	struct manifest_rec rec; /* owned copy */
	int64_t vol_id;          /* the volume whose manifest holds it */
	size_t vi;
};

struct ctx {
	struct store *st;
	struct rebuild_report *r;
	const volatile sig_atomic_t *abort;
	int64_t *vol_id;  /* [verify.nvols]: its volume row, 0 if skipped */
	uint64_t *nrecs;  /* [verify.nvols]: its records */
	char (*held)[65]; /* contents recorded as blobs; sorted at the end */
	size_t nheld, capheld;
	struct deferred *refs;
	size_t nrefs, caprefs;
	/* the volume whose manifest is being parsed */
	struct manifest_rec *cur;
	size_t ncur, capcur;
};

static bool
aborted(const struct ctx *c)
{
	return c->abort != NULL && *c->abort != 0;
}

static void
clear_cur(struct ctx *c)
{
	size_t i;

	for (i = 0; i < c->ncur; i++)
		manifest_rec_clear(&c->cur[i]);
	c->ncur = 0;
}

static enum pv_code
on_rec(void *arg, const struct manifest_rec *rec, struct pv_err *err)
{
	struct ctx *c = arg;

	(void)err;
	if (c->ncur == c->capcur) {
		c->capcur = c->capcur ? c->capcur * 2 : 256;
		c->cur = xreallocarray(c->cur, c->capcur, sizeof(*c->cur));
	}
	manifest_rec_copy(&c->cur[c->ncur++], rec);
	return PV_OK;
}

static int
cmp_held(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Stored records by content, so that a content is recorded once per
 * volume whatever the manifest says. */
static int
cmp_stored(const void *a, const void *b)
{
	const struct manifest_rec *x = a, *y = b;

	if (x->kind != y->kind)
		return x->kind == MANIFEST_STORED ? -1 : 1;
	return strcmp(x->sha256, y->sha256);
}

static struct rebuild_account *
account(struct rebuild_report *r, const char *name)
{
	size_t i;

	/* A volume is one account's: the last one is the usual hit. */
	for (i = r->naccts; i > 0; i--)
		if (strcmp(r->accts[i - 1].account, name) == 0)
			return &r->accts[i - 1];
	r->accts = xreallocarray(r->accts, r->naccts + 1, sizeof(*r->accts));
	memset(&r->accts[r->naccts], 0, sizeof(r->accts[0]));
	r->accts[r->naccts].account = xstrdup(name);
	return &r->accts[r->naccts++];
}

/* The message row of one record, unless its (account, UIDL) has one
 * already (an earlier volume: fetched twice after a state was lost
 * before; the first row stays). */
static enum pv_code
add_msg(struct ctx *c, const struct manifest_rec *rec, int64_t vol_id,
    struct pv_err *err)
{
	struct store_msg m, old;
	struct rebuild_account *a;
	bool found = false;
	enum pv_code rc;

	memset(&old, 0, sizeof(old));
	rc = store_msg_get(c->st, rec->account, rec->uidl, rec->uidl_len, &old,
	    &found, err);
	if (rc != PV_OK)
		return rc;
	if (found) {
		store_msg_clear(&old);
		c->r->dups++;
		return PV_OK;
	}
	memset(&m, 0, sizeof(m));
	m.account = rec->account;
	m.uidl = rec->uidl;
	m.uidl_len = rec->uidl_len;
	memcpy(m.sha256, rec->sha256, sizeof(m.sha256));
	m.size = rec->size;
	m.list_size = rec->size; /* LIST's figure is not in the manifest */
	m.message_id = rec->message_id;
	memcpy(m.canon, rec->canon, sizeof(m.canon));
	m.date = rec->date;
	m.date_off = rec->date_off;
	m.date_src = rec->date_src;
	m.first_seen = rec->first_seen;
	m.volume_id = vol_id;
	rc = store_msg_add(c->st, &m, err);
	if (rc != PV_OK)
		return rc;
	c->r->messages++;
	a = account(c->r, rec->account);
	a->messages++;
	a->bytes += rec->size;
	return PV_OK;
}

/* One volume's rows, in one transaction: the volume, a blob per stored
 * content, a message per stored record; its "ref" records wait. */
static enum pv_code
record_volume(struct ctx *c, size_t vi, const char *name, int64_t created,
    struct pv_err *err)
{
	int64_t id = 0;
	size_t i;
	enum pv_code rc;

	if (c->ncur > 1)
		qsort(c->cur, c->ncur, sizeof(*c->cur), cmp_stored);
	rc = store_begin(c->st, err);
	if (rc != PV_OK)
		return rc;
	rc = store_volume_add(c->st, name, created, &id, err);
	for (i = 0; rc == PV_OK && i < c->ncur; i++) {
		struct manifest_rec *rec = &c->cur[i];

		if (rec->kind == MANIFEST_REF) {
			if (c->nrefs == c->caprefs) {
				c->caprefs = c->caprefs ? c->caprefs * 2 : 64;
				c->refs = xreallocarray(c->refs, c->caprefs,
				    sizeof(*c->refs));
			}
			c->refs[c->nrefs].rec = *rec; /* moved */
			memset(rec, 0, sizeof(*rec));
			c->refs[c->nrefs].vol_id = id;
			c->refs[c->nrefs].vi = vi;
			c->nrefs++;
			continue;
		}
		if (i == 0 || c->cur[i - 1].kind != MANIFEST_STORED ||
		    strcmp(c->cur[i - 1].sha256, rec->sha256) != 0) {
			rc = store_blob_add(c->st, rec->sha256, rec->size, id,
			    rec->entry, err);
			if (rc != PV_OK)
				break;
			c->r->blobs++;
			if (c->nheld == c->capheld) {
				c->capheld = c->capheld ? c->capheld * 2 : 1024;
				c->held = xreallocarray(c->held, c->capheld,
				    sizeof(*c->held));
			}
			memcpy(c->held[c->nheld++], rec->sha256, 65);
		}
		rc = add_msg(c, rec, id, err);
	}
	if (rc == PV_OK)
		rc = store_commit(c->st, err);
	else
		store_rollback(c->st);
	if (rc == PV_OK) {
		c->vol_id[vi] = id;
		c->nrecs[vi] = c->ncur;
	}
	return rc;
}

/* verify_run_each's report of one volume: rebuild it if it passed every
 * check of its own. */
static enum pv_code
on_volume(void *arg, const struct verify_volume *v, const char *manifest,
    size_t len, struct pv_err *err)
{
	struct ctx *c = arg;
	const struct verify_report *vr = &c->r->verify;
	struct pv_err perr;
	size_t vi = (size_t)(v - vr->vols);
	char *vname = NULL;
	int64_t created = 0;
	enum pv_code rc;

	if (c->vol_id == NULL) {
		c->vol_id = xcalloc(vr->nvols, sizeof(*c->vol_id));
		c->nrecs = xcalloc(vr->nvols, sizeof(*c->nrecs));
	}
	if (aborted(c))
		return pv_errf(err, PV_EABORT, "interrupted");
	if (vi >= vr->nvols || v->status != VERIFY_VOL_OK || manifest == NULL)
		return PV_OK; /* verify named the problem */
	/* verify parsed it already: a failure here would be its bug. */
	rc = manifest_parse(manifest, len, &vname, &created, on_rec, c, &perr);
	if (rc != PV_OK || vname == NULL || strcmp(vname, v->name) != 0) {
		log_warnx("volume %s: its manifest did not parse twice alike: "
		          "skipped",
		    v->name);
		rc = PV_OK;
	} else {
		rc = record_volume(c, vi, v->name, created, err);
		if (rc == PV_OK)
			log_verbose("volume %s: %zu record(s)", v->name,
			    c->ncur);
	}
	clear_cur(c);
	free(vname);
	return rc;
}

/* The "ref" records, now that every volume was read: recorded when their
 * content is in some rebuilt volume (not necessarily the one the record
 * names: the state asks only whether the bytes are durable somewhere). */
static enum pv_code
resolve_refs(struct ctx *c, struct pv_err *err)
{
	const struct verify_report *vr = &c->r->verify;
	char shown[80];
	size_t i;
	enum pv_code rc;

	if (c->nheld > 1)
		qsort(c->held, c->nheld, sizeof(*c->held), cmp_held);
	if (c->nrefs == 0)
		return PV_OK;
	rc = store_begin(c->st, err);
	for (i = 0; rc == PV_OK && i < c->nrefs; i++) {
		const struct deferred *d = &c->refs[i];

		if (c->nheld > 0 && bsearch(d->rec.sha256, c->held, c->nheld,
		                        sizeof(*c->held), cmp_held) != NULL) {
			rc = add_msg(c, &d->rec, d->vol_id, err);
			continue;
		}
		c->r->unresolved++;
		log_warnx(
		    "volume %s: account %s, UIDL %s: its content %s (%s) is in no volume that could be rebuilt: not recorded (fetched again if still on the server)",
		    vr->vols[d->vi].name, d->rec.account,
		    text_escape(d->rec.uidl, d->rec.uidl_len, shown,
		        sizeof(shown)),
		    d->rec.sha256, d->rec.entry);
	}
	if (rc == PV_OK)
		rc = store_commit(c->st, err);
	else
		store_rollback(c->st);
	return rc;
}

static int
cmp_account(const void *a, const void *b)
{
	return strcmp(((const struct rebuild_account *)a)->account,
	    ((const struct rebuild_account *)b)->account);
}

enum pv_code
rebuild_run(const char *dir, struct store *st,
    const volatile sig_atomic_t *abort, struct rebuild_report *out,
    struct pv_err *err)
{
	struct ctx c;
	size_t i;
	enum pv_code rc;

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	c.st = st;
	c.r = out;
	c.abort = abort;
	/* Read (and re-hash) every volume once, rebuilding each as it
	 * passes; the state given is NULL: there is none to reconcile. */
	rc =
	    verify_run_each(dir, NULL, abort, on_volume, &c, &out->verify, err);
	if (rc != PV_OK)
		goto out;
	if (out->verify.nvols == 0) {
		rc = pv_errf(err, PV_EIO,
		    "archive %s: no volumes in it: nothing to rebuild from",
		    dir);
		goto out;
	}
	rc = resolve_refs(&c, err);
	if (rc == PV_OK)
		rc = store_volumes_done_all(st, err);
	if (rc != PV_OK)
		goto out;
	out->vols = xcalloc(out->verify.nvols, sizeof(*out->vols));
	for (i = 0; i < out->verify.nvols; i++) {
		struct rebuild_volume *v = &out->vols[out->nvols++];

		v->name = xstrdup(out->verify.vols[i].name);
		v->rebuilt = c.vol_id != NULL && c.vol_id[i] != 0;
		v->records = c.nrecs != NULL ? c.nrecs[i] : 0;
		if (!v->rebuilt)
			out->nskipped++;
	}
	if (out->naccts > 1)
		qsort(out->accts, out->naccts, sizeof(*out->accts),
		    cmp_account);
out:
	if (rc != PV_OK)
		rebuild_report_free(out);
	clear_cur(&c);
	free(c.cur);
	for (i = 0; i < c.nrefs; i++)
		manifest_rec_clear(&c.refs[i].rec);
	free(c.refs);
	free(c.held);
	free(c.vol_id);
	free(c.nrecs);
	return rc;
}

void
rebuild_report_free(struct rebuild_report *r)
{
	size_t i;

	verify_report_free(&r->verify);
	for (i = 0; i < r->nvols; i++)
		free(r->vols[i].name);
	free(r->vols);
	for (i = 0; i < r->naccts; i++)
		free(r->accts[i].account);
	free(r->accts);
	memset(r, 0, sizeof(*r));
}
