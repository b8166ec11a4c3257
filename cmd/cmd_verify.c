/* SPDX-License-Identifier: MIT */
/*
 * cmd/cmd_verify.c - popvault verify: re-hash every volume of the archive
 * directory and reconcile it with the state db (core/verify.c does the
 * work); a table or one JSON object on stdout, one line per problem on
 * stderr.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "cmd.h"
#include "config.h"
#include "log.h"
#include "net.h"
#include "store.h"
#include "text.h"
#include "upload.h"
#include "verify.h"
#include "xmem.h"

enum {
	OPT_ARCHIVE = 256,
	OPT_STATE,
	OPT_JSON,
	OPT_TO,
	OPT_CAFILE,
	OPT_PLAINTEXT,
	OPT_TPWFILE,
	OPT_TPWCMD,
	OPT_MESSAGES,
};

static const struct option opts[] = {
    {"archive", required_argument, NULL, OPT_ARCHIVE},
    {"state", required_argument, NULL, OPT_STATE},
    {"config", required_argument, NULL, 'C'},
    {"json", no_argument, NULL, OPT_JSON},
    {"to", required_argument, NULL, OPT_TO},
    {"messages", no_argument, NULL, OPT_MESSAGES},
    {"cafile", required_argument, NULL, OPT_CAFILE},
    {"allow-plaintext", no_argument, NULL, OPT_PLAINTEXT},
    {"target-password-file", required_argument, NULL, OPT_TPWFILE},
    {"target-password-command", required_argument, NULL, OPT_TPWCMD},
    {"log-format", required_argument, NULL, CMD_OPT_LOG_FORMAT},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: popvault verify [--archive DIR] [--state FILE] [--to URL] [-C FILE] [--json]\n"
	    "\n"
	    "Read every volume in DIR to its end, re-hash every message against its\n"
	    "member name and its manifest record, and check that every message and\n"
	    "volume the state db has as done is in the archive.  Exit 0 only if\n"
	    "nothing is wrong; 65 if something is damaged or missing.\n"
	    "  --archive DIR   the archive directory (default: 'archive' in the config)\n"
	    "  --state FILE    the state db (default as for backup); without one,\n"
	    "                  only the archive is checked\n"
	    "  --to URL        also check that every message the state records as\n"
	    "                  uploaded to this target (imaps://user@host/Folder) is\n"
	    "                  still there (password: $POPVAULT_TARGET_PASSWORD,\n"
	    "                  --target-password-file F or --target-password-command C;\n"
	    "                  --cafile PEM, --allow-plaintext as for migrate)\n"
	    "  --messages      also one line per message of the state: its account and\n"
	    "                  UIDL (the source, still on the server or deleted), the\n"
	    "                  volume holding it (or MISSING), and with --to its UID\n"
	    "                  in the target (or MISSING, or not-uploaded)\n"
	    "  --json          one JSON object on stdout\n");
}

/* One upload the state records, as found in the target. */
struct tmsg {
	char sha[65];
	uint32_t uid; /* 0: missing */
};

/* verify --to: what the target holds of what the state says it should. */
struct tcheck {
	const char *folder; /* NULL: no --to */
	struct upload_check c;
	struct tmsg *m; /* sorted by sha once complete */
	size_t n, cap;
};

static void
on_upload(void *arg, const char *sha256, const char *message_id, bool present,
    uint32_t uid)
{
	struct tcheck *t = arg;

	if (!present)
		log_errorx(
		    "verify: error: message %s (Message-ID %s) missing from target folder %s",
		    sha256, message_id != NULL ? message_id : "none",
		    t->folder);
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->m = xreallocarray(t->m, t->cap, sizeof(*t->m));
	}
	(void)snprintf(t->m[t->n].sha, sizeof(t->m[t->n].sha), "%s", sha256);
	t->m[t->n].uid = present ? uid : 0;
	t->n++;
}

static int
cmp_tmsg(const void *a, const void *b)
{
	return strcmp(((const struct tmsg *)a)->sha,
	    ((const struct tmsg *)b)->sha);
}

/* --messages: source -> archive -> target, one line (or object) per
 * message row of the state. */
struct listing {
	const struct verify_report *rep;
	const struct tcheck *t;
	bool json;
	size_t n;
};

static enum pv_code
list_msg(void *arg, const struct store_msg *m, struct pv_err *err)
{
	struct listing *l = arg;
	const char *vol =
	    m->volume_id != 0 ? verify_holder(l->rep, m->sha256) : NULL;
	const char *arch = m->volume_id == 0 ? "-"
	                   : vol != NULL     ? vol
	                                     : "MISSING";
	const char *src = m->deleted_at > 0 ? "deleted" : "on-server";
	char tgt[64] = "-", shown[80];
	struct tmsg key = {{0}, 0}, *hit = NULL;
	char *uidl;

	(void)err;
	if (m->state != STORE_DONE)
		return PV_OK;
	if (l->t->folder != NULL) {
		(void)snprintf(key.sha, sizeof(key.sha), "%s", m->sha256);
		hit = l->t->n > 0 ? bsearch(&key, l->t->m, l->t->n,
		                        sizeof(*l->t->m), cmp_tmsg)
		                  : NULL;
		if (hit == NULL)
			(void)snprintf(tgt, sizeof(tgt), "not-uploaded");
		else if (hit->uid == 0)
			(void)snprintf(tgt, sizeof(tgt), "MISSING");
		else
			(void)snprintf(tgt, sizeof(tgt), "uid %" PRIu32,
			    hit->uid);
	}
	if (l->json) {
		uidl = xstrndup(m->uidl, m->uidl_len);
		printf("%s{\"account\":", l->n ? "," : "");
		cmd_json_str(stdout, m->account);
		printf(",\"uidl\":");
		cmd_json_str(stdout, uidl);
		printf(",\"sha256\":\"%s\",\"message_id\":", m->sha256);
		cmd_json_str(stdout, m->message_id);
		printf(",\"source\":\"%s\",\"archive\":", src);
		cmd_json_str(stdout, m->volume_id == 0 ? NULL : vol);
		printf(",\"target\":");
		if (l->t->folder == NULL || hit == NULL)
			printf("null");
		else
			printf("{\"present\":%s,\"uid\":%" PRIu32 "}",
			    hit->uid != 0 ? "true" : "false", hit->uid);
		printf("}");
		free(uidl);
	} else {
		if (l->n == 0)
			printf("\n%-30s %-20s %-16s %-9s %-50s %s\n", "ACCOUNT",
			    "UIDL", "SHA256", "SOURCE", "ARCHIVE", "TARGET");
		printf("%-30s ", m->account);
		fputs(text_escape(m->uidl, m->uidl_len, shown, sizeof(shown)),
		    stdout);
		printf(" %.16s %-9s %-50s %s\n", m->sha256, src, arch, tgt);
	}
	l->n++;
	return PV_OK;
}

static void
print_json(const struct verify_report *r, const char *dir,
    const char *state_path, const struct tcheck *t, struct store *list,
    int status)
{
	const struct verify_volume *v;
	const struct verify_account *a;
	const struct verify_problem *p;
	size_t i;

	printf("{\"schema_version\":%d,\"command\":\"verify\",\"exit\":%d,"
	       "\"archive\":",
	    CMD_JSON_SCHEMA_VERSION, status);
	cmd_json_str(stdout, dir);
	printf(",\"state\":");
	cmd_json_str(stdout, r->with_state ? state_path : NULL);
	printf(",\"ok\":%s,\"volumes\":[",
	    r->nerrors == 0 && t->c.missing == 0 ? "true" : "false");
	for (i = 0; i < r->nvols; i++) {
		v = &r->vols[i];
		printf("%s{\"volume\":", i ? "," : "");
		cmd_json_str(stdout, v->name);
		printf(",\"members\":%llu,\"bytes\":%llu,\"status\":\"%s\"}",
		    (unsigned long long)v->members,
		    (unsigned long long)v->bytes,
		    verify_status_name(v->status));
	}
	printf("],\"accounts\":[");
	for (i = 0; i < r->naccts; i++) {
		a = &r->accts[i];
		printf("%s{\"account\":", i ? "," : "");
		cmd_json_str(stdout, a->account);
		printf(",\"messages\":%llu,\"found\":%llu,\"missing\":%llu}",
		    (unsigned long long)a->messages,
		    (unsigned long long)a->found,
		    (unsigned long long)a->missing);
	}
	printf("],\"problems\":[");
	for (i = 0; i < r->nprobs; i++) {
		p = &r->probs[i];
		printf("%s{\"kind\":\"%s\",\"warning\":%s,\"volume\":",
		    i ? "," : "", verify_kind_name(p->kind),
		    p->warning ? "true" : "false");
		cmd_json_str(stdout, p->volume);
		printf(",\"member\":");
		cmd_json_str(stdout, p->member);
		printf(",\"detail\":");
		cmd_json_str(stdout, p->detail);
		printf("}");
	}
	printf("]");
	if (t->folder != NULL) {
		printf(",\"target\":{\"folder\":");
		cmd_json_str(stdout, t->folder);
		printf(
		    ",\"expected\":%llu,\"present\":%llu,\"missing\":%llu,\"in_folder\":%lu}",
		    (unsigned long long)t->c.expected,
		    (unsigned long long)t->c.present,
		    (unsigned long long)t->c.missing,
		    (unsigned long)t->c.in_folder);
	}
	if (list != NULL) {
		struct listing l = {r, t, true, 0};
		struct pv_err err;

		printf(",\"messages\":[");
		if (store_msg_each(list, NULL, list_msg, &l, &err) != PV_OK)
			log_errorx("verify: %s", err.msg);
		printf("]");
	}
	printf("}\n");
}

static void
print_table(const struct verify_report *r, const char *dir,
    const struct tcheck *t)
{
	const struct verify_volume *v;
	const struct verify_account *a;
	char hb[32];
	size_t i;

	if (r->nvols == 0)
		printf("no volumes in %s\n", dir);
	else
		printf("%-50s %8s %10s  %s\n", "VOLUME", "MEMBERS", "BYTES",
		    "STATUS");
	for (i = 0; i < r->nvols; i++) {
		v = &r->vols[i];
		printf("%-50s %8llu %10s  %s\n", v->name,
		    (unsigned long long)v->members,
		    cmd_human(v->bytes, hb, sizeof(hb)),
		    verify_status_name(v->status));
	}
	if (r->naccts > 0)
		printf("\n%-30s %8s %8s %8s\n", "ACCOUNT", "MESSAGES", "FOUND",
		    "MISSING");
	for (i = 0; i < r->naccts; i++) {
		a = &r->accts[i];
		printf("%-30s %8llu %8llu %8llu\n", a->account,
		    (unsigned long long)a->messages,
		    (unsigned long long)a->found,
		    (unsigned long long)a->missing);
	}
	if (t->folder != NULL)
		printf(
		    "\n%-30s %8s %8s %8s %9s\n%-30s %8llu %8llu %8llu %9lu\n",
		    "TARGET FOLDER", "EXPECTED", "PRESENT", "MISSING",
		    "IN FOLDER", t->folder, (unsigned long long)t->c.expected,
		    (unsigned long long)t->c.present,
		    (unsigned long long)t->c.missing,
		    (unsigned long)t->c.in_folder);
}

int
cmd_verify(int argc, char **argv, struct globals *g)
{
	struct config cfg;
	struct pv_err err;
	struct store *st = NULL;
	struct verify_report rep;
	const char *config_path = g->config_path, *state_opt = NULL;
	const char *archive_opt = NULL, *to = NULL, *cafile = NULL;
	const char *tpwfile = NULL, *tpwcmd = NULL;
	struct config_target tgt;
	struct tcheck tc;
	char *state_path = NULL, *tpw = NULL;
	bool json = false, plaintext = false, messages = false;
	enum pv_code rc = PV_OK;
	int ch, status = EX_OK;
	size_t i;

	config_init(&cfg);
	memset(&rep, 0, sizeof(rep));
	memset(&tgt, 0, sizeof(tgt));
	memset(&tc, 0, sizeof(tc));
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
		case OPT_TO:
			to = optarg;
			break;
		case OPT_CAFILE:
			cafile = optarg;
			break;
		case OPT_PLAINTEXT:
			plaintext = true;
			break;
		case OPT_TPWFILE:
			tpwfile = optarg;
			break;
		case OPT_TPWCMD:
			tpwcmd = optarg;
			break;
		case OPT_MESSAGES:
			messages = true;
			break;
		default:
			status = cmd_common_option(ch, optarg, usage);
			if (status >= 0)
				goto out;
			status = EX_OK;
			break;
		}
	}
	if (!cmd_no_operands("verify", argc, argv)) {
		status = EX_USAGE;
		goto out;
	}
	rc = cmd_locations(&cfg, config_path, archive_opt, state_opt, &err);
	if (rc != PV_OK) {
		log_errorx("verify: %s", err.msg);
		status = pv_exitcode(rc);
		goto out;
	}
	/* The target only with --to (a nightly verify stays local); its
	 * password and CA may come from the config. */
	if (to != NULL)
		cmd_target_defaults(&cfg, &to, &tpwfile, &tpwcmd, &cafile,
		    NULL);
	if (rc == PV_OK && to != NULL)
		rc = config_parse_target(to, &tgt, &err);
	if (rc == PV_OK && to != NULL)
		rc = cmd_target_password(tpwfile, tpwcmd, &tpw, &err);
	if (rc == PV_OK)
		rc = cmd_state_path(&cfg, false, &state_path, &err);
	if (rc == PV_OK && to != NULL && access(state_path, F_OK) != 0)
		rc = pv_errf(&err, PV_ECONFIG,
		    "no state at %s: --to checks what the state records as uploaded",
		    state_path);
	else if (rc == PV_OK && access(state_path, F_OK) != 0)
		log_warnx("verify: no state at %s: checking the archive alone",
		    state_path);
	else if (rc == PV_OK)
		rc = store_open(state_path, STORE_READONLY, &st, &err);
	if (rc == PV_OK)
		rc = verify_run(cfg.archive, st, g->abort, &rep, &err);
	if (rc == PV_OK && to != NULL) {
		struct net_conf nc;
		struct upload_conf uc;

		cmd_target_netconf(&tgt, &cfg, tpw, cafile, plaintext, g->abort,
		    &nc);
		memset(&uc, 0, sizeof(uc));
		uc.nc = &nc;
		uc.key = tgt.key;
		uc.folder = tgt.folder;
		tc.folder = tgt.folder;
		rc = upload_verify(st, &uc, on_upload, &tc, &tc.c, &err);
		if (tc.n > 1)
			qsort(tc.m, tc.n, sizeof(*tc.m), cmp_tmsg);
	}
	if (rc != PV_OK) {
		log_errorx("verify: %s", err.msg);
		status = pv_exitcode(rc);
		goto out;
	}
	for (i = 0; i < rep.nprobs; i++) {
		const struct verify_problem *p = &rep.probs[i];

		if (p->warning)
			log_warnx("verify: warning: %s%s%s",
			    p->volume != NULL ? p->volume : "",
			    p->volume != NULL ? ": " : "", p->detail);
		else
			log_errorx("verify: error: %s%s%s",
			    p->volume != NULL ? p->volume : "",
			    p->volume != NULL ? ": " : "", p->detail);
	}
	if (messages && st == NULL)
		log_warnx(
		    "verify: --messages lists the state's messages: there is no state");
	if (rep.nerrors > 0 || tc.c.missing > 0)
		status = EX_DATAERR;
	if (json) {
		print_json(&rep, cfg.archive, state_path, &tc,
		    messages ? st : NULL, status);
	} else {
		print_table(&rep, cfg.archive, &tc);
		if (messages && st != NULL) {
			struct listing l = {&rep, &tc, false, 0};

			rc = store_msg_each(st, NULL, list_msg, &l, &err);
			if (rc != PV_OK) {
				log_errorx("verify: %s", err.msg);
				status = pv_exitcode(rc);
			}
		}
	}
	if (rep.nerrors > 0) {
		log_errorx("verify: %zu problem(s) in %s", rep.nerrors,
		    cfg.archive);
		status = EX_DATAERR;
	}
	if (tc.c.missing > 0) {
		log_errorx(
		    "verify: %llu of %llu uploaded message(s) missing from target folder %s",
		    (unsigned long long)tc.c.missing,
		    (unsigned long long)tc.c.expected, tc.folder);
		status = EX_DATAERR;
	}
out:
	free(tc.m);
	xfree_secret(tpw);
	config_target_free(&tgt);
	verify_report_free(&rep);
	store_close(st);
	free(state_path);
	config_free(&cfg);
	return status;
}
