/* SPDX-License-Identifier: MIT */
/*
 * core/log.c - stderr diagnostics with categories for the debug trace.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "log.h"

static int verbosity;
static unsigned debug_mask;
static enum log_format format;

/* syslog(3) priorities, as sd-daemon(3) writes them. */
enum { PRI_ERR = 3, PRI_WARNING = 4, PRI_INFO = 6, PRI_DEBUG = 7 };

static const struct {
	const char *name;
	unsigned cat;
} cats[] = {
    {"pop3", LOG_POP3},
    {"imap", LOG_IMAP},
    {"store", LOG_STORE},
    {"arc", LOG_ARC},
    {"engine", LOG_ENGINE},
    {"net", LOG_NET},
    {"all", LOG_ALL},
};

void
log_init(int v, unsigned debug_cats)
{
	verbosity = v;
	debug_mask = debug_cats;
}

bool
log_parse_cats(const char *s, unsigned *mask)
{
	unsigned m = 0;

	while (*s != '\0') {
		size_t n = strcspn(s, ",");
		size_t i;
		bool found = false;

		for (i = 0; i < sizeof(cats) / sizeof(cats[0]); i++) {
			if (strlen(cats[i].name) == n &&
			    strncmp(cats[i].name, s, n) == 0) {
				m |= cats[i].cat;
				found = true;
			}
		}
		if (!found)
			return false;
		s += n;
		if (*s == ',')
			s++;
	}
	*mask = m;
	return true;
}

bool
log_parse_format(const char *s, enum log_format *out)
{
	if (strcmp(s, "text") == 0)
		*out = LOG_FORMAT_TEXT;
	else if (strcmp(s, "syslog") == 0)
		*out = LOG_FORMAT_SYSLOG;
	else
		return false;
	return true;
}

void
log_set_format(enum log_format f)
{
	format = f;
}

enum log_format
log_get_format(void)
{
	return format;
}

int
log_verbosity(void)
{
	return verbosity;
}

unsigned
log_debug_mask(void)
{
	return debug_mask;
}

bool
log_debug_on(unsigned cat)
{
	return (debug_mask & cat) != 0;
}

static void vlog(int pri, const char *fmt, va_list ap, const char *suffix)
    PV_PRINTF(2, 0);

static void vlog_syslog(int pri, const char *fmt, va_list ap,
    const char *suffix) PV_PRINTF(2, 0);

/* The syslog format: "<N>" and the record on one line.  A record with a
 * newline (text from a server, a file name) would be cut in two by
 * journald, the second half without its priority. */
static void
vlog_syslog(int pri, const char *fmt, va_list ap, const char *suffix)
{
	char small[1024], *buf = small, *p;
	va_list aq;
	int n;

	va_copy(aq, ap);
	n = vsnprintf(small, sizeof(small), fmt, aq);
	va_end(aq);
	if (n < 0) {
		small[0] = '\0';
	} else if ((size_t)n >= sizeof(small)) {
		/* Long trace lines; truncated if memory is short. */
		buf = malloc((size_t)n + 1);
		if (buf != NULL)
			(void)vsnprintf(buf, (size_t)n + 1, fmt, ap);
		else
			buf = small;
	}
	for (p = buf; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	fprintf(stderr, "<%d>%s%s%s\n", pri, buf, suffix != NULL ? ": " : "",
	    suffix != NULL ? suffix : "");
	if (buf != small)
		free(buf);
}

static void
vlog(int pri, const char *fmt, va_list ap, const char *suffix)
{
	int saved = errno;

	/* One line at a time, whole, when accounts run in threads. */
	flockfile(stderr);
	if (format == LOG_FORMAT_SYSLOG) {
		vlog_syslog(pri, fmt, ap, suffix);
	} else {
		fputs("popvault: ", stderr);
		vfprintf(stderr, fmt, ap);
		if (suffix != NULL)
			fprintf(stderr, ": %s", suffix);
		fputc('\n', stderr);
	}
	fflush(stderr);
	funlockfile(stderr);
	errno = saved;
}

void
log_errorx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(PRI_ERR, fmt, ap, NULL);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	vlog(PRI_WARNING, fmt, ap, strerror(saved));
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(PRI_WARNING, fmt, ap, NULL);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	if (verbosity < 0)
		return;
	va_start(ap, fmt);
	vlog(PRI_INFO, fmt, ap, NULL);
	va_end(ap);
}

void
log_verbose(const char *fmt, ...)
{
	va_list ap;

	if (verbosity < 1)
		return;
	va_start(ap, fmt);
	vlog(PRI_INFO, fmt, ap, NULL);
	va_end(ap);
}

void
log_debug(unsigned cat, const char *fmt, ...)
{
	va_list ap;

	if ((debug_mask & cat) == 0)
		return;
	va_start(ap, fmt);
	vlog(PRI_DEBUG, fmt, ap, NULL);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	vlog(PRI_ERR, fmt, ap, strerror(saved));
	va_end(ap);
	exit(EX_SOFTWARE);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(PRI_ERR, fmt, ap, NULL);
	va_end(ap);
	exit(EX_SOFTWARE);
}
