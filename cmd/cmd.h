/* SPDX-License-Identifier: MIT */
/*
 * cmd/cmd.h - the commands and what they share: the user interface lives
 * here (argv, environment, stdout, exit status); core/ does the work.
 */
#ifndef PV_CMD_H
#define PV_CMD_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"

struct config;
struct config_account;
struct config_target;
struct net_conf;

/* The version of the JSON that --json prints (docs/REPORTS.md,
 * docs/popvault-report.schema.json): "schema_version" in every object.
 * Raised only for a change that can break a reader (a field removed,
 * renamed or given another type); new fields keep it. */
#define CMD_JSON_SCHEMA_VERSION 1

/* --log-format FORMAT: a global option, also taken after the command
 * (each command's option table has it with this value). */
#define CMD_OPT_LOG_FORMAT 512

struct globals {
	const char *config_path; /* -C; NULL: the default if it exists */
	volatile sig_atomic_t *abort;
};

int cmd_backup(int argc, char **argv, struct globals *g);
int cmd_migrate(int argc, char **argv, struct globals *g);
int cmd_restore(int argc, char **argv, struct globals *g);
int cmd_status(int argc, char **argv, struct globals *g);
int cmd_verify(int argc, char **argv, struct globals *g);
int cmd_rebuild_state(int argc, char **argv, struct globals *g);

/* Load the config file (g->config_path, else the default path if it
 * exists) into c.  'required': a missing default is an error. */
enum pv_code cmd_load_config(struct config *c, const char *path, bool required,
    struct pv_err *err);

/* The state path: c->state, else $XDG_STATE_HOME/popvault/state.db or
 * ~/.local/state/popvault/state.db.  Creates the parent directory (0700)
 * when 'create'.  free() the result. */
enum pv_code cmd_state_path(const struct config *c, bool create, char **out,
    struct pv_err *err);

/* mkdir -p with mode 0700 for the parts it creates. */
enum pv_code cmd_mkdirs(const char *path, struct pv_err *err);

/* The account's password: --password-file/--password-command (given as
 * file/command), else the config (password, passwordeval,
 * password_file), else $POPVAULT_PASSWORD.  free with xfree_secret(). */
enum pv_code cmd_password(const struct config_account *a, const char *file,
    const char *command, char **out, struct pv_err *err);

/* The IMAP target's password: --target-password-file/-command (given as
 * file/command), else $POPVAULT_TARGET_PASSWORD.  free with
 * xfree_secret(). */
enum pv_code cmd_target_password(const char *file, const char *command,
    char **out, struct pv_err *err);

/* The connection settings of target t (strings borrowed from t, the
 * password and cafile): TLS as its scheme says, plaintext only with
 * 'plaintext', the config's timeouts. */
void cmd_target_netconf(const struct config_target *t, const struct config *cfg,
    const char *password, const char *cafile, bool plaintext,
    volatile sig_atomic_t *abort, struct net_conf *nc);

/* The config (g->config_path or the default, if any) with --archive and
 * --state on top; PV_EUSAGE when no archive directory results. */
enum pv_code cmd_locations(struct config *c, const char *config_path,
    const char *archive, const char *state, struct pv_err *err);

/* Fill what the command line left NULL from the config's target keys:
 * target, target_password_file/_passwordeval (only if neither password
 * option was given), target_cafile, target_flags (default \Seen; flags
 * may be NULL: not wanted). */
void cmd_target_defaults(const struct config *c, const char **to,
    const char **pwfile, const char **pwcmd, const char **cafile,
    const char **flags);

/* The options every command takes besides its own, for the default: of
 * its getopt switch: -v, -q, -d (-1: go on), -h (usage on stdout, EX_OK),
 * anything else (usage on stderr, EX_USAGE).  >= 0: return that status. */
int cmd_common_option(int ch, const char *arg, void (*usage)(FILE *fp));

/* A command that takes no operands: false, after a message naming the
 * first one, if argv[optind..argc) is not empty. */
bool cmd_no_operands(const char *cmd, int argc, char **argv);

/* --target-window N: 1..1000, else false after a message. */
bool cmd_parse_window(const char *s, unsigned *out);

/* -v, -q, -d and --log-format given after the command: same meaning as
 * before it.  Returns false (after a message) on a bad argument. */
bool cmd_log_option(int c, const char *arg);

/* JSON string (with quotes) on fp; bytes that are not printable ASCII are
 * \u-escaped byte by byte. */
void cmd_json_str(FILE *fp, const char *s);

/* "12.3 MB" style. */
const char *cmd_human(uint64_t bytes, char *buf, size_t cap);

/* Seconds since the epoch now. */
int64_t cmd_now(void);

/* Milliseconds of a monotonic clock, for durations. */
int64_t cmd_mono_ms(void);

/* A time as a JSON string in RFC 3339 UTC ("2026-11-23T02:15:00Z"), or
 * null for 0. */
void cmd_json_time(FILE *fp, int64_t t);

#endif /* PV_CMD_H */
