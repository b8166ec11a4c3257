/* SPDX-License-Identifier: MIT */
/*
 * core/log.h - diagnostics on stderr, prefixed "popvault: ", or in the
 * syslog format a syslog priority "<N>" (sd-daemon(3): journald reads it
 * from a service's stderr).  The only place core/ may print.  Every
 * function saves and restores errno.
 * Never pass a password or token here: the protocol trace in net.c redacts
 * them before they reach log_debug().
 */
#ifndef PV_LOG_H
#define PV_LOG_H

#include "err.h"

enum log_cat {
	LOG_POP3 = 1u << 0,
	LOG_IMAP = 1u << 1,
	LOG_STORE = 1u << 2,
	LOG_ARC = 1u << 3,
	LOG_ENGINE = 1u << 4,
	LOG_NET = 1u << 5,
	LOG_ALL = 0xffu
};

enum log_format {
	LOG_FORMAT_TEXT = 0, /* "popvault: message" */
	LOG_FORMAT_SYSLOG    /* "<N>message", N a syslog priority; control
	                        characters become spaces: one record a line */
};

/* verbosity: -1 quiet (warnings only), 0 normal, 1 verbose.
 * debug_cats: a mask of enum log_cat for log_debug(). */
void log_init(int verbosity, unsigned debug_cats);

/* Parse "-d" arguments such as "pop3,store" or "all" into a mask.
 * Returns false on an unknown name. */
_Bool log_parse_cats(const char *s, unsigned *mask);

/* "text" or "syslog"; false on anything else. */
_Bool log_parse_format(const char *s, enum log_format *out);
void log_set_format(enum log_format f);
enum log_format log_get_format(void);

int log_verbosity(void);
unsigned log_debug_mask(void);
_Bool log_debug_on(unsigned cat);

/* Priorities in the syslog format: log_errorx <3> (err), log_warn and
 * log_warnx <4> (warning), log_info and log_verbose <6> (info), log_debug
 * <7> (debug), fatal and fatalx <3>.  log_errorx is for what failed (an
 * account, a run); log_warnx for what the run goes on after. */
void log_errorx(const char *fmt, ...) PV_PRINTF(1, 2);
/* log_warn appends ": strerror(errno)". */
void log_warn(const char *fmt, ...) PV_PRINTF(1, 2);
void log_warnx(const char *fmt, ...) PV_PRINTF(1, 2);
void log_info(const char *fmt, ...) PV_PRINTF(1, 2);    /* not with -q */
void log_verbose(const char *fmt, ...) PV_PRINTF(1, 2); /* only with -v */
void log_debug(unsigned cat, const char *fmt, ...) PV_PRINTF(2, 3);

/* Broken invariants only, never input: print and exit EX_SOFTWARE. */
_Noreturn void fatal(const char *fmt, ...) PV_PRINTF(1, 2);
_Noreturn void fatalx(const char *fmt, ...) PV_PRINTF(1, 2);

#endif /* PV_LOG_H */
