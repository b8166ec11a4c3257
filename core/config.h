/* SPDX-License-Identifier: MIT */
/*
 * core/config.h - the run's configuration, from a config file and/or the
 * command line (both build the same struct config; the command line wins).
 * File format (popvault.5 / docs): line-based "key value", blocks opened by
 * "defaults" and "account NAME", '#' comments, double-quoted values may
 * hold spaces.  Every error reads "file:line: message" (PV_ECONFIG).
 * libc only; reads the file, never the environment.
 */
#ifndef PV_CONFIG_H
#define PV_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

enum config_tls { CONFIG_TLS_IMPLICIT, CONFIG_TLS_STARTTLS, CONFIG_TLS_OFF };

enum config_keep {
	CONFIG_KEEP,        /* leave everything on the server (default) */
	CONFIG_DELETE,      /* delete once durable everywhere */
	CONFIG_DELETE_AFTER /* delete once durable and first retrieved
	                       delete_after seconds ago */
};

/* Bits of struct config_account.set: which keys were given explicitly,
 * so that defaults and the command line merge key by key. */
enum config_key {
	CK_HOST = 1u << 0,
	CK_PORT = 1u << 1,
	CK_TLS = 1u << 2,
	CK_USER = 1u << 3,
	CK_PASSWORD = 1u << 4,
	CK_PASSWORDEVAL = 1u << 5,
	CK_PASSWORDFILE = 1u << 6,
	CK_CAFILE = 1u << 7,
	CK_AUTH = 1u << 8,
	CK_PINNEDKEY = 1u << 9,
	CK_KEEP = 1u << 10,
	CK_PLAINTEXT = 1u << 11
};

struct config_account {
	char *name; /* owned, like every string here */
	char *host;
	unsigned port; /* 0: the default for tls */
	enum config_tls tls;
	bool allow_plaintext;
	char *user;
	char *password; /* secret: wiped on free */
	char *passwordeval;
	char *password_file;
	char *cafile;
	char *auth;
	char *pinnedkey;
	enum config_keep keep;
	int64_t delete_after; /* seconds, with CONFIG_DELETE_AFTER */
	unsigned set;         /* enum config_key bits */
	char *where;          /* "file:line" of its definition, or "--from" */
};

struct config {
	struct config_account *accounts;
	size_t naccounts;
	struct config_account defaults;
	char *archive;   /* archive directory */
	char *state;     /* state db path */
	char *compress;  /* "gzip", "zstd", "xz", "none" */
	int level;       /* -1: the filter's default */
	long timeout_ms; /* per network wait */
	long connect_timeout_ms;
	unsigned window;  /* commands in flight, 0: default */
	unsigned jobs;    /* accounts at once (connections to POP3) */
	unsigned retries; /* an account's run again after a network failure */
	int64_t retry_delay; /* seconds before the first retry (then doubled) */
	uint64_t max_size;   /* skip messages bigger than this; 0: none */
	uint64_t volume_size; /* start a new volume past this many bytes */
	uint64_t mem_max;     /* message bytes held in memory before spilling */
	char *tmpdir;         /* NULL: $TMPDIR or /tmp (resolved by cmd/) */
	/* migrate's IMAP target (run-wide keys; the command line wins) */
	char *target; /* imaps://user@host[:port]/Folder, checked on load */
	char *target_passwordeval;
	char *target_password_file;
	char *target_cafile;
	char *target_flags; /* NULL: \Seen; "" (value "none"): none */
	bool target_per_account;
};

/* Accounts backed up at once unless told (jobs): one, so that a content
 * two accounts share is stored once (docs/STATE.md §4.2), and a provider's
 * per-address connection limit is never the surprise. */
#define CONFIG_JOBS_DEFAULT 1
#define CONFIG_JOBS_MAX     64

/* A run that failed on the network (75) is tried again, for that account,
 * this many times unless told (retries), the first time after
 * retry_delay seconds and then twice as long each time. */
#define CONFIG_RETRIES_DEFAULT     0
#define CONFIG_RETRIES_MAX         10
#define CONFIG_RETRY_DELAY_DEFAULT 60
#define CONFIG_RETRY_DELAY_MAX     3600

/* A decimal number from min to max (no sign, nothing after it). */
bool config_parse_count(const char *s, unsigned min, unsigned max,
    unsigned *out);

/* "N", 1 to CONFIG_JOBS_MAX. */
bool config_parse_jobs(const char *s, unsigned *out);

/* Zero and set the built-in defaults. */
void config_init(struct config *c);

/* Read 'path' into c (adding its accounts; run-wide keys overwrite).
 * A file with a "password" key must be a regular file owned by the user
 * and not accessible by group or others (PV_ECONFIG otherwise). */
enum pv_code config_load(struct config *c, const char *path,
    struct pv_err *err);

/* Parse a --from URL (pop3s://user@host[:port] or pop3://...) into a new
 * account appended to c; its name is "user@host" (":port" if given).
 * PV_EUSAGE on a malformed URL or a password inside it. */
enum pv_code config_add_url(struct config *c, const char *url,
    struct pv_err *err);

/* An IMAP target: imaps://user@host[:port]/Folder (implicit TLS) or
 * imap://... (STARTTLS required); the folder is the percent-decoded
 * path (UTF-8), "INBOX" when empty. */
struct config_target {
	char *user, *host; /* owned, like every string here */
	unsigned port;     /* 0: the default for implicit_tls */
	bool implicit_tls;
	char *folder;
	char *key; /* "user@host" or "user@host:port": names it in the state */
};
/* PV_EUSAGE on a malformed URL, a password in it, or a bad %-escape. */
enum pv_code config_parse_target(const char *url, struct config_target *t,
    struct pv_err *err);
void config_target_free(struct config_target *t);

/* Find an account by name, or NULL. */
struct config_account *config_find(struct config *c, const char *name);

/* Fill every key an account did not set from the defaults block, and
 * check it is complete (host, user).  Call once after loading. */
enum pv_code config_finish(struct config *c, struct pv_err *err);

/* "30d", "12h", "90m", "45s", "2w", or plain seconds. */
bool config_parse_duration(const char *s, int64_t *secs);
/* "512", "64k", "10M", "2G" (powers of 1024). */
bool config_parse_size(const char *s, uint64_t *bytes);

/* Free everything (secrets wiped).  Accepts a zeroed struct. */
void config_free(struct config *c);

#endif /* PV_CONFIG_H */
