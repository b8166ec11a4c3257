/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_digest.c - SHA-256 against the FIPS 180-2 vectors,
 * streamed and one-shot.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "digest.h"

#define SHA_EMPTY \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SHA_ABC \
	"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define SHA_448 \
	"248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
#define SHA_MILLION_A \
	"cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"

static const char msg448[] =
    "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

static void
test_digest_one_shot_known_vectors(void **state)
{
	char hex[DIGEST_HEX_LEN + 1];

	(void)state;
	digest_sha256_hex("", 0, hex);
	assert_string_equal(hex, SHA_EMPTY);
	digest_sha256_hex(NULL, 0, hex);
	assert_string_equal(hex, SHA_EMPTY);
	digest_sha256_hex("abc", 3, hex);
	assert_string_equal(hex, SHA_ABC);
	digest_sha256_hex(msg448, strlen(msg448), hex);
	assert_string_equal(hex, SHA_448);
}

static void
test_digest_streamed_empty_and_abc(void **state)
{
	struct digest *d;
	char hex[DIGEST_HEX_LEN + 1];

	(void)state;
	d = digest_new();
	digest_final_hex(d, hex);
	assert_string_equal(hex, SHA_EMPTY);
	/* final resets: the next message starts clean */
	digest_update(d, "a", 1);
	digest_update(d, "", 0);
	digest_update(d, "bc", 2);
	digest_final_hex(d, hex);
	assert_string_equal(hex, SHA_ABC);
	digest_free(d);
}

static void
test_digest_streamed_in_pieces_equals_one_shot(void **state)
{
	static const size_t steps[] = {1, 3, 63, 64, 65, 1000, 4096};
	const size_t n = 1000000;
	char *a;
	char one[DIGEST_HEX_LEN + 1], hex[DIGEST_HEX_LEN + 1];
	struct digest *d;
	size_t i, k;

	(void)state;
	a = malloc(n);
	assert_non_null(a);
	memset(a, 'a', n);
	digest_sha256_hex(a, n, one);
	assert_string_equal(one, SHA_MILLION_A);
	d = digest_new();
	for (k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
		for (i = 0; i < n; i += steps[k])
			digest_update(d, a + i,
			    n - i < steps[k] ? n - i : steps[k]);
		digest_final_hex(d, hex);
		assert_string_equal(hex, one);
	}
	free(a);
	digest_free(d);
}

static void
test_digest_reset_discards_input(void **state)
{
	struct digest *d;
	char hex[DIGEST_HEX_LEN + 1];

	(void)state;
	d = digest_new();
	digest_update(d, "garbage", 7);
	digest_reset(d);
	digest_update(d, "abc", 3);
	digest_final_hex(d, hex);
	assert_string_equal(hex, SHA_ABC);
	digest_free(d);
	digest_free(NULL);
}

static void
test_digest_is_hex_wants_64_lower_case_digits(void **state)
{
	char s[DIGEST_HEX_LEN + 2];

	(void)state;
	assert_true(digest_is_hex(SHA_ABC));
	assert_false(digest_is_hex(NULL));
	assert_false(digest_is_hex(""));
	memcpy(s, SHA_ABC, sizeof(SHA_ABC));
	s[10] = 'A';
	assert_false(digest_is_hex(s));
	s[10] = 'g';
	assert_false(digest_is_hex(s));
	memcpy(s, SHA_ABC, sizeof(SHA_ABC));
	s[63] = '\0';
	assert_false(digest_is_hex(s)); /* 63 digits */
	memcpy(s, SHA_ABC, sizeof(SHA_ABC));
	s[64] = '0';
	s[65] = '\0';
	assert_false(digest_is_hex(s)); /* 65 digits */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_digest_one_shot_known_vectors),
	    cmocka_unit_test(test_digest_streamed_empty_and_abc),
	    cmocka_unit_test(test_digest_streamed_in_pieces_equals_one_shot),
	    cmocka_unit_test(test_digest_reset_discards_input),
	    cmocka_unit_test(test_digest_is_hex_wants_64_lower_case_digits),
	};

	return cmocka_run_group_tests_name("digest", tests, NULL, NULL);
}
