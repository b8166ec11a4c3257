/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_manifest.c - the manifest parser on arbitrary bytes,
 * and the writer on arbitrary field values.
 *  - Parse the input; whatever it accepts must format back into a
 *    manifest that parses to the same records (format(parse(x)) is a
 *    fixed point).
 *  - Build a record from pieces of the input (any bytes but NUL), format
 *    it, and parse it back: every value must survive the trip.
 * Deterministic; no network, no disk.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                 \
	do {                     \
		if (!(c))        \
			abort(); \
	} while (0)

#define OUT_MAX (16u << 20)

struct refmt {
	struct buf out;
	size_t n;
	int fail_after; /* callback error after this many records, or -1 */
};

static void
check_rec(const struct manifest_rec *r)
{
	CHECK(r->kind == MANIFEST_STORED || r->kind == MANIFEST_REF);
	CHECK(r->account != NULL && r->account[0] != '\0');
	CHECK(r->uidl != NULL && strlen(r->uidl) == r->uidl_len);
	CHECK(strlen(r->sha256) == 64);
	CHECK(r->canon[0] == '\0' || strlen(r->canon) == 64);
	CHECK(r->date_src != NULL && r->entry != NULL);
	CHECK(r->message_id == NULL || r->message_id[0] != '\0');
}

static enum pv_code
refmt_cb(void *arg, const struct manifest_rec *r, struct pv_err *err)
{
	struct refmt *f = arg;

	check_rec(r);
	if (f->fail_after >= 0 && f->n == (size_t)f->fail_after)
		return pv_errf(err, PV_EIO, "stop");
	f->n++;
	CHECK(manifest_format_rec(&f->out, r));
	return PV_OK;
}

/* parse p, format what it gave into *out (header + records). */
static enum pv_code
parse_refmt(const char *p, size_t n, struct buf *out, size_t *nrec,
    int fail_after)
{
	struct refmt f;
	struct pv_err err;
	char *vol = NULL;
	int64_t created = 0;
	enum pv_code rc;

	memset(&f, 0, sizeof(f));
	buf_init(&f.out, OUT_MAX);
	f.fail_after = fail_after;
	pv_errclear(&err);
	rc = manifest_parse(p, n, &vol, &created, refmt_cb, &f, &err);
	if (rc != PV_OK) {
		CHECK(vol == NULL);
		CHECK(err.code == rc);
		CHECK(rc == PV_EIO ||
		      strncmp(err.msg, "manifest line ", 14) == 0);
		buf_free(&f.out);
		return rc;
	}
	CHECK(vol != NULL && vol[0] != '\0');
	buf_init(out, OUT_MAX);
	CHECK(manifest_format_header(out, vol, created));
	if (f.out.len > 0)
		CHECK(buf_add(out, f.out.data, f.out.len));
	*nrec = f.n;
	free(vol);
	buf_free(&f.out);
	return PV_OK;
}

/* The next piece of the input: up to the next 0xff byte (NULs dropped,
 * as a manifest value cannot hold them). */
static char *
piece(const uint8_t **p, const uint8_t *end, size_t *len)
{
	char *s = malloc((size_t)(end - *p) + 1);
	size_t n = 0;

	CHECK(s != NULL);
	while (*p < end && **p != 0xff) {
		if (**p != 0)
			s[n++] = (char)**p;
		(*p)++;
	}
	if (*p < end)
		(*p)++;
	s[n] = '\0';
	*len = n;
	return s;
}

struct expect {
	const struct manifest_rec *want;
	const char *vol;
	bool seen;
};

static bool
same_str(const char *a, const char *b)
{
	/* "" and NULL both mean "none" for the optional fields */
	if (a == NULL || b == NULL)
		return (a == NULL || a[0] == '\0') &&
		       (b == NULL || b[0] == '\0');
	return strcmp(a, b) == 0;
}

static enum pv_code
expect_cb(void *arg, const struct manifest_rec *r, struct pv_err *err)
{
	struct expect *e = arg;
	const struct manifest_rec *w = e->want;

	(void)err;
	CHECK(!e->seen);
	e->seen = true;
	CHECK(r->kind == w->kind);
	CHECK(strcmp(r->account, w->account) == 0);
	CHECK(r->uidl_len == w->uidl_len);
	CHECK(memcmp(r->uidl, w->uidl, w->uidl_len) == 0);
	CHECK(strcmp(r->sha256, w->sha256) == 0);
	CHECK(r->size == w->size && r->date == w->date);
	CHECK(r->date_off == w->date_off && r->first_seen == w->first_seen);
	CHECK(strcmp(r->date_src, w->date_src) == 0);
	CHECK(same_str(r->message_id, w->message_id));
	CHECK(strcmp(r->entry, w->entry) == 0);
	CHECK(strcmp(r->canon, w->canon) == 0);
	return PV_OK;
}

static void
round_trip_values(const uint8_t *data, size_t size)
{
	static const char *const srcs[] = {"received", "date", "fetched"};
	const uint8_t *p = data, *end = data + size;
	struct manifest_rec r;
	struct expect e;
	struct buf b;
	struct pv_err err;
	char *account, *uidl, *msgid, *entry, *vol, *got_vol = NULL;
	size_t alen, ulen, mlen, elen, vlen;
	int64_t created = 0;
	uint64_t bits = 0;
	size_t i;

	for (i = 0; i < 8 && p < end; i++)
		bits = bits << 8 | *p++;
	account = piece(&p, end, &alen);
	uidl = piece(&p, end, &ulen);
	msgid = piece(&p, end, &mlen);
	entry = piece(&p, end, &elen);
	vol = piece(&p, end, &vlen);
	if (alen == 0 || elen == 0 || vlen == 0)
		goto out;

	memset(&r, 0, sizeof(r));
	r.kind = bits & 1 ? MANIFEST_REF : MANIFEST_STORED;
	if (r.kind == MANIFEST_REF && strchr(entry, '/') == NULL)
		goto out;
	r.account = account;
	r.uidl = uidl;
	r.uidl_len = ulen;
	memset(r.sha256, 'a' + (int)(bits >> 1 & 3), 64);
	r.size = bits * 0x9e3779b97f4a7c15ull;
	r.date = (int64_t)(bits ^ 0x5555555555555555ull);
	r.date_off = (int)((bits >> 8) % (2 * 5999 + 1)) - 5999;
	r.date_src = (char *)(uintptr_t)srcs[(bits >> 3) % 3];
	r.message_id = msgid;
	r.entry = entry;
	if (bits & 64)
		memset(r.canon, '0' + (int)(bits >> 7 & 7), 64);
	r.first_seen = -(int64_t)(bits >> 1);

	buf_init(&b, OUT_MAX);
	CHECK(manifest_format_header(&b, vol, (int64_t)bits));
	CHECK(manifest_format_rec(&b, &r));
	/* exactly 4 lines, whatever the values hold */
	for (i = 0, elen = 0; i < b.len; i++)
		elen += b.data[i] == '\n';
	CHECK(elen == 4);
	memset(&e, 0, sizeof(e));
	e.want = &r;
	CHECK(manifest_parse(b.data, b.len, &got_vol, &created, expect_cb, &e,
	          &err) == PV_OK);
	CHECK(e.seen);
	CHECK(strcmp(got_vol, vol) == 0);
	CHECK(created == (int64_t)bits);
	free(got_vol);
	buf_free(&b);
out:
	free(account);
	free(uidl);
	free(msgid);
	free(entry);
	free(vol);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf once, twice;
	size_t n1 = 0, n2 = 0;

	if (parse_refmt((const char *)data, size, &once, &n1, -1) == PV_OK) {
		/* format(parse(x)) is a fixed point */
		CHECK(
		    parse_refmt(once.data, once.len, &twice, &n2, -1) == PV_OK);
		CHECK(n1 == n2);
		CHECK(once.len == twice.len);
		CHECK(memcmp(once.data, twice.data, once.len) == 0);
		buf_free(&twice);
		buf_free(&once);
		/* a callback error stops the parse and comes back as is */
		if (n1 > 0)
			CHECK(parse_refmt((const char *)data, size, &once, &n2,
			          (int)(n1 - 1)) == PV_EIO);
	}
	round_trip_values(data, size);
	return 0;
}
