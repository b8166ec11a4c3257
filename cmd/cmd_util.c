/* SPDX-License-Identifier: MIT */
/*
 * cmd/cmd_util.c - what the commands share: config and state locations,
 * passwords, JSON strings.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "config.h"
#include "log.h"
#include "net.h"
#include "secret.h"
#include "xmem.h"

static char *
home_path(const char *xdg_var, const char *fallback, const char *rest)
{
	const char *x = getenv(xdg_var);
	const char *home = getenv("HOME");

	if (x != NULL && x[0] == '/')
		return xasprintf("%s/%s", x, rest);
	if (home == NULL || home[0] == '\0')
		home = "/";
	return xasprintf("%s/%s/%s", home, fallback, rest);
}

enum pv_code
cmd_load_config(struct config *c, const char *path, bool required,
    struct pv_err *err)
{
	char *def;
	enum pv_code rc;

	if (path != NULL)
		return config_load(c, path, err);
	def = home_path("XDG_CONFIG_HOME", ".config", "popvault/config");
	if (access(def, F_OK) != 0) {
		rc =
		    required
		        ? pv_errf(err, PV_ECONFIG,
		              "no accounts: give --from URL or a config file (%s, or -C FILE)",
		              def)
		        : PV_OK;
		free(def);
		return rc;
	}
	rc = config_load(c, def, err);
	free(def);
	return rc;
}

enum pv_code
cmd_mkdirs(const char *path, struct pv_err *err)
{
	char *p = xstrdup(path);
	char *s;
	enum pv_code rc = PV_OK;

	for (s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;

		*s = '\0';
		if (mkdir(p, 0700) != 0 && errno != EEXIST) {
			rc = pv_errf(err, PV_EIO, "%s: %s", p, strerror(errno));
			break;
		}
		*s = c;
		if (c == '\0')
			break;
	}
	if (rc == PV_OK) {
		struct stat sb;

		if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode))
			rc = pv_errf(err, PV_EIO, "%s: not a directory", path);
	}
	free(p);
	return rc;
}

enum pv_code
cmd_state_path(const struct config *c, bool create, char **out,
    struct pv_err *err)
{
	char *path, *dir, *slash;
	enum pv_code rc = PV_OK;

	if (c->state != NULL)
		path = xstrdup(c->state);
	else
		path = home_path("XDG_STATE_HOME", ".local/state",
		    "popvault/state.db");
	if (create) {
		dir = xstrdup(path);
		slash = strrchr(dir, '/');
		if (slash != NULL && slash != dir) {
			*slash = '\0';
			rc = cmd_mkdirs(dir, err);
		}
		free(dir);
	}
	if (rc != PV_OK) {
		free(path);
		return rc;
	}
	*out = path;
	return PV_OK;
}

enum pv_code
cmd_password(const struct config_account *a, const char *file,
    const char *command, char **out, struct pv_err *err)
{
	const char *env;
	enum pv_code rc;

	if (file != NULL)
		return secret_from_file(file, out, err);
	if (command != NULL)
		return secret_from_command(command, out, err);
	if (a->password != NULL) {
		*out = xstrdup(a->password);
		return PV_OK;
	}
	if (a->passwordeval != NULL) {
		rc = secret_from_command(a->passwordeval, out, err);
		if (rc != PV_OK)
			(void)pv_errprefix(err, "%s: passwordeval", a->where);
		return rc;
	}
	if (a->password_file != NULL)
		return secret_from_file(a->password_file, out, err);
	env = getenv("POPVAULT_PASSWORD");
	if (env != NULL && env[0] != '\0') {
		*out = xstrdup(env);
		return PV_OK;
	}
	return pv_errf(err, PV_ECONFIG,
	    "no password: set POPVAULT_PASSWORD, give --password-file or --password-command, or put password/passwordeval in the config");
}

enum pv_code
cmd_target_password(const char *file, const char *command, char **out,
    struct pv_err *err)
{
	const char *env;

	if (file != NULL)
		return secret_from_file(file, out, err);
	if (command != NULL)
		return secret_from_command(command, out, err);
	env = getenv("POPVAULT_TARGET_PASSWORD");
	if (env != NULL && env[0] != '\0') {
		*out = xstrdup(env);
		return PV_OK;
	}
	return pv_errf(err, PV_ECONFIG,
	    "no password for the target: set POPVAULT_TARGET_PASSWORD, or give --target-password-file or --target-password-command");
}

enum pv_code
cmd_locations(struct config *c, const char *config_path, const char *archive,
    const char *state, struct pv_err *err)
{
	enum pv_code rc;

	rc = cmd_load_config(c, config_path, false, err);
	if (rc != PV_OK)
		return rc;
	if (archive != NULL) {
		free(c->archive);
		c->archive = xstrdup(archive);
	}
	if (state != NULL) {
		free(c->state);
		c->state = xstrdup(state);
	}
	if (c->archive == NULL)
		return pv_errf(err, PV_EUSAGE,
		    "no archive directory: give --archive DIR or 'archive' in the config");
	return PV_OK;
}

void
cmd_target_defaults(const struct config *c, const char **to,
    const char **pwfile, const char **pwcmd, const char **cafile,
    const char **flags)
{
	if (*to == NULL)
		*to = c->target;
	if (*pwfile == NULL && *pwcmd == NULL) {
		*pwfile = c->target_password_file;
		*pwcmd = c->target_passwordeval;
	}
	if (*cafile == NULL)
		*cafile = c->target_cafile;
	if (flags != NULL && *flags == NULL)
		*flags = c->target_flags != NULL ? c->target_flags : "\\Seen";
}

int
cmd_common_option(int ch, const char *arg, void (*usage)(FILE *fp))
{
	switch (ch) {
	case 'v':
	case 'q':
	case 'd':
	case CMD_OPT_LOG_FORMAT:
		return cmd_log_option(ch, arg) ? -1 : EX_USAGE;
	case 'h':
		usage(stdout);
		return EX_OK;
	default:
		usage(stderr);
		return EX_USAGE;
	}
}

bool
cmd_no_operands(const char *cmd, int argc, char **argv)
{
	if (optind >= argc)
		return true;
	fprintf(stderr, "popvault: %s: unexpected '%s'\n", cmd, argv[optind]);
	return false;
}

bool
cmd_parse_window(const char *s, unsigned *out)
{
	if (!config_parse_count(s, 1, 1000, out)) {
		fprintf(stderr,
		    "popvault: --target-window: '%s' is not a number from 1 to 1000\n",
		    s);
		return false;
	}
	return true;
}

void
cmd_target_netconf(const struct config_target *t, const struct config *cfg,
    const char *password, const char *cafile, bool plaintext,
    volatile sig_atomic_t *abort, struct net_conf *nc)
{
	memset(nc, 0, sizeof(*nc));
	nc->proto = NET_IMAP;
	nc->host = t->host;
	nc->port = t->port;
	nc->implicit_tls = t->implicit_tls;
	nc->allow_plaintext = plaintext;
	nc->user = t->user;
	nc->password = password;
	nc->cafile = cafile;
	nc->connect_timeout_ms = cfg->connect_timeout_ms;
	nc->io_timeout_ms = cfg->timeout_ms;
	nc->abort = abort;
}

void
cmd_json_str(FILE *fp, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (s == NULL) {
		fputs("null", fp);
		return;
	}
	fputc('"', fp);
	for (; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(fp, "\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			fprintf(fp, "\\u%04x", *p);
		else
			fputc(*p, fp);
	}
	fputc('"', fp);
}

const char *
cmd_human(uint64_t bytes, char *buf, size_t cap)
{
	int n;

	if (bytes < 1000)
		n = snprintf(buf, cap, "%llu B", (unsigned long long)bytes);
	else if (bytes < 1000 * 1000)
		n = snprintf(buf, cap, "%.1f kB", (double)bytes / 1e3);
	else if (bytes < 1000ull * 1000 * 1000)
		n = snprintf(buf, cap, "%.1f MB", (double)bytes / 1e6);
	else
		n = snprintf(buf, cap, "%.2f GB", (double)bytes / 1e9);
	if (n < 0 || (size_t)n >= cap)
		buf[0] = '\0';
	return buf;
}

int64_t
cmd_now(void)
{
	return (int64_t)time(NULL);
}

int64_t
cmd_mono_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return cmd_now() * 1000;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
cmd_json_time(FILE *fp, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char b[32];

	if (t == 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
		fputs("null", fp);
		return;
	}
	fprintf(fp, "\"%s\"", b);
}

bool
cmd_log_option(int c, const char *arg)
{
	unsigned cats;

	switch (c) {
	case 'v':
		log_init(log_verbosity() < 0 ? 1 : log_verbosity() + 1,
		    log_debug_mask());
		return true;
	case 'q':
		log_init(-1, log_debug_mask());
		return true;
	case 'd':
		if (!log_parse_cats(arg, &cats)) {
			fprintf(stderr,
			    "popvault: -d: unknown category in '%s' (pop3, imap, net, store, arc, engine, all)\n",
			    arg);
			return false;
		}
		log_init(log_verbosity(), log_debug_mask() | cats);
		return true;
	case CMD_OPT_LOG_FORMAT: {
		enum log_format f;

		if (!log_parse_format(arg, &f)) {
			fprintf(stderr,
			    "popvault: --log-format: '%s': give text or syslog\n",
			    arg);
			return false;
		}
		log_set_format(f);
		return true;
	}
	default:
		return false;
	}
}
