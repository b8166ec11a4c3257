/* SPDX-License-Identifier: MIT */
/*
 * core/upload.c - the IMAP sink (upload.h).  Order of events per batch:
 * INTENT rows committed -> APPENDs (pipelined) -> DONE rows and the
 * caller's rows in one transaction.  A run killed anywhere in between
 * leaves INTENTs that upload_open() settles by reading the folder's
 * messages from the recorded UIDNEXT on and hashing them.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "imap.h"
#include "log.h"
#include "msg.h"
#include "net.h"
#include "spool.h"
#include "store.h"
#include "text.h"
#include "upload.h"
#include "xmem.h"

#define UPLOAD_WINDOW      32
#define UPLOAD_BATCH_BYTES (16u << 20) /* queued bytes that force a flush */
/* Messages per batch, in windows: within a batch the window stays full;
 * between two batches the pipeline drains (the results are recorded
 * before the next intents), which costs a round trip each time. */
#define UPLOAD_BATCH_WINDOWS 8
#define UPLOAD_SET_MAX       400 /* UIDs per UID FETCH command */

/* A Message-ID the folder holds, and where. */
struct idref {
	char *id;
	uint32_t uid;
};

/* The hashes of a message the folder holds. */
struct content {
	uint32_t uid;
	char sha[DIGEST_HEX_LEN + 1];
	char canon[DIGEST_HEX_LEN + 1];
};

struct qitem {
	struct upload_item it;    /* message_id owned */
	enum upload_outcome kind; /* APPENDED: to append; PRESENT: found */
	bool record;              /* PRESENT: write a DONE "found" row */
	uint32_t uid;
	struct spool *body; /* APPENDED only; owned by the slot */
	bool has_res;
	struct imap_append_res res; /* res.text copied into text */
	char text[200];
};

struct upload {
	struct store *st;
	struct upload_conf c;
	upload_done_fn done;
	void *arg;
	volatile sig_atomic_t *abort;
	struct imap *s;
	char *folder; /* owned: the folder used */
	int64_t tid;
	struct imap_mbox_info info;
	uint32_t uidnext; /* a lower bound for the next APPEND's UID */
	bool fatal;
	struct pv_err fatal_err;
	/* what the folder holds */
	struct idref *ids;
	size_t nids;
	uint32_t *noid; /* UIDs without a Message-ID */
	size_t nnoid;
	struct content *noid_hash; /* their hashes, once needed */
	size_t nnoid_hash;
	bool noid_hashed;
	/* upload_known(): the target's DONE contents, sorted, loaded once */
	char (*done_sha)[DIGEST_HEX_LEN + 1];
	size_t ndone, capdone;
	bool done_loaded;
	/* the batch */
	struct qitem *q;
	size_t nq, capq;
	uint64_t qbytes;
	struct upload_stats stats;
	/* hashing what we fetch */
	struct digest *sha, *canon;
	struct msg_scan *scan;
};

static void
step(struct upload *u, const char *what)
{
	if (u->c.step != NULL)
		u->c.step(u->c.step_arg, what);
}

static void
canon_cb(void *arg, const void *p, size_t n)
{
	digest_update(arg, p, n);
}

static int
cmp_idref(const void *a, const void *b)
{
	return strcmp(((const struct idref *)a)->id,
	    ((const struct idref *)b)->id);
}

/* The first UID holding Message-ID 'id', or 0. */
static uint32_t
id_lookup(const struct upload *u, const char *id, size_t *first, size_t *count)
{
	struct idref key = {NULL, 0}, *hit;
	size_t lo, hi;

	key.id = (char *)(uintptr_t)id;
	hit = u->nids > 0
	          ? bsearch(&key, u->ids, u->nids, sizeof(*u->ids), cmp_idref)
	          : NULL;
	if (hit == NULL)
		return 0;
	lo = hi = (size_t)(hit - u->ids);
	while (lo > 0 && strcmp(u->ids[lo - 1].id, id) == 0)
		lo--;
	while (hi + 1 < u->nids && strcmp(u->ids[hi + 1].id, id) == 0)
		hi++;
	if (first != NULL)
		*first = lo;
	if (count != NULL)
		*count = hi - lo + 1;
	return u->ids[lo].uid;
}

/* ---- learning the folder ------------------------------------------------ */

/* The Message-ID in "Message-ID: <x>\r\n\r\n" as the server sent it. */
static char *
id_of_header(const char *hdr, size_t n)
{
	const char *colon = memchr(hdr, ':', n);

	if (colon == NULL)
		return NULL;
	colon++;
	return msg_normalize_id(colon, n - (size_t)(colon - hdr));
}

struct learn {
	struct upload *u;
	size_t capids, capnoid;
};

static enum pv_code
on_msgid(void *arg, uint32_t uid, const char *hdr, size_t n, struct pv_err *err)
{
	struct learn *l = arg;
	struct upload *u = l->u;
	char *id = id_of_header(hdr, n);

	(void)err;
	if (id == NULL) {
		if (u->nnoid == l->capnoid) {
			l->capnoid = l->capnoid ? l->capnoid * 2 : 64;
			u->noid = xreallocarray(u->noid, l->capnoid,
			    sizeof(*u->noid));
		}
		u->noid[u->nnoid++] = uid;
		return PV_OK;
	}
	if (u->nids == l->capids) {
		l->capids = l->capids ? l->capids * 2 : 256;
		u->ids = xreallocarray(u->ids, l->capids, sizeof(*u->ids));
	}
	u->ids[u->nids].id = id;
	u->ids[u->nids].uid = uid;
	u->nids++;
	return PV_OK;
}

static enum pv_code
learn_folder(struct upload *u, struct pv_err *err)
{
	struct learn l = {u, 0, 0};
	enum pv_code rc;

	rc = imap_fetch_message_ids(u->s, on_msgid, &l, err);
	if (rc != PV_OK)
		return rc;
	if (u->nids > 1)
		qsort(u->ids, u->nids, sizeof(*u->ids), cmp_idref);
	log_debug(LOG_ENGINE,
	    "target %s/%s: %zu message(s) with a Message-ID, %zu without",
	    u->c.key, u->c.folder, u->nids, u->nnoid);
	return PV_OK;
}

/* ---- hashing what the folder holds ------------------------------------ */

struct hashing {
	struct upload *u;
	struct content *out; /* grows */
	size_t n, cap;
};

static enum pv_code
hb_begin(void *arg, uint32_t seq, uint64_t size, struct pv_err *err)
{
	struct hashing *h = arg;
	struct upload *u = h->u;

	(void)seq;
	(void)size;
	if (u->abort != NULL && *u->abort)
		return pv_errf(err, PV_EABORT, "interrupted");
	digest_reset(u->sha);
	digest_reset(u->canon);
	msg_scan_reset(u->scan);
	return PV_OK;
}

static enum pv_code
hb_data(void *arg, const char *p, size_t n, struct pv_err *err)
{
	struct hashing *h = arg;

	(void)err;
	digest_update(h->u->sha, p, n);
	msg_scan_feed(h->u->scan, p, n);
	return PV_OK;
}

static enum pv_code
hb_end(void *arg, uint32_t uid, struct pv_err *err)
{
	struct hashing *h = arg;
	struct upload *u = h->u;
	struct msg_info mi;

	(void)err;
	memset(&mi, 0, sizeof(mi));
	msg_scan_end(u->scan, &mi);
	msg_info_clear(&mi);
	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 16;
		h->out = xreallocarray(h->out, h->cap, sizeof(*h->out));
	}
	h->out[h->n].uid = uid;
	digest_final_hex(u->sha, h->out[h->n].sha);
	digest_final_hex(u->canon, h->out[h->n].canon);
	h->n++;
	return PV_OK;
}

static const struct imap_body_cb hash_cb = {hb_begin, hb_data, hb_end};

/* Hash the messages with the given UIDs (or "from:*" when n is 0),
 * appending to h->out. */
static enum pv_code
hash_uids(struct upload *u, const uint32_t *uids, size_t n, uint32_t from,
    struct hashing *h, struct pv_err *err)
{
	char set[UPLOAD_SET_MAX * 11 + 16];
	size_t i = 0;
	enum pv_code rc;

	h->u = u;
	if (n == 0) {
		(void)snprintf(set, sizeof(set), "%" PRIu32 ":*", from);
		return imap_fetch_bodies(u->s, set, &hash_cb, h, err);
	}
	while (i < n) {
		size_t len = 0, k;

		for (k = 0; k < UPLOAD_SET_MAX && i < n; k++, i++)
			len += (size_t)snprintf(set + len, sizeof(set) - len,
			    "%s%" PRIu32, k ? "," : "", uids[i]);
		rc = imap_fetch_bodies(u->s, set, &hash_cb, h, err);
		if (rc != PV_OK)
			return rc;
	}
	return PV_OK;
}

/* ---- settling what a killed run left ----------------------------------- */

struct intents {
	struct store_upload *v;
	size_t n, cap;
};

static enum pv_code
on_intent(void *arg, const struct store_upload *up, struct pv_err *err)
{
	struct intents *in = arg;

	(void)err;
	if (in->n == in->cap) {
		in->cap = in->cap ? in->cap * 2 : 16;
		in->v = xreallocarray(in->v, in->cap, sizeof(*in->v));
	}
	in->v[in->n] = *up; /* date_src, how: static strings */
	in->n++;
	return PV_OK;
}

static enum pv_code
settle(struct upload *u, struct pv_err *err)
{
	struct intents in = {NULL, 0, 0};
	struct hashing h;
	uint32_t from = UINT32_MAX;
	size_t i, j, nfound = 0;
	enum pv_code rc;

	memset(&h, 0, sizeof(h));
	rc = store_upload_each(u->st, u->tid, STORE_UPL_INTENT, on_intent, &in,
	    err);
	if (rc != PV_OK || in.n == 0)
		goto out;
	for (i = 0; i < in.n; i++)
		if (in.v[i].uidnext < from)
			from = in.v[i].uidnext;
	if (from == 0)
		from = 1;
	if (u->info.exists > 0) {
		rc = hash_uids(u, NULL, 0, from, &h, err);
		if (rc != PV_OK)
			goto out;
	}
	rc = store_begin(u->st, err);
	for (i = 0; i < in.n && rc == PV_OK; i++) {
		struct store_upload *up = &in.v[i];
		bool hit = false;

		for (j = 0; j < h.n && !hit; j++)
			if (h.out[j].uid >= up->uidnext &&
			    strcmp(h.out[j].sha, up->sha256) == 0) {
				hit = true;
				up->uid = h.out[j].uid;
			}
		if (hit) {
			up->uidvalidity = u->info.uidvalidity;
			up->how = "appended";
			nfound++;
			rc = store_upload_done(u->st, u->tid, up, err);
		} else {
			rc = store_upload_drop(u->st, u->tid, up->sha256, err);
		}
	}
	if (rc == PV_OK)
		rc = store_commit(u->st, err);
	else
		store_rollback(u->st);
	if (rc != PV_OK)
		goto out;
	u->stats.settled += nfound;
	step(u, "upload intents settled");
	log_info(
	    "target %s/%s: %zu upload(s) of an interrupted run found in the folder, %zu to be done again",
	    u->c.key, u->c.folder, nfound, in.n - nfound);
out:
	free(h.out);
	free(in.v);
	return rc;
}

/* ---- opening ------------------------------------------------------------ */

static enum pv_code
on_delim(void *arg, const struct imap_mailbox *mb, struct pv_err *err)
{
	char *d = arg;

	(void)err;
	if (*d == 0)
		*d = mb->delim;
	return PV_OK;
}

/* The folder to use: c.folder, or its per-account child. */
static enum pv_code
folder_name(struct upload *u, struct pv_err *err)
{
	char delim = 0, *p;
	enum pv_code rc;

	if (u->c.subfolder == NULL) {
		u->folder = xstrdup(u->c.folder);
	} else {
		/* INBOX always exists and shows the hierarchy delimiter. */
		rc = imap_list(u->s, "INBOX", on_delim, &delim, err);
		if (rc != PV_OK)
			return rc;
		if (delim == 0)
			return pv_errf(err, PV_ECONFIG,
			    "target %s has no folder hierarchy: one folder per account is not possible there",
			    u->c.key);
		u->folder =
		    xasprintf("%s%c%s", u->c.folder, delim, u->c.subfolder);
		for (p = u->folder + strlen(u->c.folder) + 1; *p != '\0'; p++)
			if (*p == delim)
				*p = '_';
	}
	u->c.folder = u->folder;
	return PV_OK;
}

enum pv_code
upload_open(struct store *st, const struct upload_conf *c, upload_done_fn done,
    void *arg, volatile sig_atomic_t *abort, struct upload **out,
    struct pv_err *err)
{
	struct upload *u = xcalloc(1, sizeof(*u));
	bool created = false, reset = false;
	enum pv_code rc;

	u->st = st;
	u->c = *c;
	if (u->c.window == 0)
		u->c.window = UPLOAD_WINDOW;
	u->done = done;
	u->arg = arg;
	u->abort = abort;
	u->sha = digest_new();
	u->canon = digest_new();
	u->scan = msg_scan_new(canon_cb, u->canon);
	u->capq = u->c.window;
	u->q = xcalloc(u->capq, sizeof(*u->q));

	rc = imap_open(c->nc, u->c.window, 0, &u->s, err);
	if (rc != PV_OK)
		goto fail;
	rc = folder_name(u, err);
	if (rc != PV_OK)
		goto fail;
	rc = imap_create(u->s, u->c.folder, &created, err);
	if (rc != PV_OK)
		goto fail;
	if (created)
		log_info("target %s: created folder %s", c->key, u->c.folder);
	rc = imap_examine(u->s, u->c.folder, &u->info, err);
	if (rc != PV_OK)
		goto fail;
	u->uidnext = u->info.uidnext > 0 ? u->info.uidnext : 1;
	rc = store_target_get(st, c->key, u->c.folder, u->info.uidvalidity,
	    &u->tid, &reset, err);
	if (rc != PV_OK)
		goto fail;
	if (reset)
		log_warnx(
		    "target %s: folder %s was recreated since the last run (new UIDVALIDITY): what it holds is checked again by Message-ID and content",
		    c->key, u->c.folder);
	rc = settle(u, err);
	if (rc == PV_OK)
		rc = learn_folder(u, err);
	if (rc != PV_OK)
		goto fail;
	*out = u;
	return PV_OK;
fail:
	upload_abort(u);
	return rc;
}

const struct upload_stats *
upload_stats(const struct upload *u)
{
	return &u->stats;
}

/* ---- the batch --------------------------------------------------------- */

static struct qitem *
enqueue(struct upload *u, const struct upload_item *it,
    enum upload_outcome kind)
{
	struct qitem *q;

	if (u->nq == u->capq) {
		u->q = xreallocarray(u->q, u->capq * 2, sizeof(*u->q));
		memset(u->q + u->capq, 0, u->capq * sizeof(*u->q));
		u->capq *= 2;
	}
	q = &u->q[u->nq++];
	q->it = *it;
	q->it.message_id =
	    it->message_id != NULL ? xstrdup(it->message_id) : NULL;
	q->kind = kind;
	q->record = false;
	q->uid = 0;
	q->has_res = false;
	q->text[0] = '\0';
	return q;
}

static bool
queued(const struct upload *u, const char *sha)
{
	size_t i;

	for (i = 0; i < u->nq; i++)
		if (strcmp(u->q[i].it.sha256, sha) == 0)
			return true;
	return false;
}

/* Does one of the folder's messages in ids[first..first+count) (or its
 * messages without a Message-ID) have this content? */
static enum pv_code
content_match(struct upload *u, const struct upload_item *it, size_t first,
    size_t count, bool noid, uint32_t *uid, struct pv_err *err)
{
	const struct content *v;
	struct hashing h;
	size_t n, i;
	enum pv_code rc = PV_OK;

	memset(&h, 0, sizeof(h));
	*uid = 0;
	if (noid) {
		if (!u->noid_hashed) {
			rc = hash_uids(u, u->noid, u->nnoid, 0, &h, err);
			if (rc != PV_OK) {
				free(h.out);
				return rc;
			}
			u->noid_hash = h.out;
			u->nnoid_hash = h.n;
			u->noid_hashed = true;
			memset(&h, 0, sizeof(h));
		}
		v = u->noid_hash;
		n = u->nnoid_hash;
	} else {
		uint32_t *uids = xcalloc(count, sizeof(*uids));

		for (i = 0; i < count; i++)
			uids[i] = u->ids[first + i].uid;
		rc = hash_uids(u, uids, count, 0, &h, err);
		free(uids);
		v = h.out;
		n = h.n;
	}
	/* The same bytes; or the same content without the trace headers
	 * in a copy that we did not put there ourselves (another tool's,
	 * which added a Received: line).  Two of our own messages that
	 * differ in trace headers only are both uploaded, whichever run
	 * sees the other one in the folder first. */
	for (i = 0; rc == PV_OK && i < n && *uid == 0; i++) {
		struct store_upload up;
		bool ours = false;

		if (strcmp(v[i].sha, it->sha256) == 0) {
			*uid = v[i].uid;
			continue;
		}
		if (it->canon[0] == '\0' || strcmp(v[i].canon, it->canon) != 0)
			continue;
		rc = store_upload_get(u->st, u->tid, v[i].sha, &ours, &up, err);
		if (rc == PV_OK && !(ours && up.state == STORE_UPL_DONE))
			*uid = v[i].uid;
	}
	free(h.out);
	return rc;
}

static enum pv_code
on_done_row(void *arg, const struct store_upload *up, struct pv_err *err)
{
	struct upload *u = arg;

	(void)err;
	if (u->ndone == u->capdone) {
		u->capdone = u->capdone ? u->capdone * 2 : 256;
		u->done_sha = xreallocarray(u->done_sha, u->capdone,
		    sizeof(*u->done_sha));
	}
	memcpy(u->done_sha[u->ndone++], up->sha256, sizeof(*u->done_sha));
	return PV_OK;
}

static int
cmp_sha(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* One walk over the target's DONE rows, then a search per message: the
 * plan of an incremental run asks this for every known message. */
enum pv_code
upload_known(struct upload *u, const char *sha256, bool *done,
    struct pv_err *err)
{
	enum pv_code rc;

	*done = false;
	if (!u->done_loaded) {
		rc = store_upload_each(u->st, u->tid, STORE_UPL_DONE,
		    on_done_row, u, err);
		if (rc != PV_OK)
			return rc;
		if (u->ndone > 1)
			qsort(u->done_sha, u->ndone, sizeof(*u->done_sha),
			    cmp_sha);
		u->done_loaded = true;
	}
	*done = u->ndone > 0 && bsearch(sha256, u->done_sha, u->ndone,
	                            sizeof(*u->done_sha), cmp_sha) != NULL;
	return PV_OK;
}

enum pv_code
upload_present(struct upload *u, const struct upload_item *it, bool *present,
    struct pv_err *err)
{
	struct store_upload up;
	struct qitem *q;
	bool found = false;
	uint32_t uid = 0;
	enum pv_code rc;

	*present = false;
	if (u->fatal) {
		*err = u->fatal_err;
		return err->code;
	}
	if (queued(u, it->sha256))
		return pv_errf(err, PV_EINTERNAL,
		    "upload_present: the same content is queued: flush first");
	rc = store_upload_get(u->st, u->tid, it->sha256, &found, &up, err);
	if (rc != PV_OK)
		return rc;
	if (found && up.state == STORE_UPL_DONE) {
		q = enqueue(u, it, UPLOAD_PRESENT);
		q->uid = up.uid;
		*present = true;
		return PV_OK;
	}
	if (it->message_id != NULL) {
		size_t first = 0, count = 0;

		/* A Message-ID is a hint, the content decides: a list copy
		 * with a footer, or a broken mailer's recycled ID, is not
		 * ours, and taking it for ours could let --delete lose the
		 * original. */
		if (id_lookup(u, it->message_id, &first, &count) != 0) {
			rc = content_match(u, it, first, count, false, &uid,
			    err);
			if (rc != PV_OK)
				return rc;
		}
	} else if (u->nnoid > 0) {
		rc = content_match(u, it, 0, 0, true, &uid, err);
		if (rc != PV_OK)
			return rc;
	}
	if (uid == 0)
		return PV_OK;
	q = enqueue(u, it, UPLOAD_PRESENT);
	q->uid = uid;
	q->record = true;
	*present = true;
	return PV_OK;
}

static enum pv_code
spool_copy(void *w, const void *p, size_t n, struct pv_err *err)
{
	return spool_write(w, p, n, err);
}

enum pv_code
upload_add(struct upload *u, const struct upload_item *it, struct spool *body,
    struct pv_err *err)
{
	struct qitem *q;
	enum pv_code rc;

	if (u->fatal) {
		*err = u->fatal_err;
		return err->code;
	}
	q = enqueue(u, it, UPLOAD_APPENDED);
	{
		/* A spool per queued message, freed with the batch: memory
		 * follows the bytes queued (at most about the batch bound),
		 * never what earlier big messages left behind.  Bigger ones
		 * go to a temporary file. */
		size_t cap = UPLOAD_BATCH_BYTES / u->c.window;

		if (u->c.mem_max > 0 && u->c.mem_max < cap)
			cap = (size_t)u->c.mem_max;
		q->body = spool_new(cap, u->c.tmpdir);
	}
	rc = spool_each(body, spool_copy, q->body, err);
	if (rc != PV_OK) {
		free((char *)(uintptr_t)q->it.message_id);
		q->it.message_id = NULL;
		spool_free(q->body);
		q->body = NULL;
		u->nq--;
		return rc;
	}
	u->qbytes += it->size;
	return PV_OK;
}

bool
upload_wants_flush(const struct upload *u, const char *sha256)
{
	if (u->nq >= u->c.window * UPLOAD_BATCH_WINDOWS ||
	    u->qbytes >= UPLOAD_BATCH_BYTES)
		return true;
	return sha256 != NULL && queued(u, sha256);
}

struct appending {
	struct upload *u;
	size_t *idx; /* msgs[i] is u->q[idx[i]] */
};

static enum pv_code
ap_body(void *arg, size_t i, imap_put_fn put, void *w, struct pv_err *err)
{
	struct appending *a = arg;

	return spool_each(a->u->q[a->idx[i]].body, put, w, err);
}

static enum pv_code
ap_result(void *arg, size_t i, const struct imap_append_res *res,
    struct pv_err *err)
{
	struct appending *a = arg;
	struct upload *u = a->u;
	struct qitem *q = &u->q[a->idx[i]];

	(void)err;
	q->has_res = true;
	q->res = *res;
	(void)snprintf(q->text, sizeof(q->text), "%s",
	    res->text != NULL ? res->text : "");
	q->res.text = q->text;
	if (res->code == PV_OK && res->has_uid && res->uid >= u->uidnext)
		u->uidnext = res->uid + 1;
	if (res->code != PV_OK && res->scope != IMAP_SCOPE_MSG && !u->fatal) {
		u->fatal = true;
		/* PV_EIO at account scope is [OVERQUOTA] (imap.h). */
		pv_errf(&u->fatal_err, res->code,
		    "target %s: folder %s: APPEND refused%s: %s", u->c.key,
		    u->c.folder,
		    res->code == PV_EIO && res->scope == IMAP_SCOPE_ACCOUNT
		        ? " (the target is over its quota)"
		        : "",
		    q->text);
	}
	return PV_OK;
}

static const struct imap_append_cb append_cb = {ap_body, ap_result};

static void
fill_upload(const struct upload *u, const struct qitem *q, uint32_t uid,
    const char *how, struct store_upload *up)
{
	memset(up, 0, sizeof(*up));
	memcpy(up->sha256, q->it.sha256, sizeof(up->sha256));
	up->uidvalidity = u->info.uidvalidity;
	up->uid = uid;
	up->uidnext = u->uidnext;
	up->internaldate = q->it.date;
	up->date_off = q->it.date_off;
	up->date_src = q->it.date_src;
	up->how = how;
}

/* Intents, then the APPENDs.  *arc: the APPEND's own failure (the
 * session is gone), recorded results stand. */
static enum pv_code
append_batch(struct upload *u, enum pv_code *arc, struct pv_err *aerr,
    struct pv_err *err)
{
	struct imap_append_msg *msgs;
	struct appending a;
	size_t i, n = 0;
	enum pv_code rc;

	*arc = PV_OK;
	a.u = u;
	a.idx = xcalloc(u->nq, sizeof(*a.idx));
	msgs = xcalloc(u->nq, sizeof(*msgs));
	for (i = 0; i < u->nq; i++)
		if (u->q[i].kind == UPLOAD_APPENDED)
			a.idx[n++] = i;
	if (n == 0) {
		rc = PV_OK;
		goto out;
	}
	rc = store_begin(u->st, err);
	for (i = 0; i < n && rc == PV_OK; i++) {
		struct store_upload up;

		fill_upload(u, &u->q[a.idx[i]], 0, NULL, &up);
		rc = store_upload_intent(u->st, u->tid, &up, err);
	}
	if (rc == PV_OK)
		rc = store_commit(u->st, err);
	else
		store_rollback(u->st);
	if (rc != PV_OK)
		goto out;
	step(u, "upload intent recorded");
	for (i = 0; i < n; i++) {
		const struct qitem *q = &u->q[a.idx[i]];

		msgs[i].size = q->it.size;
		msgs[i].date = q->it.date;
		msgs[i].tz_min = q->it.date_off;
		msgs[i].has_date = true;
		msgs[i].flags = u->c.flags != NULL && u->c.flags[0] != '\0'
		                    ? u->c.flags
		                    : NULL;
	}
	*arc = imap_append(u->s, u->c.folder, msgs, n, &append_cb, &a, aerr);
	if (*arc != PV_OK) {
		/* What was sent but not answered is settled next time. */
		(void)pv_errprefix(aerr, "target %s: folder %s", u->c.key,
		    u->c.folder);
		u->fatal = true;
		u->fatal_err = *aerr;
	} else {
		step(u, "APPEND done");
	}
out:
	free(msgs);
	free(a.idx);
	return rc;
}

static void
clear_queue(struct upload *u)
{
	size_t i;

	for (i = 0; i < u->nq; i++) {
		free((char *)(uintptr_t)u->q[i].it.message_id);
		u->q[i].it.message_id = NULL;
		spool_free(u->q[i].body);
		u->q[i].body = NULL;
	}
	u->nq = 0;
	u->qbytes = 0;
}

enum pv_code
upload_flush(struct upload *u, struct pv_err *err)
{
	struct pv_err aerr;
	enum pv_code rc, arc = PV_OK;
	size_t i;

	if (u->nq == 0)
		goto done;
	if (u->fatal) {
		*err = u->fatal_err;
		clear_queue(u);
		return err->code;
	}
	rc = append_batch(u, &arc, &aerr, err);
	if (rc != PV_OK) {
		clear_queue(u);
		return rc;
	}
	/* The outcomes and the caller's rows, in one transaction. */
	rc = store_begin(u->st, err);
	for (i = 0; i < u->nq && rc == PV_OK; i++) {
		struct qitem *q = &u->q[i];
		struct upload_res res;
		struct store_upload up;

		memset(&res, 0, sizeof(res));
		if (q->kind == UPLOAD_PRESENT) {
			if (q->record) {
				fill_upload(u, q, q->uid, "found", &up);
				rc = store_upload_done(u->st, u->tid, &up, err);
				if (rc != PV_OK)
					break;
			}
			res.outcome = UPLOAD_PRESENT;
			res.uid = q->uid;
			u->stats.present++;
			rc = u->done(u->arg, &q->it, &res, err);
			continue;
		}
		if (!q->has_res)
			continue; /* the session died: the INTENT stays */
		if (q->res.code != PV_OK) {
			rc =
			    store_upload_drop(u->st, u->tid, q->it.sha256, err);
			continue;
		}
		fill_upload(u, q, q->res.has_uid ? q->res.uid : 0, "appended",
		    &up);
		rc = store_upload_done(u->st, u->tid, &up, err);
		if (rc != PV_OK)
			break;
		res.outcome = UPLOAD_APPENDED;
		res.uid = up.uid;
		u->stats.appended++;
		u->stats.bytes += q->it.size;
		rc = u->done(u->arg, &q->it, &res, err);
	}
	if (rc == PV_OK)
		rc = store_commit(u->st, err);
	else
		store_rollback(u->st);
	if (rc != PV_OK) {
		clear_queue(u);
		return rc;
	}
	step(u, "upload recorded");
	for (i = 0; i < u->nq && rc == PV_OK; i++) {
		struct qitem *q = &u->q[i];
		struct upload_res res;

		if (q->kind != UPLOAD_APPENDED || !q->has_res ||
		    q->res.code == PV_OK)
			continue;
		memset(&res, 0, sizeof(res));
		res.outcome = UPLOAD_FAILED;
		res.text = q->text;
		res.target_wide = q->res.scope != IMAP_SCOPE_MSG;
		u->stats.failed++;
		rc = u->done(u->arg, &q->it, &res, err);
	}
	clear_queue(u);
	if (rc != PV_OK)
		return rc;
	if (arc != PV_OK) {
		*err = aerr;
		return arc;
	}
done:
	if (u->fatal) {
		*err = u->fatal_err;
		return err->code;
	}
	return PV_OK;
}

enum pv_code
upload_close(struct upload *u, struct pv_err *err)
{
	enum pv_code rc = PV_OK;

	if (u == NULL)
		return PV_OK;
	if (u->s != NULL && !u->fatal) {
		rc = imap_logout(u->s, err);
		u->s = NULL;
	}
	upload_abort(u);
	return rc;
}

void
upload_abort(struct upload *u)
{
	size_t i;

	if (u == NULL)
		return;
	imap_close(u->s);
	clear_queue(u);
	for (i = 0; i < u->capq; i++)
		spool_free(u->q[i].body);
	free(u->q);
	for (i = 0; i < u->nids; i++)
		free(u->ids[i].id);
	free(u->ids);
	free(u->noid);
	free(u->noid_hash);
	free(u->done_sha);
	digest_free(u->sha);
	digest_free(u->canon);
	msg_scan_free(u->scan);
	free(u->folder);
	free(u);
}

/* ---- verify --to ------------------------------------------------------- */

struct vctx {
	struct store_upload *ups; /* DONE uploads of the target */
	size_t nups, capups;
	char **ids;     /* their Message-IDs, from the message rows */
	uint32_t *uids; /* the folder's UIDs, sorted */
	size_t nuids, capuids;
	int64_t tid;
	const char *folder;
	struct learn l; /* the folder's Message-IDs */
};

static enum pv_code
v_target(void *arg, const struct store_target *t, struct pv_err *err)
{
	struct vctx *v = arg;

	(void)err;
	if (strcmp(t->folder, v->folder) == 0)
		v->tid = t->id;
	return PV_OK;
}

static enum pv_code
v_upload(void *arg, const struct store_upload *up, struct pv_err *err)
{
	struct vctx *v = arg;

	(void)err;
	if (v->nups == v->capups) {
		v->capups = v->capups ? v->capups * 2 : 64;
		v->ups = xreallocarray(v->ups, v->capups, sizeof(*v->ups));
	}
	v->ups[v->nups] = *up;
	v->ups[v->nups].date_src = NULL;
	v->ups[v->nups].how = NULL;
	v->nups++;
	return PV_OK;
}

static int
cmp_upload(const void *a, const void *b)
{
	return strcmp(((const struct store_upload *)a)->sha256,
	    ((const struct store_upload *)b)->sha256);
}

static enum pv_code
v_msg(void *arg, const struct store_msg *m, struct pv_err *err)
{
	struct vctx *v = arg;
	struct store_upload key, *hit;
	size_t k;

	(void)err;
	if (m->message_id == NULL || v->nups == 0)
		return PV_OK;
	memset(&key, 0, sizeof(key));
	memcpy(key.sha256, m->sha256, sizeof(key.sha256));
	hit = bsearch(&key, v->ups, v->nups, sizeof(*v->ups), cmp_upload);
	if (hit == NULL)
		return PV_OK;
	k = (size_t)(hit - v->ups);
	if (v->ids[k] == NULL)
		v->ids[k] = xstrdup(m->message_id);
	return PV_OK;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static enum pv_code
v_fetch(void *arg, uint32_t uid, const char *hdr, size_t n, struct pv_err *err)
{
	struct upload *u = arg;
	struct vctx *v = u->arg;

	if (v->nuids == v->capuids) {
		v->capuids = v->capuids ? v->capuids * 2 : 256;
		v->uids = xreallocarray(v->uids, v->capuids, sizeof(*v->uids));
	}
	v->uids[v->nuids++] = uid;
	v->l.u = u;
	return on_msgid(&v->l, uid, hdr, n, err);
}

enum pv_code
upload_verify(struct store *st, const struct upload_conf *c,
    void (*each)(void *arg, const char *sha256, const char *message_id,
        bool present, uint32_t uid),
    void *arg, struct upload_check *out, struct pv_err *err)
{
	struct upload u;
	struct vctx v;
	size_t i;
	enum pv_code rc;

	memset(&u, 0, sizeof(u));
	memset(&v, 0, sizeof(v));
	memset(out, 0, sizeof(*out));
	u.c = *c;
	u.arg = &v;
	v.folder = c->folder;
	rc = store_target_each(st, c->key, v_target, &v, err);
	if (rc != PV_OK)
		goto out;
	if (v.tid != 0) {
		rc = store_upload_each(st, v.tid, STORE_UPL_DONE, v_upload, &v,
		    err);
		if (rc != PV_OK)
			goto out;
	}
	if (v.nups > 1)
		qsort(v.ups, v.nups, sizeof(*v.ups), cmp_upload);
	v.ids = xcalloc(v.nups > 0 ? v.nups : 1, sizeof(*v.ids));
	rc = store_msg_each(st, NULL, v_msg, &v, err);
	if (rc != PV_OK)
		goto out;
	rc = imap_open(c->nc, 1, 0, &u.s, err);
	if (rc != PV_OK)
		goto out;
	rc = imap_examine(u.s, c->folder, &u.info, err);
	if (rc != PV_OK)
		goto out;
	rc = imap_fetch_message_ids(u.s, v_fetch, &u, err);
	if (rc != PV_OK)
		goto out;
	if (u.nids > 1)
		qsort(u.ids, u.nids, sizeof(*u.ids), cmp_idref);
	if (v.nuids > 1)
		qsort(v.uids, v.nuids, sizeof(*v.uids), cmp_u32);
	out->in_folder = (uint32_t)v.nuids;
	for (i = 0; i < v.nups; i++) {
		const struct store_upload *up = &v.ups[i];
		uint32_t uid = 0;

		if (up->uid != 0 && up->uidvalidity == u.info.uidvalidity)
			uid =
			    v.nuids > 0 && bsearch(&up->uid, v.uids, v.nuids,
			                       sizeof(*v.uids), cmp_u32) != NULL
			        ? up->uid
			        : 0;
		else if (v.ids[i] != NULL)
			uid = id_lookup(&u, v.ids[i], NULL, NULL);
		out->expected++;
		if (uid != 0)
			out->present++;
		else
			out->missing++;
		each(arg, up->sha256, v.ids[i], uid != 0, uid);
	}
	rc = imap_logout(u.s, err);
	u.s = NULL;
out:
	imap_close(u.s);
	for (i = 0; i < v.nups && v.ids != NULL; i++)
		free(v.ids[i]);
	free(v.ids);
	free(v.ups);
	free(v.uids);
	for (i = 0; i < u.nids; i++)
		free(u.ids[i].id);
	free(u.ids);
	free(u.noid);
	return rc;
}
