/* SPDX-License-Identifier: MIT */
/*
 * core/text.c - server text made safe to show.
 */
#include <stdbool.h>
#include <string.h>

#include "text.h"

size_t
text_sanitize(const char *in, size_t n, char *out, size_t cap)
{
	size_t i, keep = n, len = 0;
	bool cut = false;

	if (cap == 0)
		return 0;
	if (keep > cap - 1) {
		cut = cap > 4;
		keep = cut ? cap - 4 : cap - 1;
	}
	for (i = 0; i < keep; i++) {
		unsigned char ch = (unsigned char)in[i];

		out[len++] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
	}
	if (cut) {
		memcpy(out + len, "...", 3);
		len += 3;
	}
	out[len] = '\0';
	return len;
}
