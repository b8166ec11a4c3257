/* SPDX-License-Identifier: MIT */
/*
 * core/progress.h - one live progress line on stderr (messages, bytes,
 * rate, ETA), drawn only when stderr is a terminal and not in -q mode.
 */
#ifndef PV_PROGRESS_H
#define PV_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

void progress_start(const char *account, uint64_t nmsgs, uint64_t nbytes);
void progress_step(uint64_t msgs_done, uint64_t bytes_done);
/* Erase the line. */
void progress_end(void);

#endif /* PV_PROGRESS_H */
