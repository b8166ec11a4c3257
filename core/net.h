/* SPDX-License-Identifier: MIT */
/*
 * core/net.h - the connection: libcurl with CURLOPT_CONNECT_ONLY does name
 * resolution, proxies, implicit TLS or STLS/STARTTLS (required, never
 * "try"), certificate verification, greeting, CAPA and the SASL/USER login;
 * then our protocol code sends and receives raw bytes through
 * curl_easy_send/curl_easy_recv with poll() and a timeout on every wait.
 * The only libcurl user.  libcurl never sends QUIT/LOGOUT on such a
 * connection (it treats it as dead on cleanup), so QUIT is ours alone.
 */
#ifndef PV_NET_H
#define PV_NET_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "err.h"

struct net; /* opaque: one logged-in connection */

enum net_proto { NET_POP3, NET_IMAP };

struct net_conf {
	enum net_proto proto;
	const char *host;     /* borrowed */
	unsigned port;        /* 0: the protocol's default for 'implicit_tls' */
	bool implicit_tls;    /* pop3s/imaps; else STLS/STARTTLS is required */
	bool allow_plaintext; /* may go on without TLS when the server offers
	                         no STLS/STARTTLS (explicit opt-in only) */
	bool no_tls;          /* never start TLS ("tls off"); needs
	                         allow_plaintext */
	const char *user;     /* borrowed; NULL: no login */
	const char *password; /* borrowed secret; never logged */
	const char *bearer;   /* borrowed OAuth2 token, or NULL */
	const char *auth;     /* mechanism to pin ("PLAIN", "LOGIN", "USER",
	                         "APOP", "XOAUTH2", ...), or NULL: libcurl's
	                         choice among what the server offers */
	const char *cafile;   /* PEM bundle to trust instead of the system's */
	const char *pinnedkey;   /* "sha256//..." public key pin, or NULL */
	long connect_timeout_ms; /* bounds connect + TLS + login */
	long io_timeout_ms;      /* bounds every single wait afterwards */
	volatile sig_atomic_t *abort; /* set by a signal handler; or NULL */
};

/* Connect, secure, greet and log in.  On PV_OK *out is a connection the
 * caller ends with net_close().  Failures: PV_EAUTH (credentials rejected;
 * err names the server's text), PV_EBUSY ("[IN-USE]" or "[LOGIN-DELAY]"),
 * PV_ETLS (certificate not trusted, STLS/STARTTLS not offered or refused),
 * PV_ENET (resolve, connect, timeout), PV_EABORT. */
enum pv_code net_open(const struct net_conf *conf, struct net **out,
    struct pv_err *err);

/* Send all 'n' bytes (waiting as needed, each wait bounded by
 * io_timeout_ms).  PV_ENET on timeout or a closed connection. */
enum pv_code net_send(struct net *c, const void *p, size_t n,
    struct pv_err *err);

/* Receive at least one byte into p[0..cap), *got set to how many.  A peer
 * that closes the connection is PV_ENET ("connection closed by server"),
 * never a zero-length success.  PV_ENET on timeout, PV_EABORT when *abort
 * becomes set while waiting. */
enum pv_code net_recv(struct net *c, void *p, size_t cap, size_t *got,
    struct pv_err *err);

/* Protocol trace of what our code sends and receives (debug category),
 * with PASS/AUTH/LOGIN lines redacted.  'in' tells the direction. */
void net_trace(struct net *c, bool in, const char *line, size_t n);

/* True once net_recv() has seen the server close the connection, so that
 * a caller can tell "closed in the middle of a reply" from a timeout. */
bool net_eof(const struct net *c);

/* "host:port" for messages; valid until net_close(). */
const char *net_peer(const struct net *c);

/* Rewrite err as "host:port: what: reason" (a reason that already starts
 * with "host:port: " loses that prefix, so the peer is named once); keeps
 * err->code and returns it.  For protocol modules naming the command. */
enum pv_code net_errcontext(const struct net *c, const char *what,
    struct pv_err *err);

/* Drop the connection without any goodbye (no QUIT/LOGOUT: on POP3 this
 * means the server deletes nothing).  Accepts NULL. */
void net_close(struct net *c);

/* libcurl's global init/cleanup, once per process (main.c). */
void net_global_init(void);
void net_global_cleanup(void);

#endif /* PV_NET_H */
