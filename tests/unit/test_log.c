/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_log.c - the two formats of stderr: "popvault: " lines,
 * and syslog priorities for journald, one record a line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

/* Run fn with stderr going to a temporary file; return what it wrote
 * (free()). */
static char *
capture(void (*fn)(void))
{
	FILE *tmp = tmpfile();
	int saved, n;
	long len;
	char *out;

	assert_non_null(tmp);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
	fn();
	fflush(stderr);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	len = ftell(tmp);
	assert_true(len >= 0);
	out = malloc((size_t)len + 1);
	assert_non_null(out);
	rewind(tmp);
	n = (int)fread(out, 1, (size_t)len, tmp);
	assert_int_equal(n, len);
	out[len] = '\0';
	fclose(tmp);
	return out;
}

static void
every_level(void)
{
	log_errorx("account %s: failed", "a");
	errno = ENOENT;
	log_warn("open %s", "f");
	log_warnx("careful");
	log_info("account %s: 3 new", "a");
	log_verbose("more");
	log_debug(LOG_POP3, "C: %s", "STAT");
	log_debug(LOG_IMAP, "not traced");
}

static void
test_log_text_format_is_unchanged(void **state)
{
	char *out;

	(void)state;
	log_init(1, LOG_POP3);
	log_set_format(LOG_FORMAT_TEXT);
	out = capture(every_level);
	assert_string_equal(out, "popvault: account a: failed\n"
	                         "popvault: open f: No such file or directory\n"
	                         "popvault: careful\n"
	                         "popvault: account a: 3 new\n"
	                         "popvault: more\n"
	                         "popvault: C: STAT\n");
	free(out);
}

static void
test_log_syslog_format_has_priorities(void **state)
{
	char *out;

	(void)state;
	log_init(1, LOG_POP3);
	log_set_format(LOG_FORMAT_SYSLOG);
	out = capture(every_level);
	assert_string_equal(out, "<3>account a: failed\n"
	                         "<4>open f: No such file or directory\n"
	                         "<4>careful\n"
	                         "<6>account a: 3 new\n"
	                         "<6>more\n"
	                         "<7>C: STAT\n");
	free(out);
	log_set_format(LOG_FORMAT_TEXT);
}

static void
quiet_and_multiline(void)
{
	log_info("not with -q");
	log_warnx("server said: %s", "line one\r\nline two\tend");
	log_errorx("%s", "bell\a and DEL\x7f");
}

static void
test_log_syslog_record_is_one_line(void **state)
{
	char *out;

	(void)state;
	log_init(-1, 0);
	log_set_format(LOG_FORMAT_SYSLOG);
	out = capture(quiet_and_multiline);
	assert_string_equal(out, "<4>server said: line one  line two end\n"
	                         "<3>bell  and DEL \n");
	free(out);
	log_set_format(LOG_FORMAT_TEXT);
}

static char long_text[5000];

static void
long_line(void)
{
	log_warnx("%s", long_text);
}

static void
test_log_syslog_long_record_is_whole(void **state)
{
	char *out;

	(void)state;
	memset(long_text, 'x', sizeof(long_text) - 1);
	log_init(0, 0);
	log_set_format(LOG_FORMAT_SYSLOG);
	out = capture(long_line);
	assert_int_equal(strlen(out), 3 + sizeof(long_text) - 1 + 1);
	assert_memory_equal(out, "<4>xxx", 6);
	assert_int_equal(out[strlen(out) - 1], '\n');
	free(out);
	log_set_format(LOG_FORMAT_TEXT);
}

static void
test_log_parse_format(void **state)
{
	enum log_format f = LOG_FORMAT_TEXT;

	(void)state;
	assert_true(log_parse_format("syslog", &f));
	assert_int_equal(f, LOG_FORMAT_SYSLOG);
	assert_true(log_parse_format("text", &f));
	assert_int_equal(f, LOG_FORMAT_TEXT);
	assert_false(log_parse_format("journal", &f));
	assert_false(log_parse_format("", &f));
	assert_int_equal(f, LOG_FORMAT_TEXT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_log_text_format_is_unchanged),
	    cmocka_unit_test(test_log_syslog_format_has_priorities),
	    cmocka_unit_test(test_log_syslog_record_is_one_line),
	    cmocka_unit_test(test_log_syslog_long_record_is_whole),
	    cmocka_unit_test(test_log_parse_format),
	};

	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
