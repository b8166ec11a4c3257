/* SPDX-License-Identifier: MIT */
/*
 * core/err.h - the one error type: a code that says what the engine does
 * next, and one line of text that names the object and the operation.
 * libc only; no printing, no exiting.
 */
#ifndef PV_ERR_H
#define PV_ERR_H

#include <stdarg.h>

#define PV_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define PV_ERR_MAX      256 /* like libcurl's CURL_ERROR_SIZE */

enum pv_code {
	PV_OK = 0,
	PV_EUSAGE,   /* bad command line: fix and rerun */
	PV_ECONFIG,  /* bad configuration: fix and rerun */
	PV_EAUTH,    /* credentials rejected: skip account */
	PV_ETLS,     /* TLS cannot be had securely (no STLS, bad cert): skip */
	PV_ENET,     /* connect/timeout/reset: skip account, retry later */
	PV_EBUSY,    /* mailbox or state in use by someone else: retry later */
	PV_EPROTO,   /* server reply we cannot accept: skip account */
	PV_EMSG,     /* this one message cannot be handled: record, skip it */
	PV_EIO,      /* local file, archive or state-db failure: stop the run */
	PV_EABORT,   /* SIGINT/SIGTERM: stop the run, state is intact */
	PV_EINTERNAL /* a bug, or a library failure that should not happen */
};

struct pv_err {
	enum pv_code code;
	char msg[PV_ERR_MAX];
};

/* Fill 'err' and return 'code', so that callers can write
 *	return pv_errf(err, PV_EIO, "%s: %s", path, strerror(errno));
 * The text is truncated to PV_ERR_MAX - 1 bytes. */
enum pv_code pv_errf(struct pv_err *err, enum pv_code code, const char *fmt,
    ...) PV_PRINTF(3, 4);

/* Prepend context on the way up: "account work: " + the old text.
 * Keeps err->code; returns it. */
enum pv_code pv_errprefix(struct pv_err *err, const char *fmt, ...)
    PV_PRINTF(2, 3);

/* Make err empty (code PV_OK, text ""). */
void pv_errclear(struct pv_err *err);

/* sysexits.h status for 'code' (EX_OK for PV_OK). */
int pv_exitcode(enum pv_code code);

/* Rank for "the most severe code seen in a run": higher is worse. */
int pv_severity(enum pv_code code);

/* A short stable name for 'code' ("net", "auth", ...), for JSON and logs. */
const char *pv_codename(enum pv_code code);

#endif /* PV_ERR_H */
