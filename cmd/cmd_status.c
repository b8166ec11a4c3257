/* SPDX-License-Identifier: MIT */
/*
 * cmd/cmd_status.c - popvault status: per account, what the state db
 * knows (messages and bytes stored, pending, deleted on the server, the
 * newest backup, the last good and the last failed run).
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
#include "store.h"
#include "xmem.h"

enum { OPT_STATE = 256, OPT_JSON };

static const struct option opts[] = {
    {"state", required_argument, NULL, OPT_STATE},
    {"config", required_argument, NULL, 'C'},
    {"json", no_argument, NULL, OPT_JSON},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: popvault status [--state FILE] [-C FILE] [--json]\n"
	    "\n"
	    "Per account: messages and bytes archived, rows still pending, messages\n"
	    "deleted from the server, the newest backup, the last good and failed run.\n");
}

struct ctx {
	bool json;
	size_t n;
};

static const char *
when(int64_t t, char *buf, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0)
		return "-";
	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, cap, "%Y-%m-%d %H:%M:%SZ", &tm) == 0)
		return "?";
	return buf;
}

static void
json_time(int64_t t)
{
	char b[32];

	if (t == 0)
		printf("null");
	else
		printf("\"%s\"", when(t, b, sizeof(b)));
}

static enum pv_code
each(void *arg, const struct store_status *s, struct pv_err *err)
{
	struct ctx *c = arg;
	char b1[32], b2[32], b3[32], hb[32];

	(void)err;
	if (c->json) {
		printf("%s{\"account\":", c->n ? "," : "");
		cmd_json_str(stdout, s->account);
		printf(
		    ",\"messages\":%llu,\"bytes\":%llu,\"pending\":%llu,\"deleted\":%llu,\"newest\":",
		    (unsigned long long)s->messages,
		    (unsigned long long)s->bytes,
		    (unsigned long long)s->pending,
		    (unsigned long long)s->deleted);
		json_time(s->newest);
		printf(",\"last_ok\":");
		json_time(s->last_ok);
		printf(",\"last_fail\":");
		json_time(s->last_fail);
		printf(",\"last_error\":");
		cmd_json_str(stdout, s->last_error);
		printf("}");
	} else {
		if (c->n == 0)
			printf("%-30s %8s %10s %7s %7s  %-20s %-20s %-20s\n",
			    "ACCOUNT", "MESSAGES", "BYTES", "PENDING",
			    "DELETED", "NEWEST", "LAST OK", "LAST FAILED");
		printf("%-30s %8llu %10s %7llu %7llu  %-20s %-20s %-20s\n",
		    s->account, (unsigned long long)s->messages,
		    cmd_human(s->bytes, hb, sizeof(hb)),
		    (unsigned long long)s->pending,
		    (unsigned long long)s->deleted,
		    when(s->newest, b1, sizeof(b1)),
		    when(s->last_ok, b2, sizeof(b2)),
		    when(s->last_fail, b3, sizeof(b3)));
		if (s->last_fail > s->last_ok && s->last_error != NULL)
			printf("  last error: %s\n", s->last_error);
	}
	c->n++;
	return PV_OK;
}

static enum pv_code
each_target(void *arg, const struct store_target_status *t, struct pv_err *err)
{
	struct ctx *c = arg;
	char b[32];

	(void)err;
	if (c->json) {
		printf("%s{\"target\":", c->n ? "," : "");
		cmd_json_str(stdout, t->key);
		printf(",\"folder\":");
		cmd_json_str(stdout, t->folder);
		printf(
		    ",\"appended\":%llu,\"found\":%llu,\"intents\":%llu,\"last\":",
		    (unsigned long long)t->appended,
		    (unsigned long long)t->found,
		    (unsigned long long)t->intents);
		json_time(t->last);
		printf("}");
	} else {
		if (c->n == 0)
			printf("\n%-30s %-20s %8s %8s %7s  %-20s\n", "TARGET",
			    "FOLDER", "APPENDED", "FOUND", "INTENTS", "LAST");
		printf("%-30s %-20s %8llu %8llu %7llu  %-20s\n", t->key,
		    t->folder, (unsigned long long)t->appended,
		    (unsigned long long)t->found,
		    (unsigned long long)t->intents,
		    when(t->last, b, sizeof(b)));
	}
	c->n++;
	return PV_OK;
}

int
cmd_status(int argc, char **argv, struct globals *g)
{
	struct config cfg;
	struct pv_err err;
	struct store *st = NULL;
	struct ctx c = {false, 0};
	const char *config_path = g->config_path, *state_opt = NULL;
	char *state_path = NULL;
	enum pv_code rc;
	int ch, status = EX_OK;

	config_init(&cfg);
	while ((ch = getopt_long(argc, argv, "C:hvqd:", opts, NULL)) != -1) {
		switch (ch) {
		case OPT_STATE:
			state_opt = optarg;
			break;
		case 'C':
			config_path = optarg;
			break;
		case OPT_JSON:
			c.json = true;
			break;
		default:
			status = cmd_common_option(ch, optarg, usage);
			if (status >= 0)
				goto out;
			status = EX_OK;
			break;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "popvault: status: unexpected '%s'\n",
		    argv[optind]);
		status = EX_USAGE;
		goto out;
	}
	/* Only the state location matters here; a config without accounts
	 * is fine. */
	rc = state_opt != NULL
	         ? PV_OK
	         : cmd_load_config(&cfg, config_path, false, &err);
	if (rc == PV_OK && state_opt != NULL)
		cfg.state = xstrdup(state_opt);
	if (rc == PV_OK)
		rc = cmd_state_path(&cfg, false, &state_path, &err);
	if (rc == PV_OK && access(state_path, F_OK) != 0)
		rc = pv_errf(&err, PV_ECONFIG,
		    "no state at %s: nothing has been backed up with it yet (or give --state FILE)",
		    state_path);
	if (rc == PV_OK)
		rc = store_open(state_path, STORE_READONLY, &st, &err);
	if (rc == PV_OK) {
		if (c.json)
			printf("{\"state\":");
		if (c.json) {
			cmd_json_str(stdout, state_path);
			printf(",\"accounts\":[");
		}
		rc = store_status_each(st, each, &c, &err);
		if (!c.json && rc == PV_OK && c.n == 0)
			printf("no accounts in %s yet\n", state_path);
		/* What migrate and restore put into IMAP folders. */
		c.n = 0;
		if (c.json)
			printf("],\"targets\":[");
		if (rc == PV_OK)
			rc =
			    store_target_status_each(st, each_target, &c, &err);
		if (c.json)
			printf("]}\n");
	}
	if (rc != PV_OK) {
		fprintf(stderr, "popvault: %s\n", err.msg);
		status = pv_exitcode(rc);
	}
out:
	store_close(st);
	free(state_path);
	config_free(&cfg);
	return status;
}
