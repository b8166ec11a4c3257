/* SPDX-License-Identifier: MIT */
/*
 * cmd/cmd_backup.c - popvault backup and popvault migrate: every selected
 * POP3 account into archive volumes and/or an IMAP target, one account
 * after the other; the summary on stdout.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "arc.h"
#include "cmd.h"
#include "config.h"
#include "engine.h"
#include "log.h"
#include "net.h"
#include "store.h"
#include "upload.h"
#include "xmem.h"

enum {
	OPT_FROM = 256,
	OPT_ARCHIVE,
	OPT_STATE,
	OPT_CAFILE,
	OPT_PLAINTEXT,
	OPT_AUTH,
	OPT_PWFILE,
	OPT_PWCMD,
	OPT_DELETE,
	OPT_DELETE_AFTER,
	OPT_JSON,
	OPT_COMPRESS,
	OPT_LEVEL,
	OPT_TIMEOUT,
	OPT_CONNECT_TIMEOUT,
	OPT_WINDOW,
	OPT_MAX_SIZE,
	OPT_VOLUME_SIZE,
	OPT_PINNEDKEY,
	OPT_TO,
	OPT_PER_ACCOUNT,
	OPT_FLAGS,
	OPT_TPWFILE,
	OPT_TPWCMD,
	OPT_TWINDOW,
	OPT_RETRIES,
	OPT_RETRY_DELAY,
};

static const struct option opts[] = {
    {"from", required_argument, NULL, OPT_FROM},
    {"archive", required_argument, NULL, OPT_ARCHIVE},
    {"state", required_argument, NULL, OPT_STATE},
    {"config", required_argument, NULL, 'C'},
    {"cafile", required_argument, NULL, OPT_CAFILE},
    {"pinnedkey", required_argument, NULL, OPT_PINNEDKEY},
    {"allow-plaintext", no_argument, NULL, OPT_PLAINTEXT},
    {"auth", required_argument, NULL, OPT_AUTH},
    {"password-file", required_argument, NULL, OPT_PWFILE},
    {"password-command", required_argument, NULL, OPT_PWCMD},
    {"delete", no_argument, NULL, OPT_DELETE},
    {"delete-after", required_argument, NULL, OPT_DELETE_AFTER},
    {"dry-run", no_argument, NULL, 'n'},
    {"json", no_argument, NULL, OPT_JSON},
    {"compress", required_argument, NULL, OPT_COMPRESS},
    {"level", required_argument, NULL, OPT_LEVEL},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT},
    {"window", required_argument, NULL, OPT_WINDOW},
    {"jobs", required_argument, NULL, 'j'},
    {"retries", required_argument, NULL, OPT_RETRIES},
    {"retry-delay", required_argument, NULL, OPT_RETRY_DELAY},
    {"max-size", required_argument, NULL, OPT_MAX_SIZE},
    {"volume-size", required_argument, NULL, OPT_VOLUME_SIZE},
    {"to", required_argument, NULL, OPT_TO},
    {"per-account", no_argument, NULL, OPT_PER_ACCOUNT},
    {"flags", required_argument, NULL, OPT_FLAGS},
    {"target-password-file", required_argument, NULL, OPT_TPWFILE},
    {"target-password-command", required_argument, NULL, OPT_TPWCMD},
    {"target-window", required_argument, NULL, OPT_TWINDOW},
    {"log-format", required_argument, NULL, CMD_OPT_LOG_FORMAT},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* Which command this file is running. */
static const char *cmdname = "backup";

static void
usage_migrate(FILE *fp)
{
	fprintf(fp,
	    "usage: popvault migrate [--from URL]... --to URL [--archive DIR] [OPTIONS] [ACCOUNT...]\n"
	    "\n"
	    "Copy every message of the POP3 accounts into a folder of an IMAP server, with\n"
	    "its original date (INTERNALDATE) and each message once however often it runs;\n"
	    "with --archive, into archive volumes too.\n"
	    "\n"
	    "  --to URL                 imaps://user@host[:port]/Folder (TLS), or imap://...\n"
	    "                           (STARTTLS required); the folder %%-encoded UTF-8,\n"
	    "                           created if missing (default INBOX)\n"
	    "  --per-account            one folder per account, under the --to folder\n"
	    "  --flags FLAGS            flags of the uploaded messages (default \\Seen; \"\" none)\n"
	    "  --target-window N        APPENDs in flight with LITERAL+ (default 32)\n"
	    "  --target-password-file F, --target-password-command CMD\n"
	    "                           the target's password (else $POPVAULT_TARGET_PASSWORD)\n"
	    "  --delete, --delete-after DURATION\n"
	    "                           delete from the POP3 server what is in the target (and\n"
	    "                           in the archive, with --archive) and recorded so\n"
	    "\n"
	    "The other options are those of 'popvault backup --help'; --cafile,\n"
	    "--allow-plaintext and --timeout apply to the target too.\n");
}

static void
usage(FILE *fp)
{
	if (strcmp(cmdname, "migrate") == 0) {
		usage_migrate(fp);
		return;
	}
	fprintf(fp,
	    "usage: popvault backup [--from URL]... [--archive DIR] [OPTIONS] [ACCOUNT...]\n"
	    "\n"
	    "Copy every message of the POP3 accounts (from --from, or the config file)\n"
	    "into compressed archive volumes in DIR; a later run copies only what is new.\n"
	    "\n"
	    "  --from URL               pop3s://user@host[:port] (TLS), or pop3://... (STLS required)\n"
	    "  --archive DIR            where the volumes go (created if missing)\n"
	    "  --state FILE             the state db (default ~/.local/state/popvault/state.db)\n"
	    "  -C, --config FILE        accounts and defaults from FILE\n"
	    "  --password-file F        the password is the first line of F (mode 0600)\n"
	    "  --password-command CMD   the password is the first line CMD prints\n"
	    "                           (else: the config, else $POPVAULT_PASSWORD)\n"
	    "  --cafile PEM             trust these CA certificates instead of the system's\n"
	    "  --pinnedkey sha256//...  also require this server public key\n"
	    "  --auth MECH              pin the login: PLAIN, LOGIN, USER, APOP, XOAUTH2, ...\n"
	    "  --allow-plaintext        go on without TLS if the server offers no STLS\n"
	    "  --delete                 delete from the server what is safely archived\n"
	    "  --delete-after DURATION  ... once first fetched that long ago (30d, 12h)\n"
	    "  -n, --dry-run            say what would happen; change nothing anywhere\n"
	    "  --json                   the summary as JSON on stdout\n"
	    "  --compress gzip|zstd|xz|none, --level N   volume compression\n"
	    "  --volume-size SIZE       start a new volume past SIZE (default 1G)\n"
	    "  --max-size SIZE          leave messages bigger than SIZE on the server\n"
	    "  --timeout DURATION       give up on a silent server after this (default 60s)\n"
	    "  --connect-timeout DURATION   connect + TLS + login (default 30s)\n"
	    "  --window N               POP3 commands in flight when pipelining\n"
	    "  -j, --jobs N             back up up to N accounts at once (default %d)\n"
	    "  --retries N              after a network failure, run the account again up\n"
	    "                           to N times (default %d; it resumes, nothing twice)\n"
	    "  --retry-delay DURATION   wait before the first retry, doubled each time\n"
	    "                           (default %ds)\n",
	    CONFIG_JOBS_DEFAULT, CONFIG_RETRIES_DEFAULT,
	    CONFIG_RETRY_DELAY_DEFAULT);
}

struct acct_result {
	const struct config_account *acct;
	const char *name;
	struct engine_stats s;
	enum pv_code code;
	char error[PV_ERR_MAX];
	int64_t started, ended; /* unix seconds */
	int64_t ms;             /* how long it took */
	bool ran;               /* false: the run stopped before it */
};

/* The account's status word in the table and the JSON. */
static const char *
status_name(const struct acct_result *r)
{
	return r->ran ? pv_codename(r->code) : "skipped";
}

static void
print_json(const struct acct_result *res, size_t n, int status, bool dry,
    int64_t started)
{
	size_t i;

	printf(
	    "{\"schema_version\":%d,\"command\":\"%s\",\"version\":\"%s\",\"dry_run\":%s,\"ok\":%s,\"exit\":%d,\"started\":",
	    CMD_JSON_SCHEMA_VERSION, cmdname, PV_VERSION,
	    dry ? "true" : "false", status == EX_OK ? "true" : "false", status);
	cmd_json_time(stdout, started);
	printf(",\"accounts\":[");
	for (i = 0; i < n; i++) {
		const struct acct_result *r = &res[i];

		printf("%s{\"account\":", i ? "," : "");
		cmd_json_str(stdout, r->name);
		printf(
		    ",\"status\":\"%s\",\"seen\":%llu,\"known\":%llu,\"fetched\":%llu,\"stored\":%llu,\"duplicates\":%llu,\"uploaded\":%llu,\"present\":%llu,\"deleted\":%llu,\"failed\":%llu,\"bytes\":%llu,\"volumes\":%llu,\"duration_ms\":%lld",
		    status_name(r), (unsigned long long)r->s.seen,
		    (unsigned long long)r->s.known,
		    (unsigned long long)r->s.fetched,
		    (unsigned long long)r->s.stored,
		    (unsigned long long)r->s.dups,
		    (unsigned long long)r->s.uploaded,
		    (unsigned long long)r->s.present,
		    (unsigned long long)r->s.deleted,
		    (unsigned long long)r->s.failed,
		    (unsigned long long)r->s.bytes,
		    (unsigned long long)r->s.volumes, (long long)r->ms);
		if (dry)
			printf(
			    ",\"would_fetch\":%llu,\"would_fetch_bytes\":%llu,\"would_delete\":%llu",
			    (unsigned long long)r->s.would_fetch,
			    (unsigned long long)r->s.would_fetch_bytes,
			    (unsigned long long)r->s.would_delete);
		printf(",\"error\":");
		cmd_json_str(stdout,
		    !r->ran ? "not started: the run stopped before this account"
		    : r->code == PV_OK ? NULL
		                       : r->error);
		printf("}");
	}
	printf("]}\n");
}

static void
print_table(const struct acct_result *res, size_t n, bool dry)
{
	char hb[32];
	size_t i, w = 7;

	for (i = 0; i < n; i++)
		if (strlen(res[i].name) > w)
			w = strlen(res[i].name);
	if (dry) {
		printf("%-*s %7s %10s %12s %12s\n", (int)w, "ACCOUNT", "SEEN",
		    "TO FETCH", "BYTES", "TO DELETE");
		for (i = 0; i < n; i++)
			printf("%-*s %7llu %10llu %12s %12llu%s%s\n", (int)w,
			    res[i].name, (unsigned long long)res[i].s.seen,
			    (unsigned long long)res[i].s.would_fetch,
			    cmd_human(res[i].s.would_fetch_bytes, hb,
			        sizeof(hb)),
			    (unsigned long long)res[i].s.would_delete,
			    res[i].ran && res[i].code == PV_OK ? "" : "  ",
			    res[i].ran && res[i].code == PV_OK
			        ? ""
			        : status_name(&res[i]));
		return;
	}
	if (strcmp(cmdname, "migrate") == 0) {
		printf("%-*s %7s %7s %8s %7s %7s %6s %10s  %s\n", (int)w,
		    "ACCOUNT", "SEEN", "FETCHED", "UPLOADED", "PRESENT",
		    "DELETED", "FAILED", "BYTES", "STATUS");
		for (i = 0; i < n; i++)
			printf(
			    "%-*s %7llu %7llu %8llu %7llu %7llu %6llu %10s  %s\n",
			    (int)w, res[i].name,
			    (unsigned long long)res[i].s.seen,
			    (unsigned long long)res[i].s.fetched,
			    (unsigned long long)res[i].s.uploaded,
			    (unsigned long long)res[i].s.present,
			    (unsigned long long)res[i].s.deleted,
			    (unsigned long long)res[i].s.failed,
			    cmd_human(res[i].s.bytes, hb, sizeof(hb)),
			    status_name(&res[i]));
		return;
	}
	printf("%-*s %7s %7s %7s %6s %7s %6s %10s  %s\n", (int)w, "ACCOUNT",
	    "SEEN", "FETCHED", "STORED", "DUPS", "DELETED", "FAILED", "BYTES",
	    "STATUS");
	for (i = 0; i < n; i++)
		printf("%-*s %7llu %7llu %7llu %6llu %7llu %6llu %10s  %s\n",
		    (int)w, res[i].name, (unsigned long long)res[i].s.seen,
		    (unsigned long long)res[i].s.fetched,
		    (unsigned long long)res[i].s.stored,
		    (unsigned long long)res[i].s.dups,
		    (unsigned long long)res[i].s.deleted,
		    (unsigned long long)res[i].s.failed,
		    cmd_human(res[i].s.bytes, hb, sizeof(hb)),
		    status_name(&res[i]));
}

/* Tell the account's outcome on stderr: one line, also for cron mail. */
static void
report(const struct acct_result *r, bool dry)
{
	char hb[32];

	if (r->code != PV_OK && r->code != PV_EMSG)
		return; /* the error line says it */
	if (dry)
		log_info(
		    "account %s: %llu on the server, would fetch %llu (%s), would delete %llu",
		    r->name, (unsigned long long)r->s.seen,
		    (unsigned long long)r->s.would_fetch,
		    cmd_human(r->s.would_fetch_bytes, hb, sizeof(hb)),
		    (unsigned long long)r->s.would_delete);
	else if (strcmp(cmdname, "migrate") == 0)
		log_info(
		    "account %s: %llu on the server, %llu fetched (%s), %llu uploaded, %llu already in the target, %llu deleted, %llu failed",
		    r->name, (unsigned long long)r->s.seen,
		    (unsigned long long)r->s.fetched,
		    cmd_human(r->s.bytes, hb, sizeof(hb)),
		    (unsigned long long)r->s.uploaded,
		    (unsigned long long)r->s.present,
		    (unsigned long long)r->s.deleted,
		    (unsigned long long)r->s.failed);
	else
		log_info(
		    "account %s: %llu on the server, %llu new (%s), %llu stored, %llu duplicate(s), %llu deleted, %llu failed",
		    r->name, (unsigned long long)r->s.seen,
		    (unsigned long long)r->s.fetched,
		    cmd_human(r->s.bytes, hb, sizeof(hb)),
		    (unsigned long long)r->s.stored,
		    (unsigned long long)r->s.dups,
		    (unsigned long long)r->s.deleted,
		    (unsigned long long)r->s.failed);
}

struct bopts {
	const char *pwfile, *pwcmd;
	const char *to, *flags, *tpwfile, *tpwcmd, *tcafile;
	bool per_account;
	unsigned twindow;
	const char *cafile, *pinnedkey, *auth;
	bool plaintext, json, dry;
	unsigned jobs;       /* 0: as configured */
	int retries;         /* -1: as configured */
	int64_t retry_delay; /* 0: as configured */
	int keep;            /* -1: as configured */
	int64_t delete_after;
};

/* Command-line settings win over the config, account by account. */
static void
apply_overrides(struct config *c, const struct bopts *o)
{
	size_t i;

	for (i = 0; i < c->naccounts; i++) {
		struct config_account *a = &c->accounts[i];

		if (o->cafile != NULL) {
			free(a->cafile);
			a->cafile = xstrdup(o->cafile);
		}
		if (o->pinnedkey != NULL) {
			free(a->pinnedkey);
			a->pinnedkey = xstrdup(o->pinnedkey);
		}
		if (o->auth != NULL) {
			free(a->auth);
			a->auth = xstrdup(o->auth);
		}
		if (o->plaintext)
			a->allow_plaintext = true;
		if (o->keep >= 0) {
			a->keep = (enum config_keep)o->keep;
			a->delete_after = o->delete_after;
		}
	}
}

static int usage_error(const char *fmt, ...) PV_PRINTF(1, 2);

static int
usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "popvault: %s: ", cmdname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see 'popvault %s --help')\n", cmdname);
	return EX_USAGE;
}


/* The accounts of a run, shared by its workers. */
struct pool {
	const struct config *cfg;
	const struct bopts *o;
	const struct engine_opts *eo;
	struct globals *g;
	struct store *st; /* the run's; a worker thread opens its own */
	int64_t run_id;
	struct acct_result *res;
	size_t n;
	unsigned jobs;
	pthread_mutex_t mu; /* guards what follows */
	size_t next;        /* the next account to start */
	bool stop;          /* start no more: a local failure, an interrupt */
	enum pv_code worst;
};

/* A state made new by this run (or, for a dry run, none at all) beside
 * an archive that holds volumes: the state was lost.  Everything would be
 * fetched and stored again; say how to avoid it.  A warning, not a
 * refusal (even with --delete): nothing is lost by the run, a nightly
 * timer keeps backing up, and a new state over an old archive can be
 * meant (an archive directory shared on purpose). */
static void
warn_fresh_state(const char *dir, const char *state_path)
{
	struct pv_err err;
	char **names = NULL;
	size_t n = 0, i;

	if (arc_list(dir, &names, &n, &err) != PV_OK)
		return; /* the run itself will say what is wrong with dir */
	if (n > 0)
		log_warnx(
		    "the archive %s holds %zu volume(s) but the state %s is new: run 'popvault rebuild-state' first, or everything will be fetched and stored again",
		    dir, n, state_path);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* How many accounts at once.  One when only one would run, for a dry run
 * (no state to share), and when migrating into one folder: two accounts
 * holding the same message would both find it missing and APPEND it. */
static unsigned
jobs_for(const struct config *cfg, const struct bopts *o, bool migrate,
    size_t n)
{
	unsigned jobs = o->jobs != 0 ? o->jobs : cfg->jobs;

	if (n <= 1 || o->dry || jobs <= 1)
		return 1;
	if (migrate && !o->per_account) {
		log_verbose(
		    "%s: one account at a time: the accounts share one target folder (--per-account runs them at once)",
		    cmdname);
		return 1;
	}
	return jobs < n ? jobs : (unsigned)n;
}

/* Sleep ms milliseconds, or less when the run is interrupted. */
static void
nap(struct globals *g, int64_t ms)
{
	while (ms > 0 && !*g->abort) {
		struct timespec ts = {0, 100 * 1000 * 1000};

		(void)nanosleep(&ts, NULL);
		ms -= 100;
	}
}

/* engine_backup(), run again after a network failure (75) as often as
 * configured: each run resumes where the last one stopped (the journal
 * makes that safe at any point), so nothing is fetched or deleted twice.
 * A refused login, a busy mailbox, a protocol error or a local failure is
 * not retried.  *s sums what every attempt did; 'seen' and 'failed' are
 * the last attempt's. */
static enum pv_code
backup_with_retries(struct pool *p, struct engine *eng,
    const struct config_account *a, const char *pw, struct engine_stats *s,
    struct pv_err *err)
{
	unsigned tries =
	    p->o->retries >= 0 ? (unsigned)p->o->retries : p->cfg->retries;
	int64_t delay =
	    p->o->retry_delay > 0 ? p->o->retry_delay : p->cfg->retry_delay;
	struct engine_stats sum, one;
	enum pv_code rc;

	memset(&sum, 0, sizeof(sum));
	for (unsigned k = 0;; k++) {
		rc = engine_backup(eng, a, pw, &one, err);
		sum.fetched += one.fetched;
		sum.stored += one.stored;
		sum.dups += one.dups;
		sum.deleted += one.deleted;
		sum.uploaded += one.uploaded;
		sum.present += one.present;
		sum.bytes += one.bytes;
		sum.volumes += one.volumes;
		sum.seen = one.seen;
		sum.known = one.known;
		sum.failed = one.failed;
		sum.would_fetch = one.would_fetch;
		sum.would_fetch_bytes = one.would_fetch_bytes;
		sum.would_delete = one.would_delete;
		if (rc != PV_ENET || k >= tries || p->o->dry || *p->g->abort)
			break;
		log_warnx("account %s: %s; trying again in %llds (%u of %u)",
		    a->name, err->msg, (long long)delay, k + 1, tries);
		nap(p->g, delay * 1000);
		if (*p->g->abort) {
			rc = pv_errf(err, PV_EABORT,
			    "interrupted while waiting to try again");
			break;
		}
		if (delay < CONFIG_RETRY_DELAY_MAX)
			delay = delay * 2 < CONFIG_RETRY_DELAY_MAX
			            ? delay * 2
			            : CONFIG_RETRY_DELAY_MAX;
	}
	*s = sum;
	return rc;
}

/* Run one account and record its outcome. */
static void
pool_account(struct pool *p, struct engine *eng, struct store *st,
    struct acct_result *r)
{
	const struct config_account *a = r->acct;
	struct pv_err err;
	char *pw = NULL;
	enum pv_code rc;

	r->ran = true;
	r->started = cmd_now();
	r->ms = cmd_mono_ms();
	if (*p->g->abort) {
		rc = pv_errf(&err, PV_EABORT, "interrupted");
	} else {
		/* One at a time: a password command may prompt. */
		pthread_mutex_lock(&p->mu);
		rc = cmd_password(a, p->o->pwfile, p->o->pwcmd, &pw, &err);
		pthread_mutex_unlock(&p->mu);
		if (rc == PV_OK)
			rc = backup_with_retries(p, eng, a, pw, &r->s, &err);
	}
	xfree_secret(pw);
	r->ended = cmd_now();
	r->ms = cmd_mono_ms() - r->ms;
	r->code = rc;
	if (rc != PV_OK) {
		memcpy(r->error, err.msg, sizeof(r->error));
		log_errorx("account %s: %s", a->name, err.msg);
	}
	report(r, p->o->dry);
	if (!p->o->dry) {
		struct store_run_acct ra;
		struct pv_err e2;

		memset(&ra, 0, sizeof(ra));
		ra.account = a->name;
		ra.seen = r->s.seen;
		ra.fetched = r->s.fetched;
		ra.stored = r->s.stored;
		ra.dups = r->s.dups;
		ra.deleted = r->s.deleted;
		ra.failed = r->s.failed;
		ra.bytes = r->s.bytes;
		ra.code = pv_codename(rc);
		ra.error = rc == PV_OK ? NULL : r->error;
		ra.started = r->started;
		ra.ended = r->ended;
		if (store_run_account(st, p->run_id, &ra, &e2) != PV_OK) {
			log_warnx("%s", e2.msg);
			rc = PV_EIO;
		}
	}
	pthread_mutex_lock(&p->mu);
	if (pv_severity(rc) > pv_severity(p->worst))
		p->worst = rc;
	/* A local failure or an interrupt ends the run; a remote one ends
	 * only its account. */
	if (rc == PV_EIO || rc == PV_EINTERNAL || rc == PV_EABORT)
		p->stop = true;
	pthread_mutex_unlock(&p->mu);
}

/* Take accounts until none is left. */
static void
pool_work(struct pool *p, struct engine *eng, struct store *st)
{
	for (;;) {
		size_t k;

		pthread_mutex_lock(&p->mu);
		k = p->next;
		if (p->stop || k >= p->n) {
			pthread_mutex_unlock(&p->mu);
			return;
		}
		p->next++;
		pthread_mutex_unlock(&p->mu);
		pool_account(p, eng, st, &p->res[k]);
	}
}

struct worker {
	struct pool *p;
	pthread_t t;
	bool started;
};

/* A worker thread: its own state connection, its own engine. */
static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct pool *p = w->p;
	struct store *st = NULL;
	struct engine_opts weo;
	struct engine *eng;
	struct pv_err err;

	if (store_open_more(p->st, &st, &err) != PV_OK) {
		log_errorx("%s", err.msg);
		pthread_mutex_lock(&p->mu);
		if (pv_severity(err.code) > pv_severity(p->worst))
			p->worst = err.code;
		pthread_mutex_unlock(&p->mu);
		return NULL;
	}
	weo = *p->eo;
	weo.progress = false; /* one line for several accounts: none */
	eng = engine_new(st, &weo);
	pool_work(p, eng, st);
	engine_free(eng);
	store_close(st);
	return NULL;
}

/* Run the accounts, p->jobs at once, and return the most severe outcome.
 * With one job the run's own engine does them in order, in this thread.
 * Signals stay with the main thread, which only waits. */
static enum pv_code
pool_run(struct pool *p, struct engine *eng)
{
	struct worker *w;
	sigset_t all, old;
	unsigned i;

	p->worst = PV_OK;
	if (pthread_mutex_init(&p->mu, NULL) != 0)
		fatal("pthread_mutex_init");
	if (p->jobs <= 1) {
		pool_work(p, eng, p->st);
		pthread_mutex_destroy(&p->mu);
		return p->worst;
	}
	log_verbose("%s: %zu accounts, %u at once", cmdname, p->n, p->jobs);
	w = xcalloc(p->jobs, sizeof(*w));
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (i = 0; i < p->jobs; i++) {
		w[i].p = p;
		w[i].started =
		    pthread_create(&w[i].t, NULL, worker_main, &w[i]) == 0;
		if (!w[i].started)
			log_warnx("cannot start a thread: %s", strerror(errno));
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	for (i = 0; i < p->jobs; i++)
		if (w[i].started)
			pthread_join(w[i].t, NULL);
	/* Whatever no thread could take (none started): here. */
	pool_work(p, eng, p->st);
	free(w);
	pthread_mutex_destroy(&p->mu);
	return p->worst;
}

static int run(int argc, char **argv, struct globals *g);

int
cmd_backup(int argc, char **argv, struct globals *g)
{
	cmdname = "backup";
	return run(argc, argv, g);
}

int
cmd_migrate(int argc, char **argv, struct globals *g)
{
	cmdname = "migrate";
	return run(argc, argv, g);
}

static int
run(int argc, char **argv, struct globals *g)
{
	bool migrate = strcmp(cmdname, "migrate") == 0;
	struct config_target tgt;
	struct net_conf tnc;
	struct upload_conf uc;
	char *tpw = NULL;
	struct config cfg;
	struct bopts o;
	struct pv_err err;
	struct store *st = NULL;
	struct engine *eng = NULL;
	struct engine_opts eo;
	struct acct_result *res = NULL;
	struct pool pool;
	const char **from = NULL;
	size_t nfrom = 0, nres = 0, i;
	char *state_path = NULL;
	const char *config_path = g->config_path, *env;
	enum pv_code worst = PV_OK, rc;
	int64_t run_id = 0;
	int c, status;
	char *archive = NULL, *state_opt = NULL;

	memset(&o, 0, sizeof(o));
	memset(&tgt, 0, sizeof(tgt));
	o.keep = -1;
	o.retries = -1;
	o.flags = NULL;
	config_init(&cfg);
	memset(&eo, 0, sizeof(eo));
	while ((c = getopt_long(argc, argv, "C:j:nhvqd:", opts, NULL)) != -1) {
		int64_t d;
		uint64_t sz;
		char *end;
		long l;

		switch (c) {
		case OPT_FROM:
			from = xreallocarray(from, nfrom + 1, sizeof(*from));
			from[nfrom++] = optarg;
			break;
		case OPT_ARCHIVE:
			archive = optarg;
			break;
		case OPT_STATE:
			state_opt = optarg;
			break;
		case 'C':
			config_path = optarg;
			break;
		case OPT_CAFILE:
			o.cafile = optarg;
			break;
		case OPT_PINNEDKEY:
			o.pinnedkey = optarg;
			break;
		case OPT_PLAINTEXT:
			o.plaintext = true;
			break;
		case OPT_AUTH:
			o.auth = optarg;
			break;
		case OPT_PWFILE:
			o.pwfile = optarg;
			break;
		case OPT_PWCMD:
			o.pwcmd = optarg;
			break;
		case OPT_DELETE:
			o.keep = CONFIG_DELETE;
			break;
		case OPT_DELETE_AFTER:
			if (!config_parse_duration(optarg, &o.delete_after)) {
				status = usage_error(
				    "--delete-after: '%s' is not a duration such as 30d, 12h or 90m",
				    optarg);
				goto out_early;
			}
			o.keep = CONFIG_DELETE_AFTER;
			break;
		case 'n':
			o.dry = true;
			break;
		case OPT_TO:
		case OPT_PER_ACCOUNT:
		case OPT_FLAGS:
		case OPT_TPWFILE:
		case OPT_TPWCMD:
		case OPT_TWINDOW:
			if (!migrate) {
				status = usage_error(
				    "--to, --per-account, --flags and the target's password options are for 'popvault migrate'");
				goto out_early;
			}
			if (c == OPT_TO)
				o.to = optarg;
			else if (c == OPT_PER_ACCOUNT)
				o.per_account = true;
			else if (c == OPT_FLAGS)
				o.flags = optarg;
			else if (c == OPT_TPWFILE)
				o.tpwfile = optarg;
			else if (c == OPT_TWINDOW) {
				if (!cmd_parse_window(optarg, &o.twindow)) {
					status = EX_USAGE;
					goto out_early;
				}
			} else
				o.tpwcmd = optarg;
			break;
		case OPT_JSON:
			o.json = true;
			break;
		case OPT_COMPRESS:
			if (strcmp(optarg, "gzip") != 0 &&
			    strcmp(optarg, "zstd") != 0 &&
			    strcmp(optarg, "xz") != 0 &&
			    strcmp(optarg, "none") != 0) {
				status = usage_error(
				    "--compress: '%s': give gzip, zstd, xz or none",
				    optarg);
				goto out_early;
			}
			free(cfg.compress);
			cfg.compress = xstrdup(optarg);
			break;
		case OPT_LEVEL:
			l = strtol(optarg, &end, 10);
			if (*end != '\0' || end == optarg || l < 0 || l > 22) {
				status = usage_error(
				    "--level: '%s' is not a number from 0 to 22",
				    optarg);
				goto out_early;
			}
			cfg.level = (int)l;
			break;
		case OPT_TIMEOUT:
		case OPT_CONNECT_TIMEOUT:
			if (!config_parse_duration(optarg, &d) || d == 0 ||
			    d > 86400) {
				status = usage_error(
				    "'%s' is not a duration such as 60s or 5m",
				    optarg);
				goto out_early;
			}
			if (c == OPT_TIMEOUT)
				cfg.timeout_ms = (long)d * 1000;
			else
				cfg.connect_timeout_ms = (long)d * 1000;
			break;
		case 'j':
			if (!config_parse_jobs(optarg, &o.jobs)) {
				status = usage_error(
				    "--jobs: '%s' is not a number from 1 to %d",
				    optarg, CONFIG_JOBS_MAX);
				goto out_early;
			}
			break;
		case OPT_RETRIES: {
			unsigned n;

			if (!config_parse_count(optarg, 0, CONFIG_RETRIES_MAX,
			        &n)) {
				status = usage_error(
				    "--retries: '%s' is not a number from 0 to %d",
				    optarg, CONFIG_RETRIES_MAX);
				goto out_early;
			}
			o.retries = (int)n;
			break;
		}
		case OPT_RETRY_DELAY:
			if (!config_parse_duration(optarg, &d) || d < 1 ||
			    d > CONFIG_RETRY_DELAY_MAX) {
				status = usage_error(
				    "--retry-delay: '%s' is not a duration from 1s to 1h",
				    optarg);
				goto out_early;
			}
			o.retry_delay = d;
			break;
		case OPT_WINDOW:
			if (!config_parse_count(optarg, 1, 1000, &cfg.window)) {
				status = usage_error(
				    "--window: '%s' is not a number from 1 to 1000",
				    optarg);
				goto out_early;
			}
			break;
		case OPT_MAX_SIZE:
		case OPT_VOLUME_SIZE:
			if (!config_parse_size(optarg, &sz) || sz == 0) {
				status = usage_error(
				    "'%s' is not a size such as 50M or 2G",
				    optarg);
				goto out_early;
			}
			if (c == OPT_MAX_SIZE)
				cfg.max_size = sz;
			else if (sz < 1024 * 1024) {
				status = usage_error(
				    "--volume-size: '%s' is below 1M", optarg);
				goto out_early;
			} else
				cfg.volume_size = sz;
			break;
		default:
			status = cmd_common_option(c, optarg, usage);
			if (status >= 0)
				goto out_early;
			status = EX_OK;
			break;
		}
	}
	if (o.pwfile != NULL && o.pwcmd != NULL) {
		status = usage_error("%s",
		    "give --password-file or --password-command, not both");
		goto out_early;
	}

	/* The config file first, then the command line on top of it. */
	rc = cmd_load_config(&cfg, config_path, nfrom == 0, &err);
	for (i = 0; rc == PV_OK && i < nfrom; i++)
		rc = config_add_url(&cfg, from[i], &err);
	if (rc == PV_OK)
		rc = config_finish(&cfg, &err);
	if (rc != PV_OK) {
		log_errorx("%s", err.msg);
		status = pv_exitcode(rc);
		goto out_early;
	}
	if (archive != NULL) {
		free(cfg.archive);
		cfg.archive = xstrdup(archive);
	}
	if (state_opt != NULL) {
		free(cfg.state);
		cfg.state = xstrdup(state_opt);
	}
	apply_overrides(&cfg, &o);
	if (migrate) {
		/* The command line, else the config's target keys. */
		o.tcafile = o.cafile;
		cmd_target_defaults(&cfg, &o.to, &o.tpwfile, &o.tpwcmd,
		    &o.tcafile, &o.flags);
		o.per_account = o.per_account || cfg.target_per_account;
		if (o.to == NULL) {
			status = usage_error("%s",
			    "no target: give --to imaps://user@host/Folder or 'target' in the config");
			goto out_early;
		}
		rc = config_parse_target(o.to, &tgt, &err);
		if (rc == PV_OK && !o.dry)
			rc = cmd_target_password(o.tpwfile, o.tpwcmd, &tpw,
			    &err);
		if (rc != PV_OK) {
			log_errorx("%s", err.msg);
			status = pv_exitcode(rc);
			goto out_early;
		}
	} else if (cfg.archive == NULL) {
		status = usage_error("%s",
		    "no archive directory: give --archive DIR or 'archive' in the config");
		goto out_early;
	}
	/* Select accounts named on the command line, in that order. */
	for (i = (size_t)optind; i < (size_t)argc; i++)
		if (config_find(&cfg, argv[i]) == NULL) {
			fprintf(stderr, "popvault: %s: no account '%s'%s\n",
			    cmdname, argv[i],
			    cfg.naccounts ? "" : " (no accounts configured)");
			status = EX_USAGE;
			goto out_early;
		}
	if (cfg.naccounts == 0) {
		fprintf(stderr, "popvault: %s: no accounts in the config\n",
		    cmdname);
		status = EX_CONFIG;
		goto out_early;
	}

	rc = cmd_state_path(&cfg, !o.dry, &state_path, &err);
	if (rc == PV_OK && !o.dry && cfg.archive != NULL)
		rc = cmd_mkdirs(cfg.archive, &err);
	if (rc == PV_OK) {
		if (o.dry) {
			if (access(state_path, F_OK) == 0)
				rc = store_open(state_path, STORE_READONLY, &st,
				    &err);
		} else {
			rc = store_open(state_path, STORE_CREATE, &st, &err);
		}
	}
	if (rc == PV_OK && cfg.archive != NULL &&
	    (o.dry ? st == NULL : store_created(st)))
		warn_fresh_state(cfg.archive, state_path);
	eo.cfg = &cfg;
	eo.dry_run = o.dry;
	eo.abort = g->abort;
	/* No live line where stderr is a log (the syslog format). */
	eo.progress = log_get_format() == LOG_FORMAT_TEXT;
	eo.now = cmd_now();
	env = getenv("POPVAULT_TEST_STOP_AFTER");
	if (env != NULL)
		eo.stop_after = strtol(env, NULL, 10);
	if (migrate && !o.dry) {
		cmd_target_netconf(&tgt, &cfg, tpw, o.tcafile, o.plaintext,
		    g->abort, &tnc);
		memset(&uc, 0, sizeof(uc));
		uc.nc = &tnc;
		uc.key = tgt.key;
		uc.folder = tgt.folder;
		uc.flags = o.flags;
		uc.window = o.twindow;
		eo.target = &uc;
		eo.per_account = o.per_account;
	}
	if (rc == PV_OK) {
		eng = engine_new(st, &eo);
		if (!o.dry)
			rc = engine_recover(eng, &err);
	}
	if (rc == PV_OK && !o.dry)
		rc = store_run_begin(st, cmdname, eo.now, &run_id, &err);
	if (rc != PV_OK) {
		log_errorx("%s", err.msg);
		status = pv_exitcode(rc);
		goto out;
	}

	/* The accounts to run, in the config's order. */
	res = xcalloc(cfg.naccounts, sizeof(*res));
	for (i = 0; i < cfg.naccounts; i++) {
		bool selected = optind >= argc;

		for (int k = optind; k < argc && !selected; k++)
			selected = strcmp(argv[k], cfg.accounts[i].name) == 0;
		if (selected) {
			res[nres].acct = &cfg.accounts[i];
			res[nres++].name = cfg.accounts[i].name;
		}
	}
	memset(&pool, 0, sizeof(pool));
	pool.cfg = &cfg;
	pool.o = &o;
	pool.eo = &eo;
	pool.g = g;
	pool.st = st;
	pool.run_id = run_id;
	pool.res = res;
	pool.n = nres;
	pool.jobs = jobs_for(&cfg, &o, migrate, nres);
	worst = pool_run(&pool, eng);
	/* One line for every account, also those never started. */
	for (i = 0; i < nres; i++)
		if (!res[i].ran)
			log_warnx(
			    "account %s: not started: the run stopped before it",
			    res[i].name);
	if (!o.dry) {
		struct pv_err e2;

		if (store_run_end(st, run_id, cmd_now(), pv_codename(worst),
		        &e2) != PV_OK) {
			log_errorx("%s", e2.msg);
			worst = PV_EIO;
		}
	}
	status = pv_exitcode(worst);
	if (o.json)
		print_json(res, nres, status, o.dry, eo.now);
	else
		print_table(res, nres, o.dry);
out:
	free(res);
	engine_free(eng);
	store_close(st);
	free(state_path);
out_early:
	free(from);
	xfree_secret(tpw);
	config_target_free(&tgt);
	config_free(&cfg);
	return status;
}
