/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_config.c - config file parser, --from URLs, durations
 * and sizes, the 0600 rule for files holding a password.
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

#include "config.h"

static char *
write_tmp(const char *text, mode_t mode)
{
	char tmpl[] = "/tmp/pv-config-XXXXXX";
	int fd = mkstemp(tmpl);
	size_t n = strlen(text);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, n), (ssize_t)n);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
	return strdup(tmpl);
}

static enum pv_code
load(const char *text, mode_t mode, struct config *c, struct pv_err *err)
{
	char *path = write_tmp(text, mode);
	enum pv_code rc;

	config_init(c);
	rc = config_load(c, path, err);
	if (rc == PV_OK)
		rc = config_finish(c, err);
	unlink(path);
	free(path);
	return rc;
}

static void
test_config_accounts_inherit_defaults(void **state)
{
	struct config c;
	struct pv_err err;

	(void)state;
	assert_int_equal(load("# nightly\n"
	                      "defaults\n"
	                      "archive /srv/mail\n"
	                      "cafile /etc/ca.pem\n"
	                      "delete_after 30d\n"
	                      "\n"
	                      "account work\n"
	                      "from pop3s://alice@pop.example.com:995\n"
	                      "passwordeval \"pass show mail/work\"\n"
	                      "account home\n"
	                      "host pop.example.org\n"
	                      "user bob\n"
	                      "tls starttls\n"
	                      "delete no\n",
	                     0644, &c, &err),
	    PV_OK);
	assert_int_equal(c.naccounts, 2);
	assert_string_equal(c.archive, "/srv/mail");
	assert_string_equal(c.accounts[0].name, "work");
	assert_string_equal(c.accounts[0].host, "pop.example.com");
	assert_int_equal(c.accounts[0].port, 995);
	assert_string_equal(c.accounts[0].user, "alice");
	assert_string_equal(c.accounts[0].passwordeval, "pass show mail/work");
	assert_string_equal(c.accounts[0].cafile, "/etc/ca.pem");
	assert_int_equal(c.accounts[0].keep, CONFIG_DELETE_AFTER);
	assert_int_equal(c.accounts[0].delete_after, 30 * 86400);
	assert_int_equal(c.accounts[1].tls, CONFIG_TLS_STARTTLS);
	assert_int_equal(c.accounts[1].keep, CONFIG_KEEP);
	assert_string_equal(c.accounts[1].cafile, "/etc/ca.pem");
	config_free(&c);
}

static void
test_config_error_names_file_and_line(void **state)
{
	struct config c;
	struct pv_err err;

	(void)state;
	assert_int_equal(load("defaults\narchive /x\naccount a\nhots h\n", 0600,
	                     &c, &err),
	    PV_ECONFIG);
	assert_non_null(strstr(err.msg, ":4: unknown key 'hots'"));
	config_free(&c);

	assert_int_equal(load("account a\nport 99999\n", 0600, &c, &err),
	    PV_ECONFIG);
	assert_non_null(strstr(err.msg, ":2: port must be"));
	config_free(&c);

	assert_int_equal(load("account a\nuser \"bob\n", 0600, &c, &err),
	    PV_ECONFIG);
	assert_non_null(strstr(err.msg, ":2: unterminated"));
	config_free(&c);

	assert_int_equal(load("account a\nhost h\nuser u\narchive /x\n", 0600,
	                     &c, &err),
	    PV_ECONFIG);
	assert_non_null(strstr(err.msg, "put it under 'defaults'"));
	config_free(&c);
}

/* jobs: accounts at once, 1 to 64, default 4, run-wide. */
static void
test_config_jobs(void **state)
{
	static const char *bad[] = {"0", "65", "x", "4x", "-1", "1e3"};
	struct config c;
	struct pv_err err;
	char text[128];
	size_t i;

	(void)state;
	assert_int_equal(load("account a\nhost h\nuser u\n", 0600, &c, &err),
	    PV_OK);
	assert_int_equal(c.jobs, CONFIG_JOBS_DEFAULT);
	config_free(&c);
	assert_int_equal(load("defaults\njobs 64\naccount a\nhost h\nuser u\n",
	                     0600, &c, &err),
	    PV_OK);
	assert_int_equal(c.jobs, 64);
	config_free(&c);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text),
		    "defaults\njobs \"%s\"\naccount a\nhost h\nuser u\n",
		    bad[i]);
		assert_int_equal(load(text, 0600, &c, &err), PV_ECONFIG);
		assert_non_null(
		    strstr(err.msg, ":2: jobs must be a number from 1 to 64"));
		config_free(&c);
	}
	/* Run-wide: not in an account. */
	assert_int_equal(load("account a\nhost h\nuser u\njobs 2\n", 0600, &c,
	                     &err),
	    PV_ECONFIG);
	assert_non_null(strstr(err.msg, "put it under 'defaults'"));
	config_free(&c);
}

/* retries and retry_delay: run-wide, 0 to 10 and 1s to 1h. */
static void
test_config_retries(void **state)
{
	static const char *const bad[][2] = {
	    {"retries 11", ":2: retries must be a number from 0 to 10"},
	    {"retries -1", ":2: retries must be a number from 0 to 10"},
	    {"retries x", ":2: retries must be a number from 0 to 10"},
	    {"retry_delay 0", ":2: retry_delay must be a duration from 1s"},
	    {"retry_delay 2h", ":2: retry_delay must be a duration from 1s"},
	    {"retry_delay soon", ":2: retry_delay must be a duration from 1s"},
	};
	struct config c;
	struct pv_err err;
	char text[128];
	size_t i;

	(void)state;
	assert_int_equal(load("account a\nhost h\nuser u\n", 0600, &c, &err),
	    PV_OK);
	assert_int_equal(c.retries, CONFIG_RETRIES_DEFAULT);
	assert_int_equal(c.retry_delay, CONFIG_RETRY_DELAY_DEFAULT);
	config_free(&c);
	assert_int_equal(load("defaults\nretries 10\nretry_delay 5m\n"
	                      "account a\nhost h\nuser u\n",
	                     0600, &c, &err),
	    PV_OK);
	assert_int_equal(c.retries, 10);
	assert_int_equal(c.retry_delay, 300);
	config_free(&c);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text),
		    "defaults\n%s\naccount a\nhost h\nuser u\n", bad[i][0]);
		assert_int_equal(load(text, 0600, &c, &err), PV_ECONFIG);
		assert_non_null(strstr(err.msg, bad[i][1]));
		config_free(&c);
	}
	assert_int_equal(load("account a\nhost h\nuser u\nretries 2\n", 0600,
	                     &c, &err),
	    PV_ECONFIG);
	assert_non_null(strstr(err.msg, "put it under 'defaults'"));
	config_free(&c);
}

static void
test_config_missing_fields_are_errors(void **state)
{
	struct config c;
	struct pv_err err;

	(void)state;
	assert_int_equal(load("account a\nuser u\n", 0600, &c, &err),
	    PV_ECONFIG);
	assert_non_null(strstr(err.msg, "account a has no host"));
	config_free(&c);
	assert_int_equal(load("account a\nhost h\nuser u\ntls off\n", 0600, &c,
	                     &err),
	    PV_ECONFIG);
	assert_non_null(strstr(err.msg, "allow_plaintext"));
	config_free(&c);
	assert_int_equal(load("", 0600, &c, &err), PV_OK);
	assert_int_equal(c.naccounts, 0);
	config_free(&c);
}

static void
test_config_password_needs_private_file(void **state)
{
	struct config c;
	struct pv_err err;
	const char *text = "account a\nhost h\nuser u\npassword s3cret\n";

	(void)state;
	assert_int_equal(load(text, 0644, &c, &err), PV_ECONFIG);
	assert_non_null(strstr(err.msg, "chmod 600"));
	assert_null(strstr(err.msg, "s3cret"));
	config_free(&c);
	assert_int_equal(load(text, 0600, &c, &err), PV_OK);
	assert_string_equal(c.accounts[0].password, "s3cret");
	config_free(&c);
}

static void
test_config_from_url(void **state)
{
	struct config c;
	struct pv_err err;

	(void)state;
	config_init(&c);
	assert_int_equal(config_add_url(&c, "pop3s://alice@127.0.0.1:10995",
	                     &err),
	    PV_OK);
	assert_int_equal(config_add_url(&c, "pop3://bob@[::1]", &err), PV_OK);
	assert_string_equal(c.accounts[0].name, "alice@127.0.0.1:10995");
	assert_int_equal(c.accounts[0].tls, CONFIG_TLS_IMPLICIT);
	assert_int_equal(c.accounts[0].port, 10995);
	assert_string_equal(c.accounts[1].host, "::1");
	assert_int_equal(c.accounts[1].tls, CONFIG_TLS_STARTTLS);
	assert_string_equal(c.accounts[1].name, "bob@::1");
	assert_int_equal(config_add_url(&c, "pop3s://alice@127.0.0.1:10995",
	                     &err),
	    PV_EUSAGE);
	assert_int_equal(config_add_url(&c, "imap://x@h", &err), PV_EUSAGE);
	assert_int_equal(config_add_url(&c, "pop3s://h", &err), PV_EUSAGE);
	assert_int_equal(config_add_url(&c, "pop3s://u@h:0", &err), PV_EUSAGE);
	assert_int_equal(config_add_url(&c, "pop3s://u@h:12x", &err),
	    PV_EUSAGE);
	assert_int_equal(config_add_url(&c, "pop3s://u:pw@h", &err), PV_EUSAGE);
	assert_null(strstr(err.msg, "pw@"));
	assert_int_equal(config_add_url(&c, "pop3s://u@h/INBOX", &err),
	    PV_EUSAGE);
	assert_int_equal(c.naccounts, 2);
	config_free(&c);
}

static void
test_config_durations_and_sizes(void **state)
{
	int64_t d;
	uint64_t s;

	(void)state;
	assert_true(config_parse_duration("30d", &d));
	assert_int_equal(d, 30 * 86400);
	assert_true(config_parse_duration("90m", &d));
	assert_int_equal(d, 5400);
	assert_true(config_parse_duration("45", &d));
	assert_int_equal(d, 45);
	assert_false(config_parse_duration("d", &d));
	assert_false(config_parse_duration("-3d", &d));
	assert_false(config_parse_duration("3dd", &d));
	assert_false(config_parse_duration("99999999999999999999d", &d));
	assert_true(config_parse_size("10M", &s));
	assert_int_equal(s, 10 * 1024 * 1024);
	assert_true(config_parse_size("512", &s));
	assert_int_equal(s, 512);
	assert_false(config_parse_size("1T", &s));
	assert_false(config_parse_size("", &s));
}

static void
test_config_target_url(void **state)
{
	struct config_target t;
	struct pv_err err;

	(void)state;
	assert_int_equal(
	    config_parse_target(
	        "imaps://al@mx.example:1993/Archiv%20M%C3%BCller/2024", &t,
	        &err),
	    PV_OK);
	assert_true(t.implicit_tls);
	assert_string_equal(t.user, "al");
	assert_string_equal(t.host, "mx.example");
	assert_int_equal(t.port, 1993);
	assert_string_equal(t.folder, "Archiv M\xc3\xbcller/2024");
	assert_string_equal(t.key, "al@mx.example:1993");
	config_target_free(&t);

	/* STARTTLS, no folder: INBOX; no port: the key has none. */
	assert_int_equal(config_parse_target("imap://bob@[::1]", &t, &err),
	    PV_OK);
	assert_false(t.implicit_tls);
	assert_string_equal(t.host, "::1");
	assert_string_equal(t.folder, "INBOX");
	assert_string_equal(t.key, "bob@::1");
	config_target_free(&t);

	/* Refused: another scheme, a password, a query, bad or NUL
	 * escapes, no user. */
	assert_int_equal(config_parse_target("pop3s://a@b/X", &t, &err),
	    PV_EUSAGE);
	assert_int_equal(config_parse_target("imaps://a:pw@b/X", &t, &err),
	    PV_EUSAGE);
	assert_int_equal(config_parse_target("imaps://a@b/X?y", &t, &err),
	    PV_EUSAGE);
	assert_int_equal(config_parse_target("imaps://a@b/X%2", &t, &err),
	    PV_EUSAGE);
	assert_int_equal(config_parse_target("imaps://a@b/X%zz", &t, &err),
	    PV_EUSAGE);
	assert_int_equal(config_parse_target("imaps://a@b/X%00", &t, &err),
	    PV_EUSAGE);
	assert_int_equal(config_parse_target("imaps://b/X", &t, &err),
	    PV_EUSAGE);
	assert_int_equal(config_parse_target("imaps://a@b:0/X", &t, &err),
	    PV_EUSAGE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_config_accounts_inherit_defaults),
	    cmocka_unit_test(test_config_error_names_file_and_line),
	    cmocka_unit_test(test_config_missing_fields_are_errors),
	    cmocka_unit_test(test_config_password_needs_private_file),
	    cmocka_unit_test(test_config_from_url),
	    cmocka_unit_test(test_config_target_url),
	    cmocka_unit_test(test_config_durations_and_sizes),
	    cmocka_unit_test(test_config_jobs),
	    cmocka_unit_test(test_config_retries),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
