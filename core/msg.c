/* SPDX-License-Identifier: MIT */
/*
 * core/msg.c - a streaming scanner over one message's bytes: Message-ID,
 * Date, the newest Received date, and the canonical content for the
 * "same mail seen in another mailbox" hash.  Pure: libc only, no I/O.
 *
 * The scanner sees the message in arbitrary pieces and must give the same
 * results whatever the split.  Memory is bounded: the only buffer that
 * grows is the current header field, and it never holds more than
 * MSG_HEADER_KEEP bytes.  A field longer than that is decided by its name
 * (known long before) and then streamed through, or dropped if it is a
 * trace field; it is not parsed.  Fields after it are parsed as usual.
 *
 * Canonical content: every header field except the trace, delivery and
 * client-status fields listed in trace_fields[] (each removed with its
 * continuation lines), then the empty line and the body, with every line
 * end (LF or CRLF) written as CRLF.  A CR not followed by LF is content
 * and kept.  A message without an empty line is all header; nothing is
 * added to a last line that has no line end.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "xmem.h"

#define OUT_MAX 8192u /* canonical bytes staged before the callback */

enum field_mode {
	FIELD_BUFFER, /* collecting the field (at most MSG_HEADER_KEEP) */
	FIELD_PASS,   /* too long: streaming it to the callback */
	FIELD_DROP    /* too long and a trace field: discarding it */
};

enum field_kind {
	KIND_OTHER,
	KIND_TRACE,
	KIND_RECEIVED,
	KIND_MSGID,
	KIND_DATE
};

struct msg_scan {
	void (*canon)(void *arg, const void *p, size_t n);
	void *arg;

	uint64_t size;
	bool in_body;
	bool pending_cr; /* the last byte was a CR: line end or content? */
	bool line_start; /* in the header, at the start of a line */
	bool have_field; /* a header field is open */
	enum field_mode mode;
	char *fld; /* owned; the current field, line ends as CRLF */
	size_t flen;
	size_t fcap;

	unsigned char out[OUT_MAX];
	size_t olen;

	char *message_id; /* owned */
	bool has_date;
	int64_t date;
	int date_off;
	bool has_received;
	int64_t received;
	int received_off;
};

/*
 * Fields left out of the canonical content: they are added or changed on
 * the way to (and inside) each mailbox, so two copies of one mail differ
 * in them.  Received is handled apart because its date is parsed.
 */
static const char *const trace_fields[] = {
    "Return-Path",
    "Delivered-To",
    "X-Original-To",
    "X-Delivered-To",
    "Envelope-To",
    "X-Envelope-To",
    "Status",
    "X-Status",
    "X-UIDL",
    "X-Keywords",
    "X-Mozilla-Status",
    "X-Mozilla-Status2",
    "Content-Length",
    "Lines",
};

/* ---- canonical output ------------------------------------------------ */

static void
flush(struct msg_scan *s)
{
	if (s->olen > 0 && s->canon != NULL)
		s->canon(s->arg, s->out, s->olen);
	s->olen = 0;
}

static void
emit(struct msg_scan *s, const void *p, size_t n)
{
	if (s->canon == NULL || n == 0)
		return;
	if (n > OUT_MAX - s->olen) {
		flush(s);
		if (n >= OUT_MAX) {
			s->canon(s->arg, p, n);
			return;
		}
	}
	memcpy(s->out + s->olen, p, n);
	s->olen += n;
}

static void
emit1(struct msg_scan *s, unsigned char c)
{
	if (s->canon == NULL)
		return;
	if (s->olen == OUT_MAX)
		flush(s);
	s->out[s->olen++] = c;
}

/* ---- header fields --------------------------------------------------- */

static bool
name_eq(const char *a, size_t alen, const char *b)
{
	size_t i;

	if (alen != strlen(b))
		return false;
	for (i = 0; i < alen; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];

		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char)(y - 'A' + 'a');
		if (x != y)
			return false;
	}
	return true;
}

/*
 * The field's name is what comes before the first ':' on its first line,
 * without the white space the obsolete syntax allows before the colon.
 * *vstart is where the value starts (after the colon).  A line without a
 * colon has no name and is kept as it is.
 */
static enum field_kind
classify(const char *f, size_t n, size_t *vstart)
{
	size_t i, end;

	*vstart = n;
	for (i = 0; i < n && f[i] != ':' && f[i] != '\n'; i++)
		;
	if (i == n || f[i] != ':')
		return KIND_OTHER;
	*vstart = i + 1;
	end = i;
	while (end > 0 && (f[end - 1] == ' ' || f[end - 1] == '\t'))
		end--;
	if (end == 0)
		return KIND_OTHER;
	if (name_eq(f, end, "Received"))
		return KIND_RECEIVED;
	if (name_eq(f, end, "Message-ID"))
		return KIND_MSGID;
	if (name_eq(f, end, "Date"))
		return KIND_DATE;
	for (i = 0; i < sizeof(trace_fields) / sizeof(trace_fields[0]); i++)
		if (name_eq(f, end, trace_fields[i]))
			return KIND_TRACE;
	return KIND_OTHER;
}

static void
parse_field(struct msg_scan *s, enum field_kind kind, const char *v, size_t n)
{
	const char *semi;
	int64_t t;
	int off;

	switch (kind) {
	case KIND_RECEIVED:
		/* The date of a Received field follows its last ';'. */
		semi = NULL;
		for (size_t i = n; i > 0; i--) {
			if (v[i - 1] == ';') {
				semi = v + i;
				break;
			}
		}
		if (semi == NULL ||
		    !msg_parse_date(semi, (size_t)(v + n - semi), &t, &off))
			return;
		if (!s->has_received || t > s->received) {
			s->has_received = true;
			s->received = t;
			s->received_off = off;
		}
		break;
	case KIND_MSGID:
		/* The first usable Message-ID wins. */
		if (s->message_id == NULL)
			s->message_id = msg_normalize_id(v, n);
		break;
	case KIND_DATE:
		/* The first parseable Date wins. */
		if (!s->has_date && msg_parse_date(v, n, &t, &off)) {
			s->has_date = true;
			s->date = t;
			s->date_off = off;
		}
		break;
	case KIND_OTHER:
	case KIND_TRACE:
		break;
	}
}

static void
field_finish(struct msg_scan *s)
{
	enum field_kind kind;
	size_t v;

	if (s->mode == FIELD_BUFFER) {
		kind = classify(s->fld, s->flen, &v);
		if (kind != KIND_TRACE && kind != KIND_RECEIVED)
			emit(s, s->fld, s->flen);
		parse_field(s, kind, s->fld + v, s->flen - v);
	}
	s->have_field = false;
	s->mode = FIELD_BUFFER;
	s->flen = 0;
}

/* The field outgrew the buffer: decide by its name, never parse it. */
static void
field_overflow(struct msg_scan *s)
{
	enum field_kind kind;
	size_t v;

	kind = classify(s->fld, s->flen, &v);
	if (kind == KIND_TRACE || kind == KIND_RECEIVED) {
		s->mode = FIELD_DROP;
	} else {
		s->mode = FIELD_PASS;
		emit(s, s->fld, s->flen);
	}
	s->flen = 0;
}

static void
field_add(struct msg_scan *s, unsigned char c)
{
	if (s->mode == FIELD_BUFFER && s->flen == MSG_HEADER_KEEP)
		field_overflow(s);
	switch (s->mode) {
	case FIELD_DROP:
		return;
	case FIELD_PASS:
		emit1(s, c);
		return;
	case FIELD_BUFFER:
		break;
	}
	if (s->flen == s->fcap) {
		size_t cap = s->fcap ? s->fcap * 2 : 256;

		if (cap > MSG_HEADER_KEEP)
			cap = MSG_HEADER_KEEP;
		s->fld = xrealloc(s->fld, cap);
		s->fcap = cap;
	}
	s->fld[s->flen++] = (char)c;
}

/* A content byte of a header line (not part of a line end). */
static void
hdr_byte(struct msg_scan *s, unsigned char c)
{
	if (s->line_start) {
		s->line_start = false;
		if (!(s->have_field && (c == ' ' || c == '\t'))) {
			/* Not a continuation line: a new field starts. */
			if (s->have_field)
				field_finish(s);
			s->have_field = true;
			s->mode = FIELD_BUFFER;
			s->flen = 0;
		}
	}
	field_add(s, c);
}

/* A line end in the header: an empty line ends it. */
static void
hdr_eol(struct msg_scan *s)
{
	if (s->line_start) {
		if (s->have_field)
			field_finish(s);
		emit(s, "\r\n", 2);
		s->in_body = true;
		return;
	}
	field_add(s, '\r');
	field_add(s, '\n');
	s->line_start = true;
}

/* ---- the scanner ----------------------------------------------------- */

static void
scan_init(struct msg_scan *s)
{
	s->size = 0;
	s->in_body = false;
	s->pending_cr = false;
	s->line_start = true;
	s->have_field = false;
	s->mode = FIELD_BUFFER;
	s->flen = 0;
	s->olen = 0;
	XFREE(s->message_id);
	s->has_date = false;
	s->date = 0;
	s->date_off = 0;
	s->has_received = false;
	s->received = 0;
	s->received_off = 0;
}

struct msg_scan *
msg_scan_new(void (*canon)(void *arg, const void *p, size_t n), void *arg)
{
	struct msg_scan *s;

	s = xcalloc(1, sizeof(*s));
	s->canon = canon;
	s->arg = arg;
	scan_init(s);
	return s;
}

void
msg_scan_feed(struct msg_scan *s, const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i = 0;

	s->size += n;
	while (i < n) {
		unsigned char c = b[i];

		if (s->pending_cr) {
			s->pending_cr = false;
			if (c == '\n') {
				i++;
				if (s->in_body)
					emit(s, "\r\n", 2);
				else
					hdr_eol(s);
				continue;
			}
			/* A bare CR is content. */
			if (s->in_body)
				emit1(s, '\r');
			else
				hdr_byte(s, '\r');
		}
		if (s->in_body) {
			size_t j = i;

			/* Pass runs without line ends through in one go. */
			while (j < n && b[j] != '\r' && b[j] != '\n')
				j++;
			emit(s, b + i, j - i);
			i = j;
			if (i == n)
				break;
			c = b[i];
		}
		i++;
		if (c == '\r')
			s->pending_cr = true;
		else if (c == '\n' && s->in_body)
			emit(s, "\r\n", 2);
		else if (c == '\n')
			hdr_eol(s);
		else
			hdr_byte(s, c);
	}
	flush(s);
}

void
msg_scan_end(struct msg_scan *s, struct msg_info *out)
{
	if (s->pending_cr) {
		s->pending_cr = false;
		if (s->in_body)
			emit1(s, '\r');
		else
			hdr_byte(s, '\r');
	}
	if (!s->in_body && s->have_field)
		field_finish(s);
	flush(s);

	memset(out, 0, sizeof(*out));
	out->message_id = s->message_id;
	s->message_id = NULL;
	out->has_date = s->has_date;
	out->date = s->date;
	out->date_off = s->date_off;
	out->has_received = s->has_received;
	out->received = s->received;
	out->received_off = s->received_off;
	out->size = s->size;
	scan_init(s);
}

void
msg_scan_reset(struct msg_scan *s)
{
	scan_init(s);
}

void
msg_scan_free(struct msg_scan *s)
{
	if (s == NULL)
		return;
	free(s->fld);
	free(s->message_id);
	free(s);
}

void
msg_info_clear(struct msg_info *mi)
{
	free(mi->message_id);
	memset(mi, 0, sizeof(*mi));
}

/* ---- Message-ID ------------------------------------------------------ */

static bool
is_wsp_or_ctl(unsigned char c)
{
	return c <= 0x20 || c == 0x7f;
}

/* Skip a comment starting at s[i] == '(' (nested, with quoted pairs). */
static size_t
skip_comment(const unsigned char *s, size_t n, size_t i)
{
	int depth = 0;

	while (i < n) {
		if (s[i] == '\\' && i + 1 < n) {
			i += 2;
			continue;
		}
		if (s[i] == '(')
			depth++;
		else if (s[i] == ')' && --depth == 0)
			return i + 1;
		i++;
	}
	return n;
}

char *
msg_normalize_id(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	char *id;
	size_t i = 0, j, len = 0;
	bool bracket = false;

	/* Find the first '<' outside comments. */
	while (i < n) {
		if (s[i] == '(') {
			i = skip_comment(s, n, i);
			continue;
		}
		if (s[i] == '<') {
			bracket = true;
			i++;
			break;
		}
		i++;
	}
	if (!bracket) {
		/* No brackets: the first word that is not white space or a
		 * comment ("Message-ID: abc@example.org (added)"). */
		i = 0;
		while (i < n) {
			if (s[i] == '(')
				i = skip_comment(s, n, i);
			else if (is_wsp_or_ctl(s[i]))
				i++;
			else
				break;
		}
	}
	id = xmalloc(MSG_ID_MAX + 1);
	for (j = i; j < n; j++) {
		if (bracket && s[j] == '>')
			break;
		if (!bracket && (is_wsp_or_ctl(s[j]) || s[j] == '('))
			break;
		if (is_wsp_or_ctl(s[j]))
			continue; /* folding and stray control bytes */
		if (len == MSG_ID_MAX) {
			/* Longer than any line may be: not an id we trust
			 * to identify a mail. */
			free(id);
			return NULL;
		}
		id[len++] = (char)s[j];
	}
	if (len == 0) {
		free(id);
		return NULL;
	}
	id[len] = '\0';
	return id;
}

/* ---- dates ----------------------------------------------------------- */

struct cur {
	const unsigned char *s;
	size_t n;
	size_t i;
};

static bool
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* White space, folding and comments. */
static void
skip_cfws(struct cur *c)
{
	while (c->i < c->n) {
		unsigned char ch = c->s[c->i];

		if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n')
			c->i++;
		else if (ch == '(')
			c->i = skip_comment(c->s, c->n, c->i);
		else
			break;
	}
}

static bool
peek(const struct cur *c, unsigned char ch)
{
	return c->i < c->n && c->s[c->i] == ch;
}

/* 1..maxd digits; false if none or too many. */
static bool
get_num(struct cur *c, int maxd, int *val, int *ndigits)
{
	int v = 0, d = 0;

	while (c->i < c->n && is_digit(c->s[c->i])) {
		if (d == maxd)
			return false;
		v = v * 10 + (c->s[c->i] - '0');
		d++;
		c->i++;
	}
	if (d == 0)
		return false;
	*val = v;
	if (ndigits != NULL)
		*ndigits = d;
	return true;
}

/* An alphabetic word, lower-cased into w; false if none or too long. */
static bool
get_word(struct cur *c, char *w, size_t cap)
{
	size_t len = 0;

	while (c->i < c->n && is_alpha(c->s[c->i])) {
		unsigned char ch = c->s[c->i];

		if (len + 1 == cap)
			return false;
		if (ch >= 'A' && ch <= 'Z')
			ch = (unsigned char)(ch - 'A' + 'a');
		w[len++] = (char)ch;
		c->i++;
	}
	w[len] = '\0';
	return len > 0;
}

static int
month_of(const char *w)
{
	static const char *const full[] = {"january", "february", "march",
	    "april", "may", "june", "july", "august", "september", "october",
	    "november", "december"};
	int m;

	for (m = 0; m < 12; m++) {
		if (strcmp(w, full[m]) == 0 ||
		    (strncmp(w, full[m], 3) == 0 && w[3] == '\0'))
			return m + 1;
	}
	if (strcmp(w, "sept") == 0)
		return 9;
	return 0;
}

static bool
is_weekday(const char *w)
{
	static const char *const days[] = {"mon", "tue", "wed", "thu", "fri",
	    "sat", "sun", "monday", "tuesday", "wednesday", "thursday",
	    "friday", "saturday", "sunday", "tues", "thur", "thurs"};
	size_t i;

	for (i = 0; i < sizeof(days) / sizeof(days[0]); i++)
		if (strcmp(w, days[i]) == 0)
			return true;
	return false;
}

/* RFC 5322 4.3 zone names (and UTC, Z); 0 for any other name. */
static int
zone_of(const char *w)
{
	static const struct {
		const char *name;
		int off;
	} zones[] = {
	    {"ut", 0},
	    {"utc", 0},
	    {"gmt", 0},
	    {"z", 0},
	    {"est", -5 * 60},
	    {"edt", -4 * 60},
	    {"cst", -6 * 60},
	    {"cdt", -5 * 60},
	    {"mst", -7 * 60},
	    {"mdt", -6 * 60},
	    {"pst", -8 * 60},
	    {"pdt", -7 * 60},
	};
	size_t i;

	for (i = 0; i < sizeof(zones) / sizeof(zones[0]); i++)
		if (strcmp(w, zones[i].name) == 0)
			return zones[i].off;
	/* Military zones were defined with the wrong sign in RFC 822 and
	 * are to be read as -0000; so is any other name (RFC 5322 4.3). */
	return 0;
}

/*
 * A zone: +hhmm, -hhmm, +hh:mm, a name, or nothing (taken as -0000: a
 * date without a zone is better than no date).  False if it is a number
 * that cannot be a zone.
 */
static bool
get_zone(struct cur *c, int *off)
{
	char w[16];
	int hh, mm, sign, d;

	skip_cfws(c);
	*off = 0;
	if (c->i >= c->n)
		return true;
	if (peek(c, '+') || peek(c, '-')) {
		sign = c->s[c->i] == '-' ? -1 : 1;
		c->i++;
		if (!get_num(c, 4, &hh, &d))
			return false;
		if (d == 4) {
			mm = hh % 100;
			hh /= 100;
		} else if (d == 2 && peek(c, ':')) {
			c->i++;
			if (!get_num(c, 2, &mm, &d) || d != 2)
				return false;
		} else {
			return false;
		}
		if (hh > 23 || mm > 59)
			return false;
		*off = sign * (hh * 60 + mm);
		return true;
	}
	if (is_alpha(c->s[c->i])) {
		if (!get_word(c, w, sizeof(w)))
			return true; /* some long word: unknown zone */
		*off = zone_of(w);
		return true;
	}
	return true;
}

/* hh:mm[:ss], white space and comments allowed around the colons. */
static bool
get_time(struct cur *c, int *h, int *mi, int *sec)
{
	skip_cfws(c);
	if (!get_num(c, 2, h, NULL))
		return false;
	skip_cfws(c);
	if (!peek(c, ':'))
		return false;
	c->i++;
	skip_cfws(c);
	if (!get_num(c, 2, mi, NULL))
		return false;
	*sec = 0;
	{
		size_t save = c->i;

		skip_cfws(c);
		if (peek(c, ':')) {
			c->i++;
			skip_cfws(c);
			if (!get_num(c, 2, sec, NULL))
				return false;
		} else {
			c->i = save;
		}
	}
	return true;
}

/* RFC 5322 4.3: two-digit years are 1950..2049, three-digit ones +1900. */
static int
full_year(int y, int ndigits)
{
	if (ndigits == 2)
		return y < 50 ? 2000 + y : 1900 + y;
	if (ndigits == 3)
		return 1900 + y;
	return y;
}

static bool
is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
days_in_month(int64_t y, int m)
{
	static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
	    31};

	return m == 2 && is_leap(y) ? 29 : dm[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil); no dependence on the local time zone. */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static bool
make_time(int y, int mo, int d, int h, int mi, int sec, int off, int64_t *t)
{
	if (y < 1900 || y > 9999 || mo < 1 || mo > 12 || d < 1 ||
	    d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 60)
		return false;
	*t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
	     (int64_t)off * 60;
	return true;
}

/* 2006-01-02[T ]15:04[:05][Z|+hh:mm]: not RFC 5322, but seen. */
static bool
parse_iso(struct cur *c, int y, int64_t *t, int *off)
{
	int mo, d, h, mi, sec, nd;

	if (!peek(c, '-'))
		return false;
	c->i++;
	if (!get_num(c, 2, &mo, &nd) || nd != 2 || !peek(c, '-'))
		return false;
	c->i++;
	if (!get_num(c, 2, &d, &nd) || nd != 2)
		return false;
	if (peek(c, 'T') || peek(c, 't'))
		c->i++;
	if (!get_time(c, &h, &mi, &sec) || !get_zone(c, off))
		return false;
	return make_time(y, mo, d, h, mi, sec, *off, t);
}

bool
msg_parse_date(const char *str, size_t n, int64_t *t, int *off)
{
	struct cur c = {(const unsigned char *)str, n, 0};
	char w[16];
	int y, mo, d, h, mi, sec, zoff, nd;
	int64_t tt;

	skip_cfws(&c);
	if (c.i < c.n && is_alpha(c.s[c.i])) {
		if (!get_word(&c, w, sizeof(w)))
			return false;
		if (is_weekday(w)) {
			skip_cfws(&c);
			if (peek(&c, ','))
				c.i++;
			skip_cfws(&c);
			if (c.i < c.n && is_alpha(c.s[c.i]) &&
			    !get_word(&c, w, sizeof(w)))
				return false;
			else if (c.i < c.n && is_digit(c.s[c.i]))
				w[0] = '\0';
		}
		if (w[0] != '\0') {
			/* asctime/date(1): "Jan  2 15:04:05 [zone] 2006" */
			mo = month_of(w);
			if (mo == 0)
				return false;
			skip_cfws(&c);
			if (!get_num(&c, 2, &d, NULL) ||
			    !get_time(&c, &h, &mi, &sec))
				return false;
			skip_cfws(&c);
			if (c.i < c.n && !is_digit(c.s[c.i])) {
				if (!get_zone(&c, &zoff))
					return false;
				skip_cfws(&c);
				if (!get_num(&c, 4, &y, &nd))
					return false;
			} else {
				if (!get_num(&c, 4, &y, &nd) ||
				    !get_zone(&c, &zoff))
					return false;
			}
			y = full_year(y, nd);
			if (!make_time(y, mo, d, h, mi, sec, zoff, &tt))
				return false;
			*t = tt;
			*off = zoff;
			return true;
		}
	}
	/* day month year time zone, as RFC 5322 (and RFC 850's
	 * "02-Jan-06"). */
	if (!get_num(&c, 4, &d, &nd))
		return false;
	if (nd == 4) {
		if (!parse_iso(&c, d, &tt, &zoff))
			return false;
		*t = tt;
		*off = zoff;
		return true;
	}
	if (nd > 2)
		return false;
	skip_cfws(&c);
	if (peek(&c, '-'))
		c.i++;
	skip_cfws(&c);
	if (!get_word(&c, w, sizeof(w)))
		return false;
	mo = month_of(w);
	if (mo == 0)
		return false;
	skip_cfws(&c);
	if (peek(&c, '-'))
		c.i++;
	skip_cfws(&c);
	if (!get_num(&c, 4, &y, &nd))
		return false;
	y = full_year(y, nd);
	if (!get_time(&c, &h, &mi, &sec) || !get_zone(&c, &zoff))
		return false;
	if (!make_time(y, mo, d, h, mi, sec, zoff, &tt))
		return false;
	*t = tt;
	*off = zoff;
	return true;
}

const char *
msg_best_date(const struct msg_info *mi, int64_t fallback, int64_t *t, int *off)
{
	if (mi->has_received) {
		*t = mi->received;
		*off = mi->received_off;
		return "received";
	}
	if (mi->has_date) {
		*t = mi->date;
		*off = mi->date_off;
		return "date";
	}
	*t = fallback;
	*off = 0;
	return "fetched";
}
