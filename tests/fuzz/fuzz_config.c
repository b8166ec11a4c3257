/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_config.c - the config file parser on arbitrary bytes.
 *  - Whatever it refuses, it refuses with PV_ECONFIG and a message that
 *    starts with the file's name ("file:line: message" or "file: ...").
 *  - Whatever it accepts holds only named accounts, each with the line it
 *    was defined on, and config_finish either completes every account or
 *    says which one is incomplete; the durations, sizes and counts parsed
 *    stay within their documented ranges.
 *  - Nothing leaks (LeakSanitizer), secrets included.
 * The input is written to one private file (mode 0600, as a config that
 * holds a password must be) and loaded from there.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                 \
	do {                     \
		if (!(c))        \
			abort(); \
	} while (0)

static char path[64];
static int fd = -1;

static void
setup(void)
{
	const char *dir = getenv("TMPDIR");

	if (dir == NULL || strlen(dir) > 40)
		dir = "/tmp";
	(void)snprintf(path, sizeof(path), "%s/fuzz-config-XXXXXX", dir);
	fd = mkstemp(path);
	CHECK(fd >= 0);
	CHECK(fchmod(fd, 0600) == 0);
}

static void
put(const uint8_t *data, size_t size)
{
	size_t off = 0;

	CHECK(ftruncate(fd, 0) == 0);
	while (off < size) {
		ssize_t n = pwrite(fd, data + off, size - off, (off_t)off);

		CHECK(n > 0);
		off += (size_t)n;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config c;
	struct pv_err err;
	enum pv_code rc;
	size_t plen;

	if (fd < 0)
		setup();
	put(data, size);
	plen = strlen(path);
	config_init(&c);
	pv_errclear(&err);
	rc = config_load(&c, path, &err);
	if (rc != PV_OK) {
		CHECK(rc == PV_ECONFIG && err.code == rc);
		CHECK(strncmp(err.msg, path, plen) == 0);
		CHECK(err.msg[plen] == ':');
		config_free(&c);
		return 0;
	}
	for (size_t i = 0; i < c.naccounts; i++) {
		const struct config_account *a = &c.accounts[i];

		CHECK(a->name != NULL && a->name[0] != '\0');
		CHECK(a->where != NULL && strncmp(a->where, path, plen) == 0);
		CHECK(config_find(&c, a->name) == a);
	}
	CHECK(c.jobs <= CONFIG_JOBS_MAX);
	CHECK(c.timeout_ms >= 0 && c.connect_timeout_ms >= 0);
	pv_errclear(&err);
	rc = config_finish(&c, &err);
	if (rc == PV_OK) {
		for (size_t i = 0; i < c.naccounts; i++) {
			CHECK(c.accounts[i].host != NULL);
			CHECK(c.accounts[i].user != NULL);
		}
	} else {
		CHECK(err.code == rc && err.msg[0] != '\0');
	}
	config_free(&c);
	return 0;
}
