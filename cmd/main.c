/* SPDX-License-Identifier: MIT */
/*
 * cmd/main.c - popvault: global options, the command table, signals and
 * the exit status.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "cmd.h"
#include "log.h"
#include "net.h"

static volatile sig_atomic_t aborted;

static const struct {
	const char *name;
	int (*fn)(int, char **, struct globals *);
	const char *help;
} commands[] = {
    {"backup", cmd_backup, "POP3 mailboxes -> compressed archive volumes"},
    {"migrate", cmd_migrate, "POP3 mailboxes -> an IMAP folder (and archive)"},
    {"restore", cmd_restore, "archive volumes -> an IMAP folder"},
    {"status", cmd_status, "what the state db knows, per account"},
    {"verify", cmd_verify,
        "re-hash the archive volumes, reconcile the state and target"},
    {"rebuild-state", cmd_rebuild_state,
        "a lost state db made again from the archive volumes"},
};

static void
usage(FILE *fp)
{
	size_t i;

	fprintf(fp,
	    "usage: popvault [-C FILE] [-v|-q] [-d CATS] COMMAND [OPTIONS] [ACCOUNT...]\n\ncommands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(fp, "  %-13s %s\n", commands[i].name, commands[i].help);
	fprintf(fp,
	    "\nglobal options:\n"
	    "  -C, --config FILE  config file (default ~/.config/popvault/config)\n"
	    "  -v, --verbose      say more\n"
	    "  -q, --quiet        only warnings and errors on stderr\n"
	    "  -d, --debug CATS   protocol/debug trace: pop3,imap,net,store,arc,engine or all\n"
	    "      --log-format text|syslog\n"
	    "                     syslog: \"<N>\" priorities for journald, no progress\n"
	    "                     line (the default when stderr is the journal)\n"
	    "      --version      print the version\n"
	    "  -h, --help         this text; 'popvault COMMAND --help' for a command\n");
}

/* Is stderr the journal?  systemd sets JOURNAL_STREAM to "DEV:INODE" of
 * the stream it connected stdout/stderr to (systemd.exec(5)); it is
 * inherited by children whose stderr may be something else, so compare. */
static bool
stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat sb;
	int n = 0;

	if (js == NULL || sscanf(js, "%llu:%llu%n", &dev, &ino, &n) != 2 ||
	    js[n] != '\0' || fstat(STDERR_FILENO, &sb) != 0)
		return false;
	return (unsigned long long)sb.st_dev == dev &&
	       (unsigned long long)sb.st_ino == ino;
}

static void
on_signal(int sig)
{
	(void)sig;
	aborted = 1;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'C'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"debug", required_argument, NULL, 'd'},
	    {"log-format", required_argument, NULL, CMD_OPT_LOG_FORMAT},
	    {"version", no_argument, NULL, 'V'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct globals g = {NULL, &aborted};
	struct sigaction sa;
	int c, verbosity = 0, rc;
	unsigned cats = 0;
	enum log_format fmt =
	    stderr_is_journal() ? LOG_FORMAT_SYSLOG : LOG_FORMAT_TEXT;
	size_t i;

	while ((c = getopt_long(argc, argv, "+C:vqd:h", opts, NULL)) != -1) {
		switch (c) {
		case 'C':
			g.config_path = optarg;
			break;
		case 'v':
			verbosity++;
			break;
		case 'q':
			verbosity = -1;
			break;
		case 'd':
			if (!log_parse_cats(optarg, &cats)) {
				fprintf(stderr,
				    "popvault: -d: unknown category in '%s' (pop3, imap, net, store, arc, engine, all)\n",
				    optarg);
				return EX_USAGE;
			}
			break;
		case CMD_OPT_LOG_FORMAT:
			if (!log_parse_format(optarg, &fmt)) {
				fprintf(stderr,
				    "popvault: --log-format: '%s': give text or syslog\n",
				    optarg);
				return EX_USAGE;
			}
			break;
		case 'V':
			printf("popvault %s\n", PV_VERSION);
			return EX_OK;
		case 'h':
			usage(stdout);
			return EX_OK;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	log_init(verbosity, cats);
	log_set_format(fmt);
	if (optind >= argc) {
		usage(stderr);
		return EX_USAGE;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: poll() must return */
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGTERM, &sa, NULL);
	/* The terminal going away (an ssh session closed mid-migration)
	 * stops the run cleanly too, rather than killing it mid-step. */
	(void)sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGPIPE, &sa, NULL);

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[optind], commands[i].name) != 0)
			continue;
		int first = optind;

		net_global_init();
		/* The command parses its own argv from the start: glibc
		 * re-initializes getopt when optind is 0. */
		optind = 0;
		rc = commands[i].fn(argc - first, argv + first, &g);
		net_global_cleanup();
		return rc;
	}
	fprintf(stderr, "popvault: unknown command '%s'\n", argv[optind]);
	usage(stderr);
	return EX_USAGE;
}
