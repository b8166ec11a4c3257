/* SPDX-License-Identifier: MIT */
/*
 * core/err.c - error codes, their text and their exit status.
 */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "err.h"

enum pv_code
pv_errf(struct pv_err *err, enum pv_code code, const char *fmt, ...)
{
	va_list ap;

	err->code = code;
	va_start(ap, fmt);
	/* Truncation is accepted: the text is for people, the code decides. */
	(void)vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

enum pv_code
pv_errprefix(struct pv_err *err, const char *fmt, ...)
{
	char pre[PV_ERR_MAX], old[PV_ERR_MAX];
	va_list ap;

	memcpy(old, err->msg, sizeof(old));
	va_start(ap, fmt);
	(void)vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	if (snprintf(err->msg, sizeof(err->msg), "%s: %s", pre, old) < 0)
		err->msg[0] = '\0';
	return err->code;
}

void
pv_errclear(struct pv_err *err)
{
	err->code = PV_OK;
	err->msg[0] = '\0';
}

int
pv_exitcode(enum pv_code code)
{
	switch (code) {
	case PV_OK:
		return EX_OK;
	case PV_EUSAGE:
		return EX_USAGE;
	case PV_ECONFIG:
		return EX_CONFIG;
	case PV_EAUTH:
		return EX_NOPERM;
	case PV_ETLS:
		return EX_PROTOCOL;
	case PV_ENET:
		return EX_TEMPFAIL;
	case PV_EBUSY:
		return EX_UNAVAILABLE;
	case PV_EPROTO:
		return EX_PROTOCOL;
	case PV_EMSG:
		return EX_DATAERR;
	case PV_EIO:
		return EX_IOERR;
	case PV_EABORT:
		return EX_TEMPFAIL;
	case PV_EINTERNAL:
		return EX_SOFTWARE;
	}
	return EX_SOFTWARE;
}

int
pv_severity(enum pv_code code)
{
	switch (code) {
	case PV_OK:
		return 0;
	case PV_EMSG:
		return 1;
	case PV_ENET:
		return 2;
	case PV_EBUSY:
		return 3;
	case PV_EPROTO:
		return 4;
	case PV_EAUTH:
		return 5;
	case PV_ETLS:
		return 6;
	case PV_EABORT:
		return 7;
	case PV_ECONFIG:
		return 8;
	case PV_EUSAGE:
		return 9;
	case PV_EIO:
		return 10;
	case PV_EINTERNAL:
		return 11;
	}
	return 11;
}

const char *
pv_codename(enum pv_code code)
{
	switch (code) {
	case PV_OK:
		return "ok";
	case PV_EUSAGE:
		return "usage";
	case PV_ECONFIG:
		return "config";
	case PV_EAUTH:
		return "auth";
	case PV_ETLS:
		return "tls";
	case PV_ENET:
		return "net";
	case PV_EBUSY:
		return "busy";
	case PV_EPROTO:
		return "protocol";
	case PV_EMSG:
		return "message";
	case PV_EIO:
		return "io";
	case PV_EABORT:
		return "interrupted";
	case PV_EINTERNAL:
		return "internal";
	}
	return "internal";
}
