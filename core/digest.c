/* SPDX-License-Identifier: MIT */
/*
 * core/digest.c - SHA-256 through OpenSSL's EVP interface.  The only
 * OpenSSL user besides net.c.  EVP failures on SHA-256 cannot happen short
 * of a broken library or out of memory, so they are fatal here rather than
 * error codes every caller would have to carry.
 */
#include <stdbool.h>
#include <stdlib.h>

#include <openssl/evp.h>

#include "digest.h"
#include "log.h"
#include "xmem.h"

struct digest {
	EVP_MD_CTX *ctx; /* owned */
};

static const char hexdig[] = "0123456789abcdef";

static void
tohex(const unsigned char *md, unsigned int len, char hex[DIGEST_HEX_LEN + 1])
{
	unsigned int i;

	if (len * 2 != DIGEST_HEX_LEN)
		fatalx("digest: SHA-256 gave %u bytes", len);
	for (i = 0; i < len; i++) {
		hex[2 * i] = hexdig[md[i] >> 4];
		hex[2 * i + 1] = hexdig[md[i] & 0x0f];
	}
	hex[DIGEST_HEX_LEN] = '\0';
}

struct digest *
digest_new(void)
{
	struct digest *d;

	d = xmalloc(sizeof(*d));
	d->ctx = EVP_MD_CTX_new();
	if (d->ctx == NULL)
		fatalx("digest: EVP_MD_CTX_new failed");
	digest_reset(d);
	return d;
}

void
digest_reset(struct digest *d)
{
	if (EVP_DigestInit_ex(d->ctx, EVP_sha256(), NULL) != 1)
		fatalx("digest: EVP_DigestInit_ex(sha256) failed");
}

void
digest_update(struct digest *d, const void *p, size_t n)
{
	if (n == 0)
		return;
	if (EVP_DigestUpdate(d->ctx, p, n) != 1)
		fatalx("digest: EVP_DigestUpdate failed");
}

void
digest_final_hex(struct digest *d, char hex[DIGEST_HEX_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	if (EVP_DigestFinal_ex(d->ctx, md, &len) != 1)
		fatalx("digest: EVP_DigestFinal_ex failed");
	tohex(md, len, hex);
	digest_reset(d);
}

void
digest_free(struct digest *d)
{
	if (d == NULL)
		return;
	EVP_MD_CTX_free(d->ctx);
	free(d);
}

void
digest_sha256_hex(const void *p, size_t n, char hex[DIGEST_HEX_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	/* EVP_Digest wants a non-NULL pointer even for zero bytes. */
	if (EVP_Digest(n > 0 ? p : "", n, md, &len, EVP_sha256(), NULL) != 1)
		fatalx("digest: EVP_Digest(sha256) failed");
	tohex(md, len, hex);
}

bool
digest_is_hex(const char *s)
{
	size_t i;

	if (s == NULL)
		return false;
	for (i = 0; i < DIGEST_HEX_LEN; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') ||
		        (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	}
	return s[DIGEST_HEX_LEN] == '\0';
}
