/* SPDX-License-Identifier: MIT */
/*
 * core/msg.h - what we need to know of a message, read as its bytes stream
 * by: the normalized Message-ID, the Date, the newest Received date, and
 * the "canonical content" (the message without trace headers such as
 * Received, Return-Path, Delivered-To) handed to a callback so that the
 * caller can hash it.  Pure: libc only, no I/O, fuzzed.  Headers may be
 * folded, 8-bit, RFC 2047-encoded, missing, duplicated or absurd: the
 * scanner never fails and never rejects a message for them.
 */
#ifndef PV_MSG_H
#define PV_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Header bytes kept for parsing: a header field longer than this is still
 * passed to the canonical callback (or dropped, if it is a trace field)
 * but not parsed; the fields after it are parsed.  Bounds memory per
 * message. */
#define MSG_HEADER_KEEP (64u * 1024u)
#define MSG_ID_MAX      998u

struct msg_info {
	char *message_id;  /* owned; normalized (see msg_normalize_id) from
	                      the first Message-ID field that yields one;
	                      NULL when the message has none */
	bool has_date;     /* a parseable Date header (the first one) */
	int64_t date;      /* seconds since the epoch, UTC */
	int date_off;      /* the header's zone, minutes east of UTC */
	bool has_received; /* at least one parseable Received date */
	int64_t received;  /* the newest of them, UTC */
	int received_off;
	uint64_t size; /* bytes fed */
};

struct msg_scan; /* opaque streaming scanner */

/* canon(arg, p, n) receives the canonical content in order, in pieces;
 * may be NULL.  Free with msg_scan_free(). */
struct msg_scan *msg_scan_new(void (*canon)(void *arg, const void *p, size_t n),
    void *arg);

/* Feed the next n bytes of the message (any split). */
void msg_scan_feed(struct msg_scan *s, const void *p, size_t n);

/* The message is complete: fill *out (which the caller releases with
 * msg_info_clear()) and reset the scanner for the next message. */
void msg_scan_end(struct msg_scan *s, struct msg_info *out);

/* Forget the message being scanned (after an error) and reset. */
void msg_scan_reset(struct msg_scan *s);

/* Accepts NULL. */
void msg_scan_free(struct msg_scan *s);

/* Free the strings in mi and zero it. */
void msg_info_clear(struct msg_info *mi);

/* Parse an RFC 5322 date-time (with the obsolete forms: two-digit years,
 * named zones, missing seconds, missing weekday, comments) from s[0..n).
 * False, with the outputs untouched, if it is not a date. */
bool msg_parse_date(const char *s, size_t n, int64_t *t, int *off);

/* The normalized form of a Message-ID field value s[0..n): the first
 * <...> with the angle brackets removed, white space and folding removed,
 * case kept, at most MSG_ID_MAX bytes; NULL if there is nothing usable.
 * Free with free(). */
char *msg_normalize_id(const char *s, size_t n);

/* The best date for the message (DESIGN.md §4): the newest Received, else
 * Date, else 'fallback'.  Returns "received", "date" or "fetched". */
const char *msg_best_date(const struct msg_info *mi, int64_t fallback,
    int64_t *t, int *off);

#endif /* PV_MSG_H */
