/* SPDX-License-Identifier: MIT */
/*
 * cmd/cmd_rebuild.c - popvault rebuild-state: a new state db from the
 * archive volumes alone, after the state was lost (core/rebuild.c does
 * the work); a table or one JSON object on stdout, one line per problem
 * on stderr.  Never touches an existing state.
 */
#include <sys/stat.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cmd.h"
#include "config.h"
#include "log.h"
#include "rebuild.h"
#include "store.h"

enum {
	OPT_ARCHIVE = 256,
	OPT_STATE,
	OPT_JSON,
};

static const struct option opts[] = {
    {"archive", required_argument, NULL, OPT_ARCHIVE},
    {"state", required_argument, NULL, OPT_STATE},
    {"config", required_argument, NULL, 'C'},
    {"json", no_argument, NULL, OPT_JSON},
    {"log-format", required_argument, NULL, CMD_OPT_LOG_FORMAT},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: popvault rebuild-state [--archive DIR] [--state FILE] [-C FILE] [--json]\n"
	    "\n"
	    "After the state db was lost: write a new one from the volumes in DIR.\n"
	    "Every volume is read to its end and re-hashed as verify does; each one\n"
	    "that passes is recorded as done, with every message its manifest lists,\n"
	    "so that the next backup fetches and stores nothing again.  A damaged\n"
	    "volume is skipped and named (exit 65); the others are still rebuilt.\n"
	    "FILE must not exist: an existing state is never changed (exit 73).\n"
	    "  --archive DIR   the archive directory (default: 'archive' in the config)\n"
	    "  --state FILE    the state db to create (default as for backup)\n"
	    "  --json          one JSON object on stdout\n");
}

static bool
exists(const char *path)
{
	struct stat sb;

	return lstat(path, &sb) == 0;
}

static void
print_json(const struct rebuild_report *r, const char *dir,
    const char *state_path, bool written, int status)
{
	const struct verify_problem *p;
	size_t i;

	printf("{\"schema_version\":%d,\"command\":\"rebuild-state\","
	       "\"exit\":%d,\"ok\":%s,\"archive\":",
	    CMD_JSON_SCHEMA_VERSION, status,
	    status == EX_OK ? "true" : "false");
	cmd_json_str(stdout, dir);
	printf(",\"state\":");
	cmd_json_str(stdout, state_path);
	printf(",\"written\":%s,\"messages\":%llu,\"blobs\":%llu,"
	       "\"duplicates\":%llu,\"unresolved\":%llu,\"volumes\":[",
	    written ? "true" : "false", (unsigned long long)r->messages,
	    (unsigned long long)r->blobs, (unsigned long long)r->dups,
	    (unsigned long long)r->unresolved);
	for (i = 0; i < r->nvols; i++) {
		printf("%s{\"volume\":", i ? "," : "");
		cmd_json_str(stdout, r->vols[i].name);
		printf(",\"records\":%llu,\"status\":\"%s\"}",
		    (unsigned long long)r->vols[i].records,
		    r->vols[i].rebuilt ? "rebuilt" : "skipped");
	}
	printf("],\"accounts\":[");
	for (i = 0; i < r->naccts; i++) {
		printf("%s{\"account\":", i ? "," : "");
		cmd_json_str(stdout, r->accts[i].account);
		printf(",\"messages\":%llu,\"bytes\":%llu}",
		    (unsigned long long)r->accts[i].messages,
		    (unsigned long long)r->accts[i].bytes);
	}
	printf("],\"problems\":[");
	for (i = 0; i < r->verify.nprobs; i++) {
		p = &r->verify.probs[i];
		printf("%s{\"kind\":\"%s\",\"volume\":", i ? "," : "",
		    verify_kind_name(p->kind));
		cmd_json_str(stdout, p->volume);
		printf(",\"member\":");
		cmd_json_str(stdout, p->member);
		printf(",\"detail\":");
		cmd_json_str(stdout, p->detail);
		printf("}");
	}
	printf("]}\n");
}

static void
print_table(const struct rebuild_report *r)
{
	char hb[32];
	size_t i;

	printf("%-50s %8s  %s\n", "VOLUME", "RECORDS", "STATUS");
	for (i = 0; i < r->nvols; i++)
		printf("%-50s %8llu  %s\n", r->vols[i].name,
		    (unsigned long long)r->vols[i].records,
		    r->vols[i].rebuilt ? "rebuilt" : "SKIPPED");
	if (r->naccts > 0)
		printf("\n%-30s %8s %10s\n", "ACCOUNT", "MESSAGES", "BYTES");
	for (i = 0; i < r->naccts; i++)
		printf("%-30s %8llu %10s\n", r->accts[i].account,
		    (unsigned long long)r->accts[i].messages,
		    cmd_human(r->accts[i].bytes, hb, sizeof(hb)));
}

int
cmd_rebuild_state(int argc, char **argv, struct globals *g)
{
	struct config cfg;
	struct pv_err err;
	struct store *st = NULL;
	struct rebuild_report rep;
	const char *config_path = g->config_path, *state_opt = NULL;
	const char *archive_opt = NULL;
	char *state_path = NULL;
	bool json = false, damaged, written = false;
	int64_t run_id = 0;
	enum pv_code rc;
	int ch, status = EX_OK;
	size_t i;

	config_init(&cfg);
	memset(&rep, 0, sizeof(rep));
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
		case OPT_JSON:
			json = true;
			break;
		default:
			status = cmd_common_option(ch, optarg, usage);
			if (status >= 0)
				goto out;
			status = EX_OK;
			break;
		}
	}
	if (!cmd_no_operands("rebuild-state", argc, argv)) {
		status = EX_USAGE;
		goto out;
	}
	rc = cmd_locations(&cfg, config_path, archive_opt, state_opt, &err);
	if (rc == PV_OK)
		rc = cmd_state_path(&cfg, true, &state_path, &err);
	if (rc != PV_OK) {
		log_errorx("rebuild-state: %s", err.msg);
		status = pv_exitcode(rc);
		goto out;
	}
	/* Looked at first for the message; store_open (STORE_NEW) looks
	 * again under the lock, and never writes over one either. */
	if (exists(state_path)) {
		log_errorx(
		    "rebuild-state: state %s exists: rebuild-state only writes a new state and never changes an existing one; move it aside, or give --state with a new file",
		    state_path);
		status = EX_CANTCREAT;
		goto out;
	}
	rc = store_open(state_path, STORE_NEW, &st, &err);
	if (rc == PV_OK)
		rc = store_run_begin(st, "rebuild-state", cmd_now(), &run_id,
		    &err);
	if (rc == PV_OK)
		rc = rebuild_run(cfg.archive, st, g->abort, &rep, &err);
	if (rc != PV_OK) {
		log_errorx("rebuild-state: %s", err.msg);
		status = rc == PV_ECONFIG && exists(state_path)
		             ? EX_CANTCREAT
		             : pv_exitcode(rc);
		goto out;
	}
	for (i = 0; i < rep.verify.nprobs; i++) {
		const struct verify_problem *p = &rep.verify.probs[i];

		log_errorx("rebuild-state: error: %s%s%s",
		    p->volume != NULL ? p->volume : "",
		    p->volume != NULL ? ": " : "", p->detail);
	}
	for (i = 0; i < rep.nvols; i++)
		if (!rep.vols[i].rebuilt)
			log_errorx(
			    "rebuild-state: volume %s is damaged: skipped; its messages still on the server will be fetched again",
			    rep.vols[i].name);
	damaged =
	    rep.nskipped > 0 || rep.unresolved > 0 || rep.verify.nerrors > 0;
	rc = store_run_end(st, run_id, cmd_now(),
	    damaged ? pv_codename(PV_EMSG) : "ok", &err);
	if (rc == PV_OK)
		rc = store_publish(st, &err);
	if (rc != PV_OK) {
		log_errorx("rebuild-state: %s", err.msg);
		status = pv_exitcode(rc);
		goto report;
	}
	written = true;
	if (damaged)
		status = EX_DATAERR;
	log_info("rebuild-state: state %s: %zu of %zu volume(s), %llu "
	         "message(s) of %zu account(s)%s",
	    state_path, rep.nvols - rep.nskipped, rep.nvols,
	    (unsigned long long)rep.messages, rep.naccts,
	    damaged ? "; some volumes or messages are missing from it" : "");
report:
	if (json)
		print_json(&rep, cfg.archive, state_path, written, status);
	else
		print_table(&rep);
out:
	rebuild_report_free(&rep);
	store_close(st);
	free(state_path);
	config_free(&cfg);
	return status;
}
