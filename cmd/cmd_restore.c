/* SPDX-License-Identifier: MIT */
/*
 * cmd/cmd_restore.c - popvault restore: archive volumes -> an IMAP folder,
 * from the volumes alone; the summary on stdout.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "config.h"
#include "log.h"
#include "msg.h"
#include "net.h"
#include "restore.h"
#include "store.h"
#include "upload.h"
#include "xmem.h"

enum {
	OPT_ARCHIVE = 256,
	OPT_STATE,
	OPT_TO,
	OPT_CAFILE,
	OPT_PLAINTEXT,
	OPT_ACCOUNT,
	OPT_SINCE,
	OPT_UNTIL,
	OPT_MSGID,
	OPT_FLAGS,
	OPT_TPWFILE,
	OPT_TPWCMD,
	OPT_JSON,
	OPT_TIMEOUT,
	OPT_CONNECT_TIMEOUT,
	OPT_TWINDOW,
};

static const struct option opts[] = {
    {"archive", required_argument, NULL, OPT_ARCHIVE},
    {"state", required_argument, NULL, OPT_STATE},
    {"config", required_argument, NULL, 'C'},
    {"to", required_argument, NULL, OPT_TO},
    {"cafile", required_argument, NULL, OPT_CAFILE},
    {"allow-plaintext", no_argument, NULL, OPT_PLAINTEXT},
    {"account", required_argument, NULL, OPT_ACCOUNT},
    {"since", required_argument, NULL, OPT_SINCE},
    {"until", required_argument, NULL, OPT_UNTIL},
    {"message-id", required_argument, NULL, OPT_MSGID},
    {"flags", required_argument, NULL, OPT_FLAGS},
    {"target-password-file", required_argument, NULL, OPT_TPWFILE},
    {"target-password-command", required_argument, NULL, OPT_TPWCMD},
    {"json", no_argument, NULL, OPT_JSON},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT},
    {"target-window", required_argument, NULL, OPT_TWINDOW},
    {"log-format", required_argument, NULL, CMD_OPT_LOG_FORMAT},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: popvault restore --archive DIR --to URL [OPTIONS]\n"
	    "\n"
	    "Upload the messages of the archive volumes in DIR into an IMAP folder, with\n"
	    "their original dates, each distinct message once; what the folder holds\n"
	    "already is skipped, so it can be run again.  Needs the volumes only.\n"
	    "\n"
	    "  -C, --config FILE        a config file: its archive, state, target_* and\n"
	    "                           timeout keys (the command line wins)\n"
	    "  --archive DIR            the archive directory\n"
	    "  --to URL                 imaps://user@host[:port]/Folder (TLS), or imap://...\n"
	    "                           (STARTTLS required); created if missing\n"
	    "  --account NAME           only this account's messages (its name as configured,\n"
	    "                           e.g. alice@pop.example.com; see 'popvault status')\n"
	    "  --since YYYY-MM-DD       only messages dated on or after that day (UTC)\n"
	    "  --until YYYY-MM-DD       only messages dated on or before that day (UTC)\n"
	    "  --message-id ID          only the message(s) with this Message-ID\n"
	    "  --flags FLAGS            flags of the uploaded messages (default \\Seen; \"\" none)\n"
	    "  --state FILE             records the uploads (created if missing)\n"
	    "  --target-password-file F, --target-password-command CMD\n"
	    "                           the password (else $POPVAULT_TARGET_PASSWORD)\n"
	    "  --cafile PEM             trust these CA certificates instead of the system's\n"
	    "  --allow-plaintext        go on without TLS if the server offers no STARTTLS\n"
	    "  --timeout DURATION       give up on a silent server after this (default 60s)\n"
	    "  --connect-timeout DURATION   connect + TLS + login (default 30s)\n"
	    "  --target-window N        APPENDs in flight with LITERAL+ (default 32)\n"
	    "  --json                   the summary as JSON on stdout\n");
}

/* "YYYY-MM-DD" as the unix time of that day's start (UTC). */
static bool
parse_day(const char *s, int64_t *out)
{
	struct tm tm;
	int y, m, d, n = 0;
	time_t t;

	if (strlen(s) != 10 ||
	    sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10 ||
	    y < 1970 || m < 1 || m > 12 || d < 1 || d > 31)
		return false;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	t = timegm(&tm);
	if (t == (time_t)-1 || tm.tm_mday != d)
		return false; /* 2024-02-31 */
	*out = (int64_t)t;
	return true;
}

/* Test hook (tests/integration/README): POPVAULT_TEST_STOP_AFTER=k
 * ends the process after the k-th state change, as for backup. */
static long stop_after, steps;

static void
restore_step(void *arg, const char *what)
{
	(void)arg;
	steps++;
	log_debug(LOG_ENGINE, "step %ld: %s", steps, what);
	if (stop_after > 0 && steps == stop_after)
		_exit(100);
}

int
cmd_restore(int argc, char **argv, struct globals *g)
{
	struct config cfg;
	struct config_target tgt;
	struct restore_filter f;
	struct restore_stats s;
	struct upload_conf uc;
	struct net_conf nc;
	struct pv_err err;
	struct store *st = NULL;
	const char *config_path = g->config_path, *archive_opt = NULL;
	const char *state_opt = NULL, *to = NULL, *cafile = NULL;
	const char *tpwfile = NULL, *tpwcmd = NULL, *flags = NULL;
	char *state_path = NULL, *tpw = NULL, *msgid = NULL;
	bool plaintext = false, json = false;
	enum pv_code rc = PV_OK;
	int64_t run_id = 0, started = cmd_now(), d;
	int64_t t0 = cmd_mono_ms();
	int ch, status = EX_OK;
	unsigned window = 0;
	const char *env;

	config_init(&cfg);
	memset(&tgt, 0, sizeof(tgt));
	memset(&f, 0, sizeof(f));
	memset(&s, 0, sizeof(s));
	while ((ch = getopt_long(argc, argv, "C:hvqd:", opts, NULL)) != -1) {
		switch (ch) {
		case OPT_ARCHIVE:
			archive_opt = optarg;
			break;
		case OPT_STATE:
			state_opt = optarg;
			break;
		case 'C':
			config_path = optarg;
			break;
		case OPT_TO:
			to = optarg;
			break;
		case OPT_CAFILE:
			cafile = optarg;
			break;
		case OPT_PLAINTEXT:
			plaintext = true;
			break;
		case OPT_ACCOUNT:
			f.account = optarg;
			break;
		case OPT_SINCE:
		case OPT_UNTIL:
			if (!parse_day(optarg, &d)) {
				fprintf(stderr,
				    "popvault: restore: '%s' is not a day such as 2024-01-31\n",
				    optarg);
				status = EX_USAGE;
				goto out;
			}
			if (ch == OPT_SINCE)
				f.since = d;
			else
				f.until = d + 86400; /* through that day */
			break;
		case OPT_MSGID:
			free(msgid);
			msgid = strchr(optarg, '<') != NULL
			            ? msg_normalize_id(optarg, strlen(optarg))
			            : NULL;
			if (msgid == NULL) {
				char *b = xasprintf("<%s>", optarg);

				msgid = msg_normalize_id(b, strlen(b));
				free(b);
			}
			if (msgid == NULL) {
				fprintf(stderr,
				    "popvault: restore: '%s' is not a Message-ID\n",
				    optarg);
				status = EX_USAGE;
				goto out;
			}
			f.message_id = msgid;
			break;
		case OPT_FLAGS:
			flags = optarg;
			break;
		case OPT_TPWFILE:
			tpwfile = optarg;
			break;
		case OPT_TPWCMD:
			tpwcmd = optarg;
			break;
		case OPT_JSON:
			json = true;
			break;
		case OPT_TWINDOW:
			if (!cmd_parse_window(optarg, &window)) {
				status = EX_USAGE;
				goto out;
			}
			break;
		case OPT_TIMEOUT:
		case OPT_CONNECT_TIMEOUT:
			if (!config_parse_duration(optarg, &d) || d == 0 ||
			    d > 86400) {
				fprintf(stderr,
				    "popvault: restore: '%s' is not a duration such as 60s or 5m\n",
				    optarg);
				status = EX_USAGE;
				goto out;
			}
			if (ch == OPT_TIMEOUT)
				cfg.timeout_ms = (long)d * 1000;
			else
				cfg.connect_timeout_ms = (long)d * 1000;
			break;
		default:
			status = cmd_common_option(ch, optarg, usage);
			if (status >= 0)
				goto out;
			status = EX_OK;
			break;
		}
	}
	if (!cmd_no_operands("restore", argc, argv)) {
		status = EX_USAGE;
		goto out;
	}
	if (f.since != 0 && f.until != 0 && f.until <= f.since) {
		fprintf(stderr,
		    "popvault: restore: --until is before --since: nothing would be selected\n");
		status = EX_USAGE;
		goto out;
	}
	rc = cmd_locations(&cfg, config_path, archive_opt, state_opt, &err);
	if (rc != PV_OK) {
		log_errorx("restore: %s", err.msg);
		status = pv_exitcode(rc);
		goto out;
	}
	cmd_target_defaults(&cfg, &to, &tpwfile, &tpwcmd, &cafile, &flags);
	if (to == NULL) {
		fprintf(stderr,
		    "popvault: restore: no target: give --to imaps://user@host/Folder or 'target' in the config\n");
		status = EX_USAGE;
		goto out;
	}
	if (rc == PV_OK)
		rc = config_parse_target(to, &tgt, &err);
	if (rc == PV_OK)
		rc = cmd_target_password(tpwfile, tpwcmd, &tpw, &err);
	if (rc == PV_OK)
		rc = cmd_state_path(&cfg, true, &state_path, &err);
	if (rc == PV_OK)
		rc = store_open(state_path, STORE_CREATE, &st, &err);
	if (rc == PV_OK)
		rc = store_run_begin(st, "restore", started, &run_id, &err);
	if (rc != PV_OK) {
		log_errorx("restore: %s", err.msg);
		status = pv_exitcode(rc);
		goto out;
	}
	cmd_target_netconf(&tgt, &cfg, tpw, cafile, plaintext, g->abort, &nc);
	memset(&uc, 0, sizeof(uc));
	uc.nc = &nc;
	uc.key = tgt.key;
	uc.folder = tgt.folder;
	uc.flags = flags;
	uc.mem_max = cfg.mem_max;
	uc.tmpdir = cfg.tmpdir;
	uc.window = window;
	env = getenv("POPVAULT_TEST_STOP_AFTER");
	if (env != NULL) {
		stop_after = strtol(env, NULL, 10);
		uc.step = restore_step;
	}
	rc = restore_run(st, cfg.archive, &f, &uc, g->abort, &s, &err);
	if (rc != PV_OK)
		log_errorx("restore: %s", err.msg);
	log_info(
	    "restore: %llu volume(s) read, %llu message(s) selected, %llu uploaded, %llu already in the target, %llu failed",
	    (unsigned long long)s.volumes, (unsigned long long)s.selected,
	    (unsigned long long)s.uploaded, (unsigned long long)s.present,
	    (unsigned long long)s.failed);
	status = pv_exitcode(rc);
	{
		struct pv_err e2;

		if (store_run_end(st, run_id, cmd_now(), pv_codename(rc),
		        &e2) != PV_OK) {
			log_errorx("%s", e2.msg);
			if (status == EX_OK)
				status = pv_exitcode(PV_EIO);
		}
	}
	if (json) {
		printf(
		    "{\"schema_version\":%d,\"command\":\"restore\",\"ok\":%s,\"exit\":%d,\"started\":",
		    CMD_JSON_SCHEMA_VERSION, status == EX_OK ? "true" : "false",
		    status);
		cmd_json_time(stdout, started);
		printf(",\"duration_ms\":%lld,\"archive\":",
		    (long long)(cmd_mono_ms() - t0));
		cmd_json_str(stdout, cfg.archive);
		printf(",\"folder\":");
		cmd_json_str(stdout, tgt.folder);
		printf(
		    ",\"volumes\":%llu,\"damaged\":%llu,\"records\":%llu,\"selected\":%llu,\"uploaded\":%llu,\"present\":%llu,\"failed\":%llu,\"bytes\":%llu,\"error\":",
		    (unsigned long long)s.volumes,
		    (unsigned long long)s.damaged,
		    (unsigned long long)s.records,
		    (unsigned long long)s.selected,
		    (unsigned long long)s.uploaded,
		    (unsigned long long)s.present, (unsigned long long)s.failed,
		    (unsigned long long)s.bytes);
		cmd_json_str(stdout, rc == PV_OK ? NULL : err.msg);
		printf("}\n");
	} else {
		printf("%-8s %8s %8s %8s %8s %8s  %s\n", "VOLUMES", "SELECTED",
		    "UPLOADED", "PRESENT", "FAILED", "DAMAGED", "STATUS");
		printf("%-8llu %8llu %8llu %8llu %8llu %8llu  %s\n",
		    (unsigned long long)s.volumes,
		    (unsigned long long)s.selected,
		    (unsigned long long)s.uploaded,
		    (unsigned long long)s.present, (unsigned long long)s.failed,
		    (unsigned long long)s.damaged, pv_codename(rc));
	}
out:
	store_close(st);
	free(state_path);
	free(msgid);
	xfree_secret(tpw);
	config_target_free(&tgt);
	config_free(&cfg);
	return status;
}
