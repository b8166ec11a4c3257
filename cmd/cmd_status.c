/* SPDX-License-Identifier: MIT */
/*
 * cmd/cmd_status.c - popvault status: per account, what the state db
 * knows (messages and bytes stored, pending, deleted on the server, the
 * newest backup, the last good and the last failed run, the age of the
 * last good one); --check turns it into a monitoring check.
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
#include "store.h"
#include "xmem.h"

enum { OPT_STATE = 256, OPT_JSON, OPT_CHECK, OPT_MAX_AGE };

static const struct option opts[] = {
    {"state", required_argument, NULL, OPT_STATE},
    {"config", required_argument, NULL, 'C'},
    {"json", no_argument, NULL, OPT_JSON},
    {"check", no_argument, NULL, OPT_CHECK},
    {"max-age", required_argument, NULL, OPT_MAX_AGE},
    {"log-format", required_argument, NULL, CMD_OPT_LOG_FORMAT},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* status --check: some account is stale.  Not a sysexits code: those
 * (64-78) say the check itself could not be made (no state: 78). */
#define STATUS_EX_STALE 1

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: popvault status [--state FILE] [-C FILE] [--json]\n"
	    "       popvault status --check [--max-age DURATION] [--state FILE] [-C FILE] [--json]\n"
	    "\n"
	    "Per account: messages and bytes archived, rows still pending, messages\n"
	    "deleted from the server, the newest message, the last good and failed run\n"
	    "(and its error), and the age of the last good run.\n"
	    "\n"
	    "  --check                 exit %d, with one line per stale account, when an\n"
	    "                          account's last run failed or it never completed one\n"
	    "                          (also an account of the config the state never saw)\n"
	    "  --max-age DURATION      with --check (implied): also when its last good run\n"
	    "                          ended longer ago than DURATION (36h, 2d)\n"
	    "  --json                  one JSON object on stdout\n",
	    STATUS_EX_STALE);
}

/* One account, copied out of the state's walk (or from the config). */
struct row {
	char *account;
	struct store_status s; /* its strings point into this row */
	char *last_error, *last_code;
	char *stale; /* --check: why it is stale, or NULL */
};

struct ctx {
	bool json, check;
	size_t n;
	struct row *rows;
	size_t nrows;
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

/* "3d4h", "5h12m", "12m", "40s"; "-" for never. */
static const char *
age(int64_t secs, char *buf, size_t cap)
{
	int n;

	if (secs < 0)
		return "-";
	if (secs >= 86400)
		n = snprintf(buf, cap, "%lldd%lldh", (long long)(secs / 86400),
		    (long long)(secs % 86400 / 3600));
	else if (secs >= 3600)
		n = snprintf(buf, cap, "%lldh%lldm", (long long)(secs / 3600),
		    (long long)(secs % 3600 / 60));
	else if (secs >= 60)
		n = snprintf(buf, cap, "%lldm", (long long)(secs / 60));
	else
		n = snprintf(buf, cap, "%llds", (long long)secs);
	if (n < 0 || (size_t)n >= cap)
		return "?";
	return buf;
}

static enum pv_code
collect(void *arg, const struct store_status *s, struct pv_err *err)
{
	struct ctx *c = arg;
	struct row *r;

	(void)err;
	c->rows = xreallocarray(c->rows, c->nrows + 1, sizeof(*c->rows));
	r = &c->rows[c->nrows++];
	memset(r, 0, sizeof(*r));
	r->s = *s;
	r->account = xstrdup(s->account);
	r->last_error = s->last_error ? xstrdup(s->last_error) : NULL;
	r->last_code = s->last_code ? xstrdup(s->last_code) : NULL;
	r->s.account = r->account;
	r->s.last_error = r->last_error;
	r->s.last_code = r->last_code;
	return PV_OK;
}

static int
cmp_row(const void *a, const void *b)
{
	return strcmp(((const struct row *)a)->account,
	    ((const struct row *)b)->account);
}

/* Accounts of the config the state has never heard of: never backed
 * up (no run of theirs got as far as recording its outcome). */
static void
add_configured(struct ctx *c, const struct config *cfg)
{
	size_t i, k;

	for (i = 0; i < cfg->naccounts; i++) {
		const char *name = cfg->accounts[i].name;
		struct row *r;

		for (k = 0; k < c->nrows; k++)
			if (strcmp(c->rows[k].account, name) == 0)
				break;
		if (k < c->nrows)
			continue;
		c->rows =
		    xreallocarray(c->rows, c->nrows + 1, sizeof(*c->rows));
		r = &c->rows[c->nrows++];
		memset(r, 0, sizeof(*r));
		r->account = xstrdup(name);
		r->s.account = r->account;
	}
	if (c->nrows > 1)
		qsort(c->rows, c->nrows, sizeof(*c->rows), cmp_row);
}

/* --check: why the account is stale, or NULL when it is fresh.  Its
 * latest run failing comes first (it says most), then no good run at
 * all, then a good run too long ago (max_age 0: no limit). */
static char *
stale_reason(const struct store_status *s, int64_t now, int64_t max_age)
{
	char b[32], a[32];

	if (s->last_code != NULL && strcmp(s->last_code, "ok") != 0)
		return xasprintf("last run failed at %s (%s): %s",
		    when(s->last_fail, b, sizeof(b)), s->last_code,
		    s->last_error != NULL ? s->last_error : "no error text");
	if (s->last_ok == 0)
		return xstrdup(s->last_code == NULL && s->messages == 0
		                   ? "never backed up"
		                   : "no completed run recorded");
	if (max_age > 0 && now - s->last_ok > max_age) {
		char m[32];

		return xasprintf(
		    "last good run ended %s, %s ago: older than --max-age %s",
		    when(s->last_ok, b, sizeof(b)),
		    age(now - s->last_ok, a, sizeof(a)),
		    age(max_age, m, sizeof(m)));
	}
	return NULL;
}

static void
print_row(struct ctx *c, const struct row *r, int64_t now)
{
	const struct store_status *s = &r->s;
	char b1[32], b2[32], b3[32], hb[32], ab[32];
	/* -1: never; a clock set back counts as no time at all. */
	int64_t ago = s->last_ok == 0    ? -1
	              : now > s->last_ok ? now - s->last_ok
	                                 : 0;

	if (c->json) {
		printf("%s{\"account\":", c->n ? "," : "");
		cmd_json_str(stdout, s->account);
		printf(
		    ",\"messages\":%llu,\"bytes\":%llu,\"pending\":%llu,\"deleted\":%llu,\"newest\":",
		    (unsigned long long)s->messages,
		    (unsigned long long)s->bytes,
		    (unsigned long long)s->pending,
		    (unsigned long long)s->deleted);
		cmd_json_time(stdout, s->newest);
		printf(",\"last_ok\":");
		cmd_json_time(stdout, s->last_ok);
		printf(",\"last_fail\":");
		cmd_json_time(stdout, s->last_fail);
		printf(",\"last_error\":");
		cmd_json_str(stdout, s->last_error);
		printf(",\"last_status\":");
		cmd_json_str(stdout, s->last_code);
		printf(",\"age_seconds\":");
		if (ago >= 0)
			printf("%lld", (long long)ago);
		else
			printf("null");
		if (c->check) {
			printf(",\"stale\":");
			cmd_json_str(stdout, r->stale);
		}
		printf("}");
	} else {
		if (c->n == 0)
			printf(
			    "%-30s %8s %10s %7s %7s  %-20s %-20s %-8s %-20s\n",
			    "ACCOUNT", "MESSAGES", "BYTES", "PENDING",
			    "DELETED", "NEWEST", "LAST OK", "AGE",
			    "LAST FAILED");
		printf("%-30s %8llu %10s %7llu %7llu  %-20s %-20s %-8s %-20s\n",
		    s->account, (unsigned long long)s->messages,
		    cmd_human(s->bytes, hb, sizeof(hb)),
		    (unsigned long long)s->pending,
		    (unsigned long long)s->deleted,
		    when(s->newest, b1, sizeof(b1)),
		    when(s->last_ok, b2, sizeof(b2)), age(ago, ab, sizeof(ab)),
		    when(s->last_fail, b3, sizeof(b3)));
		if (s->last_fail != 0 && s->last_error != NULL)
			printf("  last error%s: %s\n",
			    s->last_code != NULL &&
			            strcmp(s->last_code, "ok") == 0
			        ? " (a later run succeeded)"
			        : "",
			    s->last_error);
		else if (s->last_code == NULL && s->messages == 0)
			printf("  never backed up\n");
	}
	c->n++;
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
		cmd_json_time(stdout, t->last);
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
	struct ctx c;
	const char *config_path = g->config_path, *state_opt = NULL;
	char *state_path = NULL;
	enum pv_code rc;
	int ch, status = EX_OK;
	int64_t now = cmd_now(), max_age = 0;
	size_t i, nstale = 0;

	memset(&c, 0, sizeof(c));
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
		case OPT_CHECK:
			c.check = true;
			break;
		case OPT_MAX_AGE:
			if (!config_parse_duration(optarg, &max_age) ||
			    max_age == 0) {
				fprintf(stderr,
				    "popvault: status: --max-age: '%s' is not a duration such as 36h, 2d or 90m\n",
				    optarg);
				status = EX_USAGE;
				goto out;
			}
			c.check = true;
			break;
		default:
			status = cmd_common_option(ch, optarg, usage);
			if (status >= 0)
				goto out;
			status = EX_OK;
			break;
		}
	}
	if (!cmd_no_operands("status", argc, argv)) {
		status = EX_USAGE;
		goto out;
	}
	/* The state location, and the accounts (to tell those never backed
	 * up); a config without accounts is fine.  With --state, a config
	 * only if one is named (-C). */
	rc = state_opt != NULL && config_path == NULL
	         ? PV_OK
	         : cmd_load_config(&cfg, config_path, false, &err);
	if (rc == PV_OK && state_opt != NULL) {
		free(cfg.state);
		cfg.state = xstrdup(state_opt);
	}
	if (rc == PV_OK)
		rc = cmd_state_path(&cfg, false, &state_path, &err);
	if (rc == PV_OK && access(state_path, F_OK) != 0)
		rc = pv_errf(&err, PV_ECONFIG,
		    "no state at %s: nothing has been backed up with it yet (or give --state FILE)",
		    state_path);
	if (rc == PV_OK)
		rc = store_open(state_path, STORE_READONLY, &st, &err);
	if (rc == PV_OK)
		rc = store_status_each(st, collect, &c, &err);
	if (rc != PV_OK) {
		log_errorx("%s", err.msg);
		status = pv_exitcode(rc);
		goto out;
	}
	add_configured(&c, &cfg);
	if (c.check)
		for (i = 0; i < c.nrows; i++) {
			c.rows[i].stale =
			    stale_reason(&c.rows[i].s, now, max_age);
			if (c.rows[i].stale != NULL)
				nstale++;
		}

	if (c.json) {
		printf("{\"schema_version\":%d,\"command\":\"status\",\"now\":",
		    CMD_JSON_SCHEMA_VERSION);
		cmd_json_time(stdout, now);
		printf(",\"state\":");
		cmd_json_str(stdout, state_path);
		printf(",\"accounts\":[");
	}
	if (c.json || !c.check)
		for (i = 0; i < c.nrows; i++)
			print_row(&c, &c.rows[i], now);
	if (!c.json && !c.check && c.nrows == 0)
		printf("no accounts in %s yet\n", state_path);
	/* What migrate and restore put into IMAP folders. */
	c.n = 0;
	if (c.json)
		printf("],\"targets\":[");
	if (c.json || !c.check)
		rc = store_target_status_each(st, each_target, &c, &err);
	if (c.json) {
		printf("]");
		if (c.check) {
			printf(",\"check\":{\"ok\":%s,\"max_age_seconds\":",
			    nstale == 0 && c.nrows > 0 ? "true" : "false");
			if (max_age > 0)
				printf("%lld", (long long)max_age);
			else
				printf("null");
			printf(",\"stale\":%zu}", nstale);
		}
		printf("}\n");
	}
	if (rc != PV_OK) {
		log_errorx("%s", err.msg);
		status = pv_exitcode(rc);
		goto out;
	}
	if (c.check) {
		char b[32];

		/* One line per stale account, for a monitoring system and
		 * for people; a first line that sums it up when all is well. */
		for (i = 0; i < c.nrows && !c.json; i++)
			if (c.rows[i].stale != NULL)
				printf("STALE %s: %s\n", c.rows[i].account,
				    c.rows[i].stale);
		if (c.nrows == 0) {
			if (!c.json)
				printf("STALE: no accounts in %s\n",
				    state_path);
			status = STATUS_EX_STALE;
		} else if (nstale > 0) {
			status = STATUS_EX_STALE;
		} else if (!c.json) {
			if (max_age > 0)
				printf(
				    "OK: %zu account(s), each backed up within %s and its last run good\n",
				    c.nrows, age(max_age, b, sizeof(b)));
			else
				printf(
				    "OK: %zu account(s), the last run of each good\n",
				    c.nrows);
		}
	}
out:
	for (i = 0; i < c.nrows; i++) {
		free(c.rows[i].account);
		free(c.rows[i].last_error);
		free(c.rows[i].last_code);
		free(c.rows[i].stale);
	}
	free(c.rows);
	store_close(st);
	free(state_path);
	config_free(&cfg);
	return status;
}
