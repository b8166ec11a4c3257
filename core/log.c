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

static void vlog(const char *fmt, va_list ap, const char *suffix)
    PV_PRINTF(1, 0);

static void
vlog(const char *fmt, va_list ap, const char *suffix)
{
	int saved = errno;

	/* One line at a time, whole, when accounts run in threads. */
	flockfile(stderr);
	fputs("popvault: ", stderr);
	vfprintf(stderr, fmt, ap);
	if (suffix != NULL)
		fprintf(stderr, ": %s", suffix);
	fputc('\n', stderr);
	fflush(stderr);
	funlockfile(stderr);
	errno = saved;
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	vlog(fmt, ap, strerror(saved));
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap, NULL);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	if (verbosity < 0)
		return;
	va_start(ap, fmt);
	vlog(fmt, ap, NULL);
	va_end(ap);
}

void
log_verbose(const char *fmt, ...)
{
	va_list ap;

	if (verbosity < 1)
		return;
	va_start(ap, fmt);
	vlog(fmt, ap, NULL);
	va_end(ap);
}

void
log_debug(unsigned cat, const char *fmt, ...)
{
	va_list ap;

	if ((debug_mask & cat) == 0)
		return;
	va_start(ap, fmt);
	vlog(fmt, ap, NULL);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	vlog(fmt, ap, strerror(saved));
	va_end(ap);
	exit(EX_SOFTWARE);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap, NULL);
	va_end(ap);
	exit(EX_SOFTWARE);
}
