/* SPDX-License-Identifier: MIT */
/*
 * core/verify.c - re-hash every volume of an archive directory and
 * reconcile it with the state db (see verify.h).  Reads only.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arc.h"
#include "buf.h"
#include "digest.h"
#include "log.h"
#include "manifest.h"
#include "store.h"
#include "verify.h"
#include "xmem.h"

#define CHUNK        (64 * 1024)
#define MANIFEST_MAX (64u * 1024 * 1024) /* the writer stops near 8 MiB */
#define NO_VOL       ((size_t)-1)

/* A member whose bytes hashed to its name: the content is in the archive. */
struct seen {
	unsigned char h[32];
	uint32_t vol;
};

/* A member of the volume being read. */
struct member {
	char *name;
	uint64_t size; /* bytes read */
	char sha[65];  /* what they hash to */
	bool named;    /* name is <dir>/<sha256>.eml */
	bool recorded; /* a "stored" record names it */
};

/* A "ref" record, checked once every volume was read. */
struct ref {
	unsigned char h[32];
	size_t target; /* index in the report's volumes */
	size_t from;
	char *entry;
};

struct ctx {
	const char *dir;
	const volatile sig_atomic_t *abort;
	enum pv_code (*cb)(void *arg, const struct verify_volume *v,
	    const char *manifest, size_t len, struct pv_err *err);
	void *cb_arg;
	struct verify_report *r;
	size_t ndisk;      /* r->vols[0..ndisk) are files, sorted by name */
	bool *known;       /* [ndisk]: the state has it as a DONE volume */
	size_t nstatevols; /* DONE volumes the state records */
	struct seen *seen;
	size_t nseen, capseen;
	struct ref *refs;
	size_t nrefs, caprefs;
	/* the volume being read */
	size_t vi;
	struct member *mem;
	size_t nmem, capmem;
	struct digest *dg;
	unsigned char *chunk;
};

static const char *const kind_names[] = {
    [VERIFY_DAMAGED] = "damaged",
    [VERIFY_BAD_MEMBER] = "bad-member",
    [VERIFY_MISMATCH] = "mismatch",
    [VERIFY_BAD_MANIFEST] = "bad-manifest",
    [VERIFY_NO_MEMBER] = "no-member",
    [VERIFY_NO_RECORD] = "no-record",
    [VERIFY_BAD_REF] = "bad-ref",
    [VERIFY_MISSING] = "missing",
    [VERIFY_MISSING_VOLUME] = "missing-volume",
    [VERIFY_EXTRA] = "extra",
};

const char *
verify_kind_name(enum verify_kind k)
{
	if ((size_t)k >= sizeof(kind_names) / sizeof(kind_names[0]))
		return "?";
	return kind_names[k];
}

const char *
verify_status_name(enum verify_status s)
{
	switch (s) {
	case VERIFY_VOL_OK:
		return "ok";
	case VERIFY_VOL_CORRUPT:
		return "corrupt";
	case VERIFY_VOL_MISSING:
		return "missing";
	}
	return "?";
}

static void problem(struct ctx *c, enum verify_kind k, size_t vi,
    const char *member, const char *fmt, ...) PV_PRINTF(5, 6);

/* Record a problem; a volume with an error in it is corrupt. */
static void
problem(struct ctx *c, enum verify_kind k, size_t vi, const char *member,
    const char *fmt, ...)
{
	struct verify_report *r = c->r;
	struct verify_problem *p;
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(text, sizeof(text), fmt, ap); /* truncation is fine */
	va_end(ap);
	r->probs = xreallocarray(r->probs, r->nprobs + 1, sizeof(*r->probs));
	p = &r->probs[r->nprobs++];
	p->kind = k;
	p->warning = k == VERIFY_EXTRA;
	p->volume = vi != NO_VOL ? xstrdup(r->vols[vi].name) : NULL;
	p->member = member != NULL ? xstrdup(member) : NULL;
	p->detail = xstrdup(text);
	if (p->warning)
		return;
	r->nerrors++;
	if (vi != NO_VOL && r->vols[vi].status == VERIFY_VOL_OK)
		r->vols[vi].status = VERIFY_VOL_CORRUPT;
}

static int
hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/* 64 lower-case hex digits at s into h; false if they are not. */
static bool
hex2bin(const char *s, unsigned char h[32])
{
	int hi, lo;
	size_t i;

	for (i = 0; i < 32; i++) {
		hi = hexval(s[2 * i]);
		lo = hi < 0 ? -1 : hexval(s[2 * i + 1]);
		if (lo < 0)
			return false;
		h[i] = (unsigned char)(hi << 4 | lo);
	}
	return true;
}

/* A message member is "<dir>/<64 hex>.eml" with one non-empty <dir>;
 * *sha receives where the digest starts. */
static bool
member_sha(const char *name, const char **sha)
{
	const char *slash = strchr(name, '/');
	size_t n;

	if (slash == NULL || slash == name || strchr(slash + 1, '/') != NULL)
		return false;
	n = strlen(slash + 1);
	if (n != DIGEST_HEX_LEN + 4 ||
	    strcmp(slash + 1 + DIGEST_HEX_LEN, ".eml") != 0)
		return false;
	for (n = 0; n < DIGEST_HEX_LEN; n++)
		if (hexval(slash[1 + n]) < 0)
			return false;
	*sha = slash + 1;
	return true;
}

static int
cmp_seen(const void *a, const void *b)
{
	const struct seen *x = a, *y = b;
	int d = memcmp(x->h, y->h, sizeof(x->h));

	if (d != 0)
		return d;
	return x->vol < y->vol ? -1 : x->vol > y->vol;
}

static int
cmp_seen_hash(const void *a, const void *b)
{
	return memcmp(((const struct seen *)a)->h, ((const struct seen *)b)->h,
	    sizeof(((const struct seen *)a)->h));
}

static int
cmp_member(const void *a, const void *b)
{
	return strcmp(((const struct member *)a)->name,
	    ((const struct member *)b)->name);
}

/* Index of the file volume 'name', or NO_VOL. */
static size_t
find_vol(const struct ctx *c, const char *name)
{
	size_t lo = 0, hi = c->ndisk, mid;
	int d;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		d = strcmp(name, c->r->vols[mid].name);
		if (d == 0)
			return mid;
		if (d < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NO_VOL;
}

static struct member *
find_member(const struct ctx *c, const char *name)
{
	struct member key;

	memset(&key, 0, sizeof(key));
	key.name = (char *)(uintptr_t)name;
	return bsearch(&key, c->mem, c->nmem, sizeof(*c->mem), cmp_member);
}

/* The volume files in dir, sorted, into c->r->vols. */
static enum pv_code
list_dir(struct ctx *c, struct pv_err *err)
{
	struct verify_report *r = c->r;
	char **names = NULL;
	size_t n = 0, i;
	enum pv_code rc;

	rc = arc_list(c->dir, &names, &n, err);
	if (rc != PV_OK)
		return rc;
	r->vols = xcalloc(n > 0 ? n : 1, sizeof(*r->vols));
	for (i = 0; i < n; i++) {
		char *path = xasprintf("%s/%s", c->dir, names[i]);
		struct stat sb;

		r->vols[r->nvols].name = names[i];
		r->vols[r->nvols].bytes =
		    stat(path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
		r->vols[r->nvols].status = VERIFY_VOL_OK;
		r->nvols++;
		free(path);
	}
	free(names);
	c->ndisk = r->nvols;
	c->known = xcalloc(c->ndisk > 0 ? c->ndisk : 1, sizeof(*c->known));
	return PV_OK;
}

static bool
aborted(const struct ctx *c)
{
	return c->abort != NULL && *c->abort != 0;
}

/* Stream one member: hash it, or keep it if it is the manifest. */
static enum pv_code
read_member(struct ctx *c, struct arc_rd *rd, const char *name,
    struct buf *manifest, bool *too_big, struct pv_err *err)
{
	struct member *m;
	const char *sha = NULL;
	bool is_manifest = strcmp(name, MANIFEST_NAME) == 0;
	uint64_t total = 0;
	size_t got;
	enum pv_code rc;

	digest_reset(c->dg);
	for (;;) {
		if (aborted(c))
			return pv_errf(err, PV_EABORT, "interrupted");
		rc = arc_rd_data(rd, c->chunk, CHUNK, &got, err);
		if (rc != PV_OK)
			return rc;
		if (got == 0)
			break;
		total += got;
		if (is_manifest) {
			if (!*too_big && !buf_add(manifest, c->chunk, got))
				*too_big = true;
		} else {
			digest_update(c->dg, c->chunk, got);
		}
	}
	if (is_manifest)
		return PV_OK;
	if (c->nmem == c->capmem) {
		c->capmem = c->capmem ? c->capmem * 2 : 64;
		c->mem = xreallocarray(c->mem, c->capmem, sizeof(*c->mem));
	}
	m = &c->mem[c->nmem++];
	memset(m, 0, sizeof(*m));
	m->name = xstrdup(name);
	m->size = total;
	digest_final_hex(c->dg, m->sha);
	m->named = member_sha(name, &sha);
	if (m->named && strncmp(sha, m->sha, DIGEST_HEX_LEN) != 0) {
		problem(c, VERIFY_BAD_MEMBER, c->vi, name,
		    "member %s: content hashes to %s", name, m->sha);
		m->named = false;
	}
	if (m->named) {
		if (c->nseen == c->capseen) {
			c->capseen = c->capseen ? c->capseen * 2 : 1024;
			c->seen = xreallocarray(c->seen, c->capseen,
			    sizeof(*c->seen));
		}
		(void)hex2bin(m->sha, c->seen[c->nseen].h);
		c->seen[c->nseen].vol = (uint32_t)c->vi;
		c->nseen++;
	}
	return PV_OK;
}

static enum pv_code
check_rec(void *arg, const struct manifest_rec *rec, struct pv_err *err)
{
	struct ctx *c = arg;
	struct member *m;
	const char *slash, *sha = NULL;
	unsigned char h[32];
	char *tname;
	size_t t;

	(void)err;
	if (rec->kind == MANIFEST_STORED) {
		m = find_member(c, rec->entry);
		if (m == NULL) {
			problem(c, VERIFY_NO_MEMBER, c->vi, rec->entry,
			    "manifest records %s (account %s) but the volume has no such member",
			    rec->entry, rec->account);
			return PV_OK;
		}
		m->recorded = true;
		if (strcmp(m->sha, rec->sha256) != 0)
			problem(c, VERIFY_MISMATCH, c->vi, rec->entry,
			    "member %s hashes to %s, its manifest record says %s",
			    rec->entry, m->sha, rec->sha256);
		else if (m->size != rec->size)
			problem(c, VERIFY_MISMATCH, c->vi, rec->entry,
			    "member %s has %llu bytes, its manifest record says %llu",
			    rec->entry, (unsigned long long)m->size,
			    (unsigned long long)rec->size);
		return PV_OK;
	}
	/* ref: "<volume>/<member>"; a volume name has no '/'. */
	slash = strchr(rec->entry, '/');
	if (slash == NULL || !member_sha(slash + 1, &sha) ||
	    strncmp(sha, rec->sha256, DIGEST_HEX_LEN) != 0 ||
	    !hex2bin(rec->sha256, h)) {
		problem(c, VERIFY_BAD_REF, c->vi, rec->entry,
		    "ref record %s does not name a member holding %s",
		    rec->entry, rec->sha256);
		return PV_OK;
	}
	tname = xstrndup(rec->entry, (size_t)(slash - rec->entry));
	t = find_vol(c, tname);
	if (t == NO_VOL) {
		problem(c, VERIFY_BAD_REF, c->vi, rec->entry,
		    "ref record points into volume %s, which is not in %s",
		    tname, c->dir);
		free(tname);
		return PV_OK;
	}
	free(tname);
	if (c->nrefs == c->caprefs) {
		c->caprefs = c->caprefs ? c->caprefs * 2 : 64;
		c->refs = xreallocarray(c->refs, c->caprefs, sizeof(*c->refs));
	}
	memcpy(c->refs[c->nrefs].h, h, sizeof(h));
	c->refs[c->nrefs].target = t;
	c->refs[c->nrefs].from = c->vi;
	c->refs[c->nrefs].entry = xstrdup(rec->entry);
	c->nrefs++;
	return PV_OK;
}

static void
check_manifest(struct ctx *c, const struct buf *mf)
{
	struct pv_err perr;
	char *vname = NULL;
	int64_t created;
	size_t i;
	enum pv_code rc;

	if (c->nmem > 0)
		qsort(c->mem, c->nmem, sizeof(*c->mem), cmp_member);
	rc = manifest_parse(mf->data != NULL ? mf->data : "", mf->len, &vname,
	    &created, check_rec, c, &perr);
	if (rc != PV_OK) {
		problem(c, VERIFY_BAD_MANIFEST, c->vi, MANIFEST_NAME, "%s",
		    perr.msg);
		free(vname);
		return;
	}
	if (vname == NULL || strcmp(vname, c->r->vols[c->vi].name) != 0)
		problem(c, VERIFY_BAD_MANIFEST, c->vi, MANIFEST_NAME,
		    "the manifest names the volume %s (renamed file?)",
		    vname != NULL ? vname : "-");
	free(vname);
	for (i = 0; i < c->nmem; i++)
		if (!c->mem[i].recorded)
			problem(c, VERIFY_NO_RECORD, c->vi, c->mem[i].name,
			    "member %s has no record in the manifest",
			    c->mem[i].name);
}

static void
clear_members(struct ctx *c)
{
	size_t i;

	for (i = 0; i < c->nmem; i++)
		free(c->mem[i].name);
	c->nmem = 0;
}

/* Read one volume to its end.  Only PV_EABORT stops the whole run; a
 * damaged volume is a problem of that volume. */
static enum pv_code
check_volume(struct ctx *c, struct pv_err *err)
{
	struct verify_volume *v = &c->r->vols[c->vi];
	struct arc_rd *rd = NULL;
	struct pv_err verr;
	struct buf mf;
	const char *member;
	uint64_t size;
	int64_t mtime;
	bool eof = false, have_mf = false, too_big = false, damaged = false;
	char *path = xasprintf("%s/%s", c->dir, v->name);
	enum pv_code rc;

	buf_init(&mf, MANIFEST_MAX);
	rc = arc_rd_open(path, &rd, &verr);
	while (rc == PV_OK) {
		rc = arc_rd_next(rd, &member, &size, &mtime, &eof, &verr);
		if (rc != PV_OK || eof)
			break;
		v->members++;
		if (strcmp(member, MANIFEST_NAME) == 0) {
			if (have_mf)
				problem(c, VERIFY_BAD_MANIFEST, c->vi,
				    MANIFEST_NAME, "a second manifest");
			have_mf = true;
			buf_reset(&mf);
		} else if (have_mf) {
			problem(c, VERIFY_BAD_MANIFEST, c->vi, member,
			    "member %s follows the manifest", member);
		}
		rc = read_member(c, rd, member, &mf, &too_big, &verr);
	}
	if (rc == PV_EABORT) {
		*err = verr;
		goto out;
	}
	if (rc != PV_OK) {
		/* arc names the file; the problem names the volume already */
		const char *why = verr.msg;
		size_t pl = strlen(path);

		if (strncmp(why, path, pl) == 0 &&
		    strncmp(why + pl, ": ", 2) == 0)
			why += pl + 2;
		damaged = true;
		problem(c, VERIFY_DAMAGED, c->vi, NULL, "cannot be read: %s",
		    why);
	}
	rc = PV_OK;
	if (too_big)
		problem(c, VERIFY_BAD_MANIFEST, c->vi, MANIFEST_NAME,
		    "the manifest is larger than %u bytes", MANIFEST_MAX);
	else if (have_mf)
		check_manifest(c, &mf);
	else if (!damaged)
		problem(c, VERIFY_BAD_MANIFEST, c->vi, MANIFEST_NAME,
		    "the volume has no manifest");
	log_debug(LOG_ARC, "verified %s: %llu members, %s", v->name,
	    (unsigned long long)v->members, verify_status_name(v->status));
	if (c->cb != NULL)
		rc = c->cb(c->cb_arg, v,
		    have_mf && !too_big && !damaged
		        ? (mf.data != NULL ? mf.data : "")
		        : NULL,
		    mf.len, err);
out:
	arc_rd_close(rd);
	clear_members(c);
	buf_free(&mf);
	free(path);
	return rc;
}

static void
check_refs(struct ctx *c)
{
	struct seen key;
	size_t i;

	for (i = 0; i < c->nrefs; i++) {
		memcpy(key.h, c->refs[i].h, sizeof(key.h));
		key.vol = (uint32_t)c->refs[i].target;
		if (bsearch(&key, c->seen, c->nseen, sizeof(*c->seen),
		        cmp_seen) == NULL)
			problem(c, VERIFY_BAD_REF, c->refs[i].from,
			    c->refs[i].entry,
			    "ref record %s: no good copy of that member in volume %s",
			    c->refs[i].entry,
			    c->r->vols[c->refs[i].target].name);
	}
}

static struct verify_account *
account(struct ctx *c, const char *name)
{
	struct verify_report *r = c->r;
	size_t i;

	/* The rows come grouped by account: the last one is the usual hit. */
	for (i = r->naccts; i > 0; i--)
		if (strcmp(r->accts[i - 1].account, name) == 0)
			return &r->accts[i - 1];
	r->accts = xreallocarray(r->accts, r->naccts + 1, sizeof(*r->accts));
	memset(&r->accts[r->naccts], 0, sizeof(r->accts[0]));
	r->accts[r->naccts].account = xstrdup(name);
	return &r->accts[r->naccts++];
}

static enum pv_code
check_done(void *arg, const struct store_done *d, struct pv_err *err)
{
	struct ctx *c = arg;
	struct verify_report *r = c->r;
	struct verify_account *a;
	struct seen key;
	size_t i;

	if (aborted(c))
		return pv_errf(err, PV_EABORT, "interrupted");
	if (d->volume != NULL) {
		c->nstatevols++;
		i = find_vol(c, d->volume);
		if (i != NO_VOL) {
			c->known[i] = true;
			return PV_OK;
		}
		r->vols =
		    xreallocarray(r->vols, r->nvols + 1, sizeof(*r->vols));
		memset(&r->vols[r->nvols], 0, sizeof(r->vols[0]));
		r->vols[r->nvols].name = xstrdup(d->volume);
		r->vols[r->nvols].status = VERIFY_VOL_MISSING;
		r->nvols++;
		problem(c, VERIFY_MISSING_VOLUME, r->nvols - 1, NULL,
		    "volume %s is done in the state but not in %s", d->volume,
		    c->dir);
		return PV_OK;
	}
	a = account(c, d->account);
	a->messages++;
	if (hex2bin(d->sha256, key.h) &&
	    bsearch(&key, c->seen, c->nseen, sizeof(*c->seen), cmp_seen_hash) !=
	        NULL) {
		a->found++;
		return PV_OK;
	}
	a->missing++;
	problem(c, VERIFY_MISSING, NO_VOL, d->sha256,
	    "account %s: message %s is done in the state but no good volume holds it",
	    d->account, d->sha256);
	return PV_OK;
}

enum pv_code
verify_run(const char *dir, struct store *st,
    const volatile sig_atomic_t *abort, struct verify_report *out,
    struct pv_err *err)
{
	return verify_run_each(dir, st, abort, NULL, NULL, out, err);
}

enum pv_code
verify_run_each(const char *dir, struct store *st,
    const volatile sig_atomic_t *abort,
    enum pv_code (*cb)(void *arg, const struct verify_volume *v,
        const char *manifest, size_t len, struct pv_err *err),
    void *arg, struct verify_report *out, struct pv_err *err)
{
	struct ctx c;
	size_t i;
	enum pv_code rc;

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	c.dir = dir;
	c.abort = abort;
	c.cb = cb;
	c.cb_arg = arg;
	c.r = out;
	out->with_state = st != NULL;
	rc = list_dir(&c, err);
	if (rc != PV_OK)
		goto out;
	c.dg = digest_new();
	c.chunk = xmalloc(CHUNK);
	for (c.vi = 0; c.vi < c.ndisk; c.vi++) {
		rc = check_volume(&c, err);
		if (rc != PV_OK)
			goto out;
	}
	if (c.nseen > 0)
		qsort(c.seen, c.nseen, sizeof(*c.seen), cmp_seen);
	check_refs(&c);
	if (st != NULL) {
		rc = store_done_each(st, check_done, &c, err);
		if (rc != PV_OK)
			goto out;
		/* A state that records no volume at all is a restore's
		 * (it holds uploads only): nothing to reconcile them with,
		 * which is no reason for a warning per volume. */
		if (c.nstatevols == 0 && c.ndisk > 0)
			log_info("the state records no volumes (a restore's "
			         "state?): the %zu volume(s) were checked on "
			         "their own",
			    c.ndisk);
		else
			for (i = 0; i < c.ndisk; i++)
				if (!c.known[i])
					problem(&c, VERIFY_EXTRA, i, NULL,
					    "volume %s is not in the state (a state older than the archive?)",
					    out->vols[i].name);
	}
out:
	if (rc != PV_OK)
		verify_report_free(out);
	for (i = 0; i < c.nrefs; i++)
		free(c.refs[i].entry);
	free(c.refs);
	clear_members(&c);
	free(c.mem);
	if (rc == PV_OK) {
		out->good = c.seen; /* sorted: verify_holder() */
		out->ngood = c.nseen;
	} else {
		free(c.seen);
	}
	free(c.known);
	free(c.chunk);
	digest_free(c.dg);
	return rc;
}

void
verify_report_free(struct verify_report *r)
{
	size_t i;

	for (i = 0; i < r->nvols; i++)
		free(r->vols[i].name);
	free(r->vols);
	for (i = 0; i < r->naccts; i++)
		free(r->accts[i].account);
	free(r->accts);
	for (i = 0; i < r->nprobs; i++) {
		free(r->probs[i].volume);
		free(r->probs[i].member);
		free(r->probs[i].detail);
	}
	free(r->probs);
	free(r->good);
	memset(r, 0, sizeof(*r));
}

const char *
verify_holder(const struct verify_report *r, const char *sha256)
{
	const struct seen *hit;
	struct seen key;

	memset(&key, 0, sizeof(key));
	if (r->ngood == 0 || strlen(sha256) != 64 || !hex2bin(sha256, key.h))
		return NULL;
	hit = bsearch(&key, r->good, r->ngood, sizeof(struct seen),
	    cmp_seen_hash);
	return hit != NULL && hit->vol < r->nvols ? r->vols[hit->vol].name
	                                          : NULL;
}
