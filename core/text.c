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

const char *
text_escape(const char *in, size_t n, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;

	for (i = 0; i < n && o + 5 < cap; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c >= 0x21 && c < 0x7f && c != '\\') {
			out[o++] = (char)c;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	if (i < n && o + 4 <= cap) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}
