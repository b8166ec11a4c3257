/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_secret.c - passwords from files and commands.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "secret.h"
#include "xmem.h"

static char *
write_tmp(const char *text, mode_t mode)
{
	char tmpl[] = "/tmp/pv-secret-XXXXXX";
	int fd = mkstemp(tmpl);
	size_t n = strlen(text);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, n), (ssize_t)n);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
	return strdup(tmpl);
}

static void
test_secret_file_first_line_only(void **state)
{
	char *path = write_tmp("p4ss word\r\nsecond line\n", 0600);
	char *pw = NULL;
	struct pv_err err;

	(void)state;
	assert_int_equal(secret_from_file(path, &pw, &err), PV_OK);
	assert_string_equal(pw, "p4ss word");
	xfree_secret(pw);
	unlink(path);
	free(path);
}

static void
test_secret_file_readable_by_others_is_refused(void **state)
{
	char *path = write_tmp("pw\n", 0644);
	char *pw = NULL;
	struct pv_err err;

	(void)state;
	assert_int_equal(secret_from_file(path, &pw, &err), PV_ECONFIG);
	assert_null(pw);
	assert_non_null(strstr(err.msg, "chmod 600"));
	unlink(path);
	free(path);
}

static void
test_secret_empty_or_missing_file_is_refused(void **state)
{
	char *path = write_tmp("\n", 0600);
	char *pw = NULL;
	struct pv_err err;

	(void)state;
	assert_int_equal(secret_from_file(path, &pw, &err), PV_ECONFIG);
	assert_int_equal(secret_from_file("/nonexistent", &pw, &err),
	    PV_ECONFIG);
	assert_null(pw);
	unlink(path);
	free(path);
}

static void
test_secret_command_output_and_failure(void **state)
{
	char *pw = NULL;
	struct pv_err err;

	(void)state;
	assert_int_equal(secret_from_command("printf 'tok en\\nrest\\n'", &pw,
	                     &err),
	    PV_OK);
	assert_string_equal(pw, "tok en");
	xfree_secret(pw);
	pw = NULL;
	assert_int_equal(secret_from_command("echo pw; exit 3", &pw, &err),
	    PV_ECONFIG);
	assert_non_null(strstr(err.msg, "exit status 3"));
	assert_null(strstr(err.msg, "pw"));
	assert_int_equal(secret_from_command("true", &pw, &err), PV_ECONFIG);
	assert_null(pw);
	/* stdin is /dev/null: a command that reads it does not hang */
	assert_int_equal(secret_from_command("cat; echo x", &pw, &err), PV_OK);
	assert_string_equal(pw, "x");
	xfree_secret(pw);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_secret_file_first_line_only),
	    cmocka_unit_test(test_secret_file_readable_by_others_is_refused),
	    cmocka_unit_test(test_secret_empty_or_missing_file_is_refused),
	    cmocka_unit_test(test_secret_command_output_and_failure),
	};

	return cmocka_run_group_tests_name("secret", tests, NULL, NULL);
}
