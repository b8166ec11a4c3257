/* SPDX-License-Identifier: MIT */
/*
 * core/config.c - config file parser and --from URLs, one struct config.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "xmem.h"

#define LINE_MAX_LEN 4096

void
config_init(struct config *c)
{
	memset(c, 0, sizeof(*c));
	c->defaults.tls = CONFIG_TLS_IMPLICIT;
	c->compress = xstrdup("gzip");
	c->level = -1;
	c->timeout_ms = 60 * 1000;
	c->connect_timeout_ms = 30 * 1000;
	c->volume_size = (uint64_t)1 << 30;
	c->mem_max = 4u << 20;
	c->jobs = CONFIG_JOBS_DEFAULT;
	c->retries = CONFIG_RETRIES_DEFAULT;
	c->retry_delay = CONFIG_RETRY_DELAY_DEFAULT;
}

struct unit {
	char suffix;
	uint64_t mul;
};

/* A decimal number with at most one suffix from 'units' (the entry with
 * suffix '\0' is the bare number), without overflow past 'max'. */
static bool
parse_scaled(const char *s, const struct unit *units, uint64_t max,
    uint64_t *out)
{
	char *end;
	unsigned long long v;
	const struct unit *u;

	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || (*end != '\0' && end[1] != '\0'))
		return false;
	for (u = units; u->mul != 0; u++) {
		if (u->suffix != *end)
			continue;
		if (v > max / u->mul)
			return false;
		*out = (uint64_t)v * u->mul;
		return true;
	}
	return false;
}

bool
config_parse_duration(const char *s, int64_t *secs)
{
	static const struct unit units[] = {{'\0', 1}, {'s', 1}, {'m', 60},
	    {'h', 3600}, {'d', 86400}, {'w', 7 * 86400}, {'\0', 0}};
	uint64_t v;

	if (!parse_scaled(s, units, INT64_MAX, &v))
		return false;
	*secs = (int64_t)v;
	return true;
}

bool
config_parse_size(const char *s, uint64_t *bytes)
{
	static const struct unit units[] = {{'\0', 1}, {'k', 1u << 10},
	    {'K', 1u << 10}, {'m', 1u << 20}, {'M', 1u << 20}, {'g', 1u << 30},
	    {'G', 1u << 30}, {'\0', 0}};

	return parse_scaled(s, units, UINT64_MAX, bytes);
}

/* "~/x" -> home/x, from the password database (core/ reads no
 * environment). */
static char *
expand_path(const char *v)
{
	struct passwd *pw;

	if (v[0] != '~' || (v[1] != '/' && v[1] != '\0'))
		return xstrdup(v);
	pw = getpwuid(getuid());
	if (pw == NULL || pw->pw_dir == NULL)
		return xstrdup(v);
	return xasprintf("%s%s", pw->pw_dir, v + 1);
}

static void
set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = xstrdup(v);
}

static void
set_secret(char **dst, const char *v)
{
	xfree_secret(*dst);
	*dst = xstrdup(v);
}

static void
account_free(struct config_account *a)
{
	free(a->name);
	free(a->host);
	free(a->user);
	xfree_secret(a->password);
	free(a->passwordeval);
	free(a->password_file);
	free(a->cafile);
	free(a->auth);
	free(a->pinnedkey);
	free(a->where);
	memset(a, 0, sizeof(*a));
}

static struct config_account *
account_new(struct config *c, const char *name, const char *where)
{
	struct config_account *a;

	c->accounts =
	    xreallocarray(c->accounts, c->naccounts + 1, sizeof(*c->accounts));
	a = &c->accounts[c->naccounts++];
	memset(a, 0, sizeof(*a));
	a->name = xstrdup(name);
	a->where = xstrdup(where);
	a->tls = CONFIG_TLS_IMPLICIT;
	return a;
}

static bool
parse_bool(const char *v, bool *b)
{
	if (strcmp(v, "yes") == 0 || strcmp(v, "on") == 0 ||
	    strcmp(v, "true") == 0) {
		*b = true;
		return true;
	}
	if (strcmp(v, "no") == 0 || strcmp(v, "off") == 0 ||
	    strcmp(v, "false") == 0) {
		*b = false;
		return true;
	}
	return false;
}

static enum pv_code parse_authority(struct config_account *a, const char *url,
    const char *p, const char *end, const char *scheme, struct pv_err *err);

/* Parse "pop3s://user@host[:port][/]" into a. */
static enum pv_code
parse_url(struct config_account *a, const char *url, struct pv_err *err)
{
	const char *p, *end;

	if (strncmp(url, "pop3s://", 8) == 0) {
		a->tls = CONFIG_TLS_IMPLICIT;
		p = url + 8;
	} else if (strncmp(url, "pop3://", 7) == 0) {
		a->tls = CONFIG_TLS_STARTTLS;
		p = url + 7;
	} else {
		return pv_errf(err, PV_EUSAGE,
		    "%s: the URL must start with pop3s:// (TLS) or pop3:// (STLS)",
		    url);
	}
	end = p + strcspn(p, "/?#");
	if (*end == '/' && end[1] != '\0')
		return pv_errf(err, PV_EUSAGE,
		    "%s: a POP3 URL has no path; give pop3s://user@host[:port]",
		    url);
	if (*end == '?' || *end == '#')
		return pv_errf(err, PV_EUSAGE, "%s: unexpected '%c'", url,
		    *end);
	return parse_authority(a, url, p, end, "pop3s", err);
}

/* "user@host[:port]" in p[0..end) of url into a. */
static enum pv_code
parse_authority(struct config_account *a, const char *url, const char *p,
    const char *end, const char *scheme, struct pv_err *err)
{
	const char *at, *host, *colon;
	size_t hlen;

	at = NULL;
	for (const char *q = p; q < end; q++)
		if (*q == '@')
			at = q;
	if (at == NULL || at == p)
		return pv_errf(err, PV_EUSAGE,
		    "%s: no user name; give %s://user@host[:port]", url,
		    scheme);
	if (memchr(p, ':', (size_t)(at - p)) != NULL)
		return pv_errf(err, PV_EUSAGE,
		    "a password in the URL is refused (it would show in the process list); use POPVAULT_PASSWORD, --password-file or --password-command");
	free(a->user);
	a->user = xstrndup(p, (size_t)(at - p));
	host = at + 1;
	if (*host == '[') {
		const char *rb = memchr(host, ']', (size_t)(end - host));

		if (rb == NULL)
			return pv_errf(err, PV_EUSAGE, "%s: unclosed '['", url);
		free(a->host);
		a->host = xstrndup(host + 1, (size_t)(rb - host - 1));
		colon = rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
		if (rb + 1 < end && colon == NULL)
			return pv_errf(err, PV_EUSAGE, "%s: bad host", url);
	} else {
		colon = memchr(host, ':', (size_t)(end - host));
		hlen = (size_t)((colon ? colon : end) - host);
		free(a->host);
		a->host = xstrndup(host, hlen);
	}
	if (a->host[0] == '\0')
		return pv_errf(err, PV_EUSAGE, "%s: no host name", url);
	a->port = 0;
	if (colon != NULL) {
		char *e;
		unsigned long port;

		errno = 0;
		port = strtoul(colon + 1, &e, 10);
		if (errno != 0 || e != end || e == colon + 1 || port == 0 ||
		    port > 65535)
			return pv_errf(err, PV_EUSAGE, "%s: bad port", url);
		a->port = (unsigned)port;
	}
	a->set |= CK_HOST | CK_USER | CK_TLS | CK_PORT;
	return PV_OK;
}

static int
hexdig(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

enum pv_code
config_parse_target(const char *url, struct config_target *t,
    struct pv_err *err)
{
	struct config_account a;
	const char *p, *end, *q;
	char *f;
	size_t n = 0;
	enum pv_code rc;

	memset(t, 0, sizeof(*t));
	memset(&a, 0, sizeof(a));
	if (strncmp(url, "imaps://", 8) == 0) {
		t->implicit_tls = true;
		p = url + 8;
	} else if (strncmp(url, "imap://", 7) == 0) {
		p = url + 7;
	} else {
		return pv_errf(err, PV_EUSAGE,
		    "%s: the target must start with imaps:// (TLS) or imap:// (STARTTLS)",
		    url);
	}
	q = p + strcspn(p, "?#");
	if (*q != '\0')
		return pv_errf(err, PV_EUSAGE,
		    "%s: unexpected '%c' (write it as %%%02X in a folder name)",
		    url, *q, (unsigned char)*q);
	end = p + strcspn(p, "/");
	rc = parse_authority(&a, url, p, end, "imaps", err);
	if (rc != PV_OK)
		goto out;
	/* The folder: the percent-decoded path, UTF-8. */
	q = *end == '/' ? end + 1 : end;
	f = xmalloc(strlen(q) + 1);
	for (; *q != '\0'; q++) {
		if (*q == '%') {
			int hi = hexdig(q[1]), lo = hi < 0 ? -1 : hexdig(q[2]);

			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
				free(f);
				rc = pv_errf(err, PV_EUSAGE,
				    "%s: bad %%-escape in the folder name",
				    url);
				goto out;
			}
			f[n++] = (char)(hi * 16 + lo);
			q += 2;
		} else {
			f[n++] = *q;
		}
	}
	f[n] = '\0';
	if (n == 0) {
		free(f);
		f = xstrdup("INBOX");
	}
	t->folder = f;
	t->user = a.user;
	t->host = a.host;
	t->port = a.port;
	a.user = a.host = NULL;
	t->key = t->port != 0 ? xasprintf("%s@%s:%u", t->user, t->host, t->port)
	                      : xasprintf("%s@%s", t->user, t->host);
out:
	free(a.user);
	free(a.host);
	return rc;
}

void
config_target_free(struct config_target *t)
{
	free(t->user);
	free(t->host);
	free(t->folder);
	free(t->key);
	memset(t, 0, sizeof(*t));
}

enum pv_code
config_add_url(struct config *c, const char *url, struct pv_err *err)
{
	struct config_account tmp;
	enum pv_code rc;
	char *name;

	memset(&tmp, 0, sizeof(tmp));
	rc = parse_url(&tmp, url, err);
	if (rc != PV_OK) {
		account_free(&tmp);
		return rc;
	}
	if (tmp.port != 0)
		name = xasprintf("%s@%s:%u", tmp.user, tmp.host, tmp.port);
	else
		name = xasprintf("%s@%s", tmp.user, tmp.host);
	if (config_find(c, name) != NULL) {
		rc = pv_errf(err, PV_EUSAGE, "account %s given twice", name);
		free(name);
		account_free(&tmp);
		return rc;
	}
	tmp.name = name;
	tmp.where = xstrdup("--from");
	c->accounts =
	    xreallocarray(c->accounts, c->naccounts + 1, sizeof(*c->accounts));
	c->accounts[c->naccounts++] = tmp;
	return PV_OK;
}

struct config_account *
config_find(struct config *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->naccounts; i++)
		if (strcmp(c->accounts[i].name, name) == 0)
			return &c->accounts[i];
	return NULL;
}

/* Split a line into key and value; the value may be double-quoted with
 * \" and \\ escapes.  Writes into 'line'.  Returns an error text or NULL. */
static const char *
split_line(char *line, char **key, char **val)
{
	char *p = line, *q, *w;

	while (*p == ' ' || *p == '\t')
		p++;
	*key = p;
	while (*p != '\0' && *p != ' ' && *p != '\t')
		p++;
	if (*p != '\0')
		*p++ = '\0';
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != '"') {
		q = p + strlen(p);
		while (q > p && (q[-1] == ' ' || q[-1] == '\t'))
			*--q = '\0';
		*val = p;
		return NULL;
	}
	w = q = ++p;
	for (;;) {
		if (*q == '\0')
			return "unterminated quoted value";
		if (*q == '"')
			break;
		if (*q == '\\' && (q[1] == '"' || q[1] == '\\'))
			q++;
		*w++ = *q++;
	}
	q++;
	while (*q == ' ' || *q == '\t')
		q++;
	if (*q != '\0')
		return "text after the closing quote";
	*w = '\0';
	*val = p;
	return NULL;
}

/* Keys valid in "defaults" and "account" blocks.  Returns false with
 * *msg set if the value is bad; *handled false if the key is not one. */
static bool
account_key(struct config_account *a, const char *key, const char *val,
    bool *handled, const char **msg, bool *has_password)
{
	bool b;

	*handled = true;
	if (strcmp(key, "from") == 0) {
		struct pv_err e;

		if (parse_url(a, val, &e) != PV_OK) {
			*msg =
			    "bad URL (give pop3s://user@host[:port] or pop3://user@host[:port])";
			return false;
		}
	} else if (strcmp(key, "host") == 0) {
		set_str(&a->host, val);
		a->set |= CK_HOST;
	} else if (strcmp(key, "port") == 0) {
		char *e;
		unsigned long p;

		errno = 0;
		p = strtoul(val, &e, 10);
		if (errno != 0 || *e != '\0' || e == val || p == 0 ||
		    p > 65535) {
			*msg = "port must be a number from 1 to 65535";
			return false;
		}
		a->port = (unsigned)p;
		a->set |= CK_PORT;
	} else if (strcmp(key, "tls") == 0) {
		if (strcmp(val, "implicit") == 0 || strcmp(val, "on") == 0)
			a->tls = CONFIG_TLS_IMPLICIT;
		else if (strcmp(val, "starttls") == 0 ||
		         strcmp(val, "stls") == 0)
			a->tls = CONFIG_TLS_STARTTLS;
		else if (strcmp(val, "off") == 0)
			a->tls = CONFIG_TLS_OFF;
		else {
			*msg = "tls must be implicit, starttls or off";
			return false;
		}
		a->set |= CK_TLS;
	} else if (strcmp(key, "allow_plaintext") == 0) {
		if (!parse_bool(val, &b)) {
			*msg = "allow_plaintext must be yes or no";
			return false;
		}
		a->allow_plaintext = b;
		a->set |= CK_PLAINTEXT;
	} else if (strcmp(key, "user") == 0) {
		set_str(&a->user, val);
		a->set |= CK_USER;
	} else if (strcmp(key, "password") == 0) {
		set_secret(&a->password, val);
		a->set |= CK_PASSWORD;
		*has_password = true;
	} else if (strcmp(key, "passwordeval") == 0) {
		set_str(&a->passwordeval, val);
		a->set |= CK_PASSWORDEVAL;
	} else if (strcmp(key, "password_file") == 0) {
		free(a->password_file);
		a->password_file = expand_path(val);
		a->set |= CK_PASSWORDFILE;
	} else if (strcmp(key, "cafile") == 0) {
		free(a->cafile);
		a->cafile = expand_path(val);
		a->set |= CK_CAFILE;
	} else if (strcmp(key, "auth") == 0) {
		set_str(&a->auth, val);
		a->set |= CK_AUTH;
	} else if (strcmp(key, "pinnedkey") == 0) {
		set_str(&a->pinnedkey, val);
		a->set |= CK_PINNEDKEY;
	} else if (strcmp(key, "delete") == 0) {
		if (!parse_bool(val, &b)) {
			*msg = "delete must be yes or no";
			return false;
		}
		a->keep = b ? CONFIG_DELETE : CONFIG_KEEP;
		a->set |= CK_KEEP;
	} else if (strcmp(key, "delete_after") == 0) {
		if (!config_parse_duration(val, &a->delete_after)) {
			*msg =
			    "delete_after must be a duration such as 30d, 12h or 90m";
			return false;
		}
		a->keep = CONFIG_DELETE_AFTER;
		a->set |= CK_KEEP;
	} else {
		*handled = false;
	}
	return true;
}

bool
config_parse_count(const char *s, unsigned min, unsigned max, unsigned *out)
{
	char *e;
	long l;

	errno = 0;
	l = strtol(s, &e, 10);
	if (errno != 0 || *e != '\0' || e == s || l < (long)min ||
	    l > (long)max)
		return false;
	*out = (unsigned)l;
	return true;
}

bool
config_parse_jobs(const char *s, unsigned *out)
{
	return config_parse_count(s, 1, CONFIG_JOBS_MAX, out);
}

/* Run-wide keys, valid in "defaults" (and before any block). */
static bool
run_key(struct config *c, const char *key, const char *val, bool *handled,
    const char **msg)
{
	int64_t d;
	uint64_t sz;

	*handled = true;
	if (strcmp(key, "archive") == 0) {
		free(c->archive);
		c->archive = expand_path(val);
	} else if (strcmp(key, "state") == 0) {
		free(c->state);
		c->state = expand_path(val);
	} else if (strcmp(key, "compress") == 0) {
		if (strcmp(val, "gzip") != 0 && strcmp(val, "zstd") != 0 &&
		    strcmp(val, "xz") != 0 && strcmp(val, "none") != 0) {
			*msg = "compress must be gzip, zstd, xz or none";
			return false;
		}
		set_str(&c->compress, val);
	} else if (strcmp(key, "level") == 0) {
		char *e;
		long l;

		errno = 0;
		l = strtol(val, &e, 10);
		if (errno != 0 || *e != '\0' || e == val || l < 0 || l > 22) {
			*msg = "level must be a number from 0 to 22";
			return false;
		}
		c->level = (int)l;
	} else if (strcmp(key, "timeout") == 0) {
		if (!config_parse_duration(val, &d) || d == 0 || d > 86400) {
			*msg = "timeout must be a duration such as 60s or 5m";
			return false;
		}
		c->timeout_ms = (long)d * 1000;
	} else if (strcmp(key, "connect_timeout") == 0) {
		if (!config_parse_duration(val, &d) || d == 0 || d > 86400) {
			*msg = "connect_timeout must be a duration such as 30s";
			return false;
		}
		c->connect_timeout_ms = (long)d * 1000;
	} else if (strcmp(key, "max_size") == 0) {
		if (!config_parse_size(val, &c->max_size)) {
			*msg = "max_size must be a size such as 50M";
			return false;
		}
	} else if (strcmp(key, "jobs") == 0) {
		if (!config_parse_jobs(val, &c->jobs)) {
			*msg = "jobs must be a number from 1 to 64";
			return false;
		}
	} else if (strcmp(key, "retries") == 0) {
		if (!config_parse_count(val, 0, CONFIG_RETRIES_MAX,
		        &c->retries)) {
			*msg = "retries must be a number from 0 to 10";
			return false;
		}
	} else if (strcmp(key, "retry_delay") == 0) {
		if (!config_parse_duration(val, &d) || d < 1 ||
		    d > CONFIG_RETRY_DELAY_MAX) {
			*msg = "retry_delay must be a duration from 1s to 1h";
			return false;
		}
		c->retry_delay = d;
	} else if (strcmp(key, "volume_size") == 0) {
		if (!config_parse_size(val, &sz) || sz < 1024 * 1024) {
			*msg = "volume_size must be a size of at least 1M";
			return false;
		}
		c->volume_size = sz;
	} else if (strcmp(key, "tmpdir") == 0) {
		free(c->tmpdir);
		c->tmpdir = expand_path(val);
	} else if (strcmp(key, "target") == 0) {
		struct config_target t;
		struct pv_err e;

		if (config_parse_target(val, &t, &e) != PV_OK) {
			*msg =
			    "target must be imaps://user@host[:port]/Folder or imap://...";
			return false;
		}
		config_target_free(&t);
		set_str(&c->target, val);
	} else if (strcmp(key, "target_passwordeval") == 0) {
		set_str(&c->target_passwordeval, val);
	} else if (strcmp(key, "target_password_file") == 0) {
		free(c->target_password_file);
		c->target_password_file = expand_path(val);
	} else if (strcmp(key, "target_cafile") == 0) {
		free(c->target_cafile);
		c->target_cafile = expand_path(val);
	} else if (strcmp(key, "target_flags") == 0) {
		/* "none": no flags (a value cannot be empty here). */
		set_str(&c->target_flags, strcmp(val, "none") == 0 ? "" : val);
	} else if (strcmp(key, "target_per_account") == 0) {
		if (!parse_bool(val, &c->target_per_account)) {
			*msg = "target_per_account must be yes or no";
			return false;
		}
	} else {
		*handled = false;
	}
	return true;
}

static enum pv_code
security_check(const char *path, int fd, struct pv_err *err)
{
	struct stat sb;

	if (fstat(fd, &sb) != 0)
		return pv_errf(err, PV_ECONFIG, "%s: %s", path,
		    strerror(errno));
	if (!S_ISREG(sb.st_mode))
		return pv_errf(err, PV_ECONFIG,
		    "%s: holds a password but is not a regular file", path);
	if (sb.st_uid != geteuid())
		return pv_errf(err, PV_ECONFIG,
		    "%s: holds a password but is not owned by you", path);
	if ((sb.st_mode & 077) != 0)
		return pv_errf(err, PV_ECONFIG,
		    "%s: holds a password but can be read by others (mode %04o): chmod 600 it",
		    path, (unsigned)(sb.st_mode & 07777));
	return PV_OK;
}

enum pv_code
config_load(struct config *c, const char *path, struct pv_err *err)
{
	FILE *fp;
	char line[LINE_MAX_LEN + 2];
	unsigned lineno = 0;
	struct config_account *cur = NULL; /* NULL: defaults */
	size_t cur_idx = 0;
	bool has_password = false;
	enum pv_code rc = PV_OK;

	fp = fopen(path, "r");
	if (fp == NULL)
		return pv_errf(err, PV_ECONFIG, "%s: %s", path,
		    strerror(errno));
	while (fgets(line, sizeof(line), fp) != NULL) {
		char *key, *val;
		const char *msg = NULL;
		size_t n = strlen(line);
		bool handled;

		lineno++;
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		else if (!feof(fp)) {
			rc = pv_errf(err, PV_ECONFIG, "%s:%u: line too long",
			    path, lineno);
			goto out;
		}
		if (n > 0 && line[n - 1] == '\r')
			line[--n] = '\0';
		if (memchr(line, '\0', n) != NULL || strlen(line) != n) {
			rc = pv_errf(err, PV_ECONFIG, "%s:%u: NUL byte", path,
			    lineno);
			goto out;
		}
		msg = split_line(line, &key, &val);
		if (msg != NULL) {
			rc = pv_errf(err, PV_ECONFIG, "%s:%u: %s", path, lineno,
			    msg);
			goto out;
		}
		if (*key == '\0' || *key == '#')
			continue;
		if (strcmp(key, "defaults") == 0) {
			if (*val != '\0') {
				rc = pv_errf(err, PV_ECONFIG,
				    "%s:%u: 'defaults' takes no value", path,
				    lineno);
				goto out;
			}
			cur = NULL;
			continue;
		}
		if (strcmp(key, "account") == 0) {
			char *where;

			if (*val == '\0') {
				rc = pv_errf(err, PV_ECONFIG,
				    "%s:%u: 'account' needs a name", path,
				    lineno);
				goto out;
			}
			if (strcmp(val, "defaults") == 0 ||
			    config_find(c, val) != NULL) {
				rc = pv_errf(err, PV_ECONFIG,
				    "%s:%u: account %s defined twice", path,
				    lineno, val);
				goto out;
			}
			where = xasprintf("%s:%u", path, lineno);
			(void)account_new(c, val, where);
			free(where);
			cur_idx = c->naccounts - 1;
			cur = &c->accounts[cur_idx];
			continue;
		}
		if (*val == '\0') {
			rc = pv_errf(err, PV_ECONFIG,
			    "%s:%u: '%s' needs a value", path, lineno, key);
			goto out;
		}
		/* account_new may have moved the array: re-point. */
		if (cur != NULL)
			cur = &c->accounts[cur_idx];
		if (!account_key(cur ? cur : &c->defaults, key, val, &handled,
		        &msg, &has_password)) {
			rc = pv_errf(err, PV_ECONFIG, "%s:%u: %s", path, lineno,
			    msg);
			goto out;
		}
		if (handled)
			continue;
		if (!run_key(c, key, val, &handled, &msg)) {
			rc = pv_errf(err, PV_ECONFIG, "%s:%u: %s", path, lineno,
			    msg);
			goto out;
		}
		if (handled && cur != NULL) {
			rc = pv_errf(err, PV_ECONFIG,
			    "%s:%u: '%s' applies to the whole run: put it under 'defaults'",
			    path, lineno, key);
			goto out;
		}
		if (!handled) {
			rc = pv_errf(err, PV_ECONFIG, "%s:%u: unknown key '%s'",
			    path, lineno, key);
			goto out;
		}
	}
	if (ferror(fp)) {
		rc = pv_errf(err, PV_ECONFIG, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (has_password)
		rc = security_check(path, fileno(fp), err);
out:
	explicit_bzero(line, sizeof(line));
	(void)fclose(fp);
	return rc;
}

enum pv_code
config_finish(struct config *c, struct pv_err *err)
{
	const struct config_account *d = &c->defaults;
	size_t i;

	for (i = 0; i < c->naccounts; i++) {
		struct config_account *a = &c->accounts[i];

#define INHERIT_STR(bit, field)                    \
	if (!(a->set & (bit)) && d->field != NULL) \
		a->field = xstrdup(d->field);
		INHERIT_STR(CK_HOST, host)
		INHERIT_STR(CK_USER, user)
		INHERIT_STR(CK_PASSWORD, password)
		INHERIT_STR(CK_PASSWORDEVAL, passwordeval)
		INHERIT_STR(CK_PASSWORDFILE, password_file)
		INHERIT_STR(CK_CAFILE, cafile)
		INHERIT_STR(CK_AUTH, auth)
		INHERIT_STR(CK_PINNEDKEY, pinnedkey)
#undef INHERIT_STR
		if (!(a->set & CK_PORT) && (d->set & CK_PORT))
			a->port = d->port;
		if (!(a->set & CK_TLS) && (d->set & CK_TLS))
			a->tls = d->tls;
		if (!(a->set & CK_PLAINTEXT) && (d->set & CK_PLAINTEXT))
			a->allow_plaintext = d->allow_plaintext;
		if (!(a->set & CK_KEEP) && (d->set & CK_KEEP)) {
			a->keep = d->keep;
			a->delete_after = d->delete_after;
		}
		if (a->host == NULL)
			return pv_errf(err, PV_ECONFIG,
			    "%s: account %s has no host", a->where, a->name);
		if (a->user == NULL)
			return pv_errf(err, PV_ECONFIG,
			    "%s: account %s has no user", a->where, a->name);
		if (a->tls == CONFIG_TLS_OFF && !a->allow_plaintext)
			return pv_errf(err, PV_ECONFIG,
			    "%s: account %s: 'tls off' sends the password in the clear; add 'allow_plaintext yes' if that is really wanted",
			    a->where, a->name);
	}
	return PV_OK;
}

void
config_free(struct config *c)
{
	size_t i;

	for (i = 0; i < c->naccounts; i++)
		account_free(&c->accounts[i]);
	free(c->accounts);
	account_free(&c->defaults);
	free(c->archive);
	free(c->state);
	free(c->compress);
	free(c->tmpdir);
	free(c->target);
	free(c->target_passwordeval);
	free(c->target_password_file);
	free(c->target_cafile);
	free(c->target_flags);
	memset(c, 0, sizeof(*c));
}
