/* SPDX-License-Identifier: MIT */
/*
 * core/progress.c - the live progress line (TTY only).
 */
#include <stdbool.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "progress.h"

static struct {
	bool on;
	const char *account;
	uint64_t nmsgs, nbytes;
	double start, last;
} pg;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
progress_start(const char *account, uint64_t nmsgs, uint64_t nbytes)
{
	pg.on = isatty(STDERR_FILENO) && log_verbosity() >= 0 && nmsgs > 0;
	pg.account = account;
	pg.nmsgs = nmsgs;
	pg.nbytes = nbytes;
	pg.start = now();
	pg.last = 0;
}

void
progress_step(uint64_t msgs_done, uint64_t bytes_done)
{
	double t, rate, eta;

	if (!pg.on)
		return;
	t = now();
	if (t - pg.last < 0.2 && msgs_done < pg.nmsgs)
		return;
	pg.last = t;
	rate = t > pg.start ? (double)bytes_done / (t - pg.start) : 0;
	eta = rate > 0 && pg.nbytes > bytes_done
	          ? (double)(pg.nbytes - bytes_done) / rate
	          : 0;
	fprintf(stderr,
	    "\r\033[K%s: %llu/%llu messages, %.1f/%.1f MB, %.1f MB/s, ETA %.0fs",
	    pg.account, (unsigned long long)msgs_done,
	    (unsigned long long)pg.nmsgs, (double)bytes_done / 1e6,
	    (double)pg.nbytes / 1e6, rate / 1e6, eta);
	fflush(stderr);
}

void
progress_end(void)
{
	if (!pg.on)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	pg.on = false;
}
