/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_spool.c - message bytes in memory, then in a file; the
 * bounded buffer underneath other parsers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "spool.h"

struct collect {
	char *data;
	size_t len;
	size_t calls;
};

static enum pv_code
collect(void *arg, const void *p, size_t n, struct pv_err *err)
{
	struct collect *c = arg;

	(void)err;
	c->data = realloc(c->data, c->len + n);
	memcpy(c->data + c->len, p, n);
	c->len += n;
	c->calls++;
	return PV_OK;
}

static void
fill(char *p, size_t n, unsigned seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (char)((i * 131u + seed) & 0xff);
}

static void
test_spool_small_message_stays_in_memory_and_reads_back(void **state)
{
	struct spool *s = spool_new(1024, NULL);
	struct collect c = {NULL, 0, 0};
	struct pv_err err;

	(void)state;
	assert_int_equal(spool_write(s, "abc\r\n", 5, &err), PV_OK);
	assert_int_equal(spool_write(s, "\0x", 2, &err), PV_OK);
	assert_int_equal(spool_size(s), 7);
	assert_int_equal(spool_each(s, collect, &c, &err), PV_OK);
	assert_int_equal(c.len, 7);
	assert_memory_equal(c.data, "abc\r\n\0x", 7);
	assert_int_equal(c.calls, 1);
	free(c.data);
	spool_free(s);
}

static void
test_spool_spills_past_threshold_byte_exact(void **state)
{
	size_t n = 3 * 1024 * 1024 + 17;
	char *src = malloc(n);
	struct spool *s = spool_new(64 * 1024, NULL);
	struct collect c = {NULL, 0, 0};
	struct pv_err err;
	size_t off = 0;

	(void)state;
	fill(src, n, 7);
	while (off < n) {
		size_t k = n - off < 10007 ? n - off : 10007;

		assert_int_equal(spool_write(s, src + off, k, &err), PV_OK);
		off += k;
	}
	assert_int_equal(spool_size(s), n);
	assert_int_equal(spool_each(s, collect, &c, &err), PV_OK);
	assert_int_equal(c.len, n);
	assert_memory_equal(c.data, src, n);
	assert_true(c.calls > 1); /* read back in chunks, not whole */
	free(c.data);

	/* Reset: the next, small message is in memory again and alone. */
	spool_reset(s);
	assert_int_equal(spool_size(s), 0);
	assert_int_equal(spool_write(s, "next", 4, &err), PV_OK);
	c.data = NULL;
	c.len = 0;
	assert_int_equal(spool_each(s, collect, &c, &err), PV_OK);
	assert_int_equal(c.len, 4);
	assert_memory_equal(c.data, "next", 4);
	free(c.data);
	free(src);
	spool_free(s);
}

static void
test_spool_unwritable_tmpdir_is_io_error(void **state)
{
	struct spool *s = spool_new(4, "/nonexistent/dir");
	struct pv_err err;

	(void)state;
	assert_int_equal(spool_write(s, "abcdefgh", 8, &err), PV_EIO);
	assert_non_null(strstr(err.msg, "/nonexistent/dir"));
	spool_free(s);
}

static void
test_buf_refuses_growth_past_its_limit(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 8);
	assert_true(buf_add(&b, "12345", 5));
	assert_false(buf_add(&b, "6789", 4));
	assert_int_equal(b.len, 5);
	assert_true(buf_add(&b, "678", 3));
	assert_string_equal(b.data, "12345678");
	buf_consume(&b, 3);
	assert_string_equal(b.data, "45678");
	buf_reset(&b);
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
	        test_spool_small_message_stays_in_memory_and_reads_back),
	    cmocka_unit_test(test_spool_spills_past_threshold_byte_exact),
	    cmocka_unit_test(test_spool_unwritable_tmpdir_is_io_error),
	    cmocka_unit_test(test_buf_refuses_growth_past_its_limit),
	};

	return cmocka_run_group_tests_name("spool", tests, NULL, NULL);
}
