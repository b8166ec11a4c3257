/* SPDX-License-Identifier: MIT */
/*
 * core/text.h - server text made safe to show: for error lines and logs
 * that quote what a server said.  Pure: libc only.
 */
#ifndef PV_TEXT_H
#define PV_TEXT_H

#include <stddef.h>

/* Copy in[0..n) to out (NUL-terminated, at most cap - 1 bytes) with control
 * bytes and DEL replaced by '?'; text that does not fit is cut and ends in
 * "...".  Returns the length written.  cap 0 writes nothing. */
size_t text_sanitize(const char *in, size_t n, char *out, size_t cap);

/* Bytes that may be anything (a UIDL) as printable ASCII for a log line
 * or a table: bytes outside 0x21..0x7e, and '\\', become "\\xHH"; what
 * does not fit in out[0..cap) is cut and ends in "...".  Returns out
 * (NUL-terminated; cap must be at least 8). */
const char *text_escape(const char *in, size_t n, char *out, size_t cap);

#endif /* PV_TEXT_H */
