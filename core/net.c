/* SPDX-License-Identifier: MIT */
/*
 * core/net.c - the connection layer: libcurl in CONNECT_ONLY mode for
 * resolving, connecting, TLS (implicit or STLS/STARTTLS, verified), the
 * greeting and the login; then raw bytes through curl_easy_send/recv with
 * our own poll() timeouts.  The only libcurl user.  Owns the protocol
 * trace and its redaction: no password or token reaches the log.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "log.h"
#include "net.h"
#include "net_p.h"
#include "xmem.h"

#define NET_SLICE_MS      200   /* longest poll() between abort checks */
#define NET_DEFAULT_IO_MS 60000 /* io_timeout_ms 0 */
#define NET_DEFAULT_CO_MS 30000 /* connect_timeout_ms 0 */
#define NET_LINE_MAX      8192  /* a line of our own USER/PASS login */
#define NET_TRACE_MAX     512   /* a trace line is cut beyond this */
#define NET_REFUSAL_MAX   200   /* server text quoted from a refusal */
#define NET_CRED_MAX      1024  /* user or password for USER/PASS */

struct net {
	CURL *curl; /* owned */
	curl_socket_t fd;
	enum net_proto proto;
	unsigned cat; /* LOG_POP3 or LOG_IMAP */
	long io_timeout_ms;
	volatile sig_atomic_t *abort; /* borrowed */
	bool eof;                     /* the server closed the connection */
	bool opened;                  /* libcurl's connect phase is over */
	bool closing;                 /* inside net_close() */
	struct net_redact red;
	char peer[300];                /* "host:port" */
	char refusal[NET_REFUSAL_MAX]; /* last refusal during login */
	char errbuf[CURL_ERROR_SIZE];  /* libcurl's text for a failure */
	char *ahead;                   /* owned: read past our own login */
	size_t nahead, offahead;
};

/* ---- pure parts (net_p.h) ---------------------------------------------- */

/* Copy with control bytes made visible-harmless; returns the new length. */
static size_t
clean_copy(char *dst, size_t cap, size_t at, const char *src, size_t n)
{
	size_t i;

	for (i = 0; i < n && at + 1 < cap; i++) {
		unsigned char ch = (unsigned char)src[i];

		dst[at++] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
	}
	dst[at] = '\0';
	return at;
}

/* The space-separated token at *pos: its start and length; *pos moves past
 * it and the spaces after it. */
static size_t
next_token(const char *line, size_t n, size_t *pos, size_t *start)
{
	size_t i = *pos;

	*start = i;
	while (i < n && line[i] != ' ')
		i++;
	*pos = i;
	while (*pos < n && line[*pos] == ' ')
		(*pos)++;
	return i - *start;
}

static bool
token_is(const char *tok, size_t len, const char *word)
{
	return len == strlen(word) && strncasecmp(tok, word, len) == 0;
}

static bool
ci_prefix(const char *line, size_t n, const char *word)
{
	size_t wl = strlen(word);

	return n >= wl && strncasecmp(line, word, wl) == 0;
}

static bool
ci_contains(const char *line, size_t n, const char *word)
{
	size_t wl = strlen(word), i;

	for (i = 0; i + wl <= n; i++)
		if (strncasecmp(line + i, word, wl) == 0)
			return true;
	return false;
}

void
net_redact_init(struct net_redact *r, enum net_proto proto)
{
	r->proto = proto;
	r->in_auth = false;
}

/* How many leading bytes of a client line may be shown; *secret set when
 * the rest must be hidden.  Updates the exchange state. */
static size_t
redact_out(struct net_redact *r, const char *line, size_t n, bool *secret)
{
	size_t pos = 0, s1, s2, s3, l1, l2, after2;

	*secret = false;
	if (r->in_auth) {
		/* SASL responses (base64 of user and password) and the
		 * literal parts of an IMAP LOGIN. */
		*secret = n > 0;
		return 0;
	}
	l1 = next_token(line, n, &pos, &s1);
	if (r->proto == NET_POP3) {
		if (token_is(line + s1, l1, "PASS")) {
			*secret = pos < n;
			return pos;
		}
		l2 = next_token(line, n, &pos, &s2);
		if (token_is(line + s1, l1, "APOP")) {
			*secret = pos < n;
			return pos;
		}
		if (token_is(line + s1, l1, "AUTH") && l2 > 0) {
			r->in_auth = true;
			*secret = pos < n; /* the initial response */
			return pos;
		}
		return n;
	}
	/* IMAP: "tag COMMAND args" */
	l2 = next_token(line, n, &pos, &s2);
	after2 = pos;
	if (token_is(line + s2, l2, "LOGIN")) {
		r->in_auth = true;
		*secret = after2 < n;
		return after2;
	}
	if (token_is(line + s2, l2, "AUTHENTICATE")) {
		(void)next_token(line, n, &pos, &s3);
		r->in_auth = true;
		*secret = pos < n;
		return pos;
	}
	return n;
}

size_t
net_redact(struct net_redact *r, bool in, const char *line, size_t n, char *dst,
    size_t cap)
{
	size_t keep, len;
	bool secret = false;

	if (in) {
		if (r->proto == NET_POP3) {
			if (ci_prefix(line, n, "+OK") ||
			    ci_prefix(line, n, "-ERR"))
				r->in_auth = false;
		} else if (n > 0 && line[0] != '+' && line[0] != '*') {
			r->in_auth = false; /* the tagged answer */
		}
		keep = n;
	} else {
		keep = redact_out(r, line, n, &secret);
	}
	len = clean_copy(dst, cap, 0, line, keep);
	if (secret)
		len = clean_copy(dst, cap, len, NET_REDACTED,
		    strlen(NET_REDACTED));
	return len;
}

bool
net_is_refusal(enum net_proto proto, const char *line, size_t n)
{
	size_t pos = 0, s1, s2, l1, l2;

	if (proto == NET_POP3)
		return ci_prefix(line, n, "-ERR");
	l1 = next_token(line, n, &pos, &s1);
	l2 = next_token(line, n, &pos, &s2);
	if (l1 == 1 && line[s1] == '*')
		return token_is(line + s2, l2, "BYE");
	if (l1 == 0 || line[s1] == '+')
		return false;
	return token_is(line + s2, l2, "NO") || token_is(line + s2, l2, "BAD");
}

enum pv_code
net_login_class(enum net_proto proto, const char *line, size_t n)
{
	if (proto == NET_POP3) {
		if (ci_contains(line, n, "[IN-USE") ||
		    ci_contains(line, n, "[LOGIN-DELAY"))
			return PV_EBUSY;
		if (ci_contains(line, n, "[SYS/TEMP"))
			return PV_ENET;
		return PV_EAUTH;
	}
	if (ci_contains(line, n, "[INUSE]"))
		return PV_EBUSY;
	if (ci_contains(line, n, "[UNAVAILABLE]"))
		return PV_ENET;
	return PV_EAUTH;
}

/* ---- trace ------------------------------------------------------------- */

void
net_trace(struct net *c, bool in, const char *line, size_t n)
{
	char shown[NET_TRACE_MAX];

	/* Always run the redactor: its state must follow the exchange even
	 * while the trace is off. */
	(void)net_redact(&c->red, in, line, n, shown, sizeof(shown));
	log_debug(c->cat, "%s %s %s", c->peer, in ? "S:" : "C:", shown);
}

/* libcurl's own protocol lines during connect and login. */
static void
curl_lines(struct net *c, bool in, const char *data, size_t size)
{
	while (size > 0) {
		const char *nl = memchr(data, '\n', size);
		size_t len = nl != NULL ? (size_t)(nl - data) : size;
		size_t used = nl != NULL ? len + 1 : len;

		if (len > 0 && data[len - 1] == '\r')
			len--;
		net_trace(c, in, data, len);
		if (!c->opened) {
			if (!in)
				c->refusal[0] = '\0'; /* a new command */
			else if (net_is_refusal(c->proto, data, len))
				(void)clean_copy(c->refusal, sizeof(c->refusal),
				    0, data, len);
		}
		data += used;
		size -= used;
	}
}

static int
debug_cb(CURL *h, curl_infotype type, char *data, size_t size, void *arg)
{
	struct net *c = arg;
	char text[NET_TRACE_MAX];

	(void)h;
	switch (type) {
	case CURLINFO_HEADER_IN:
	case CURLINFO_HEADER_OUT:
		curl_lines(c, type == CURLINFO_HEADER_IN, data, size);
		break;
	case CURLINFO_TEXT:
		/* Between connect and close libcurl only says "reached
		 * easy.c" on every would-block recv: noise. */
		if (!log_debug_on(LOG_NET) || (c->opened && !c->closing))
			break;
		while (size > 0 &&
		       (data[size - 1] == '\n' || data[size - 1] == '\r'))
			size--;
		(void)clean_copy(text, sizeof(text), 0, data, size);
		log_debug(LOG_NET, "%s * %s", c->peer, text);
		break;
	default:
		/* Message bytes and TLS records are never traced. */
		break;
	}
	return 0;
}

static int
xferinfo_cb(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
    curl_off_t ulnow)
{
	struct net *c = arg;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return c->abort != NULL && *c->abort ? 1 : 0;
}

/* ---- raw I/O ----------------------------------------------------------- */

static bool
aborted(const struct net *c)
{
	return c->abort != NULL && *c->abort;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until the socket is ready for 'events', in slices so that a signal
 * (whose handler sets *abort) is honoured within NET_SLICE_MS. */
static enum pv_code
wait_fd(struct net *c, short events, struct pv_err *err)
{
	int64_t deadline = now_ms() + c->io_timeout_ms;

	for (;;) {
		struct pollfd pfd;
		int64_t left;
		int r;

		if (aborted(c))
			return pv_errf(err, PV_EABORT, "%s: interrupted",
			    c->peer);
		left = deadline - now_ms();
		if (left <= 0)
			return pv_errf(err, PV_ENET,
			    "%s: no answer from the server within %ld ms",
			    c->peer, c->io_timeout_ms);
		pfd.fd = c->fd;
		pfd.events = events;
		pfd.revents = 0;
		r = poll(&pfd, 1,
		    (int)(left < NET_SLICE_MS ? left : NET_SLICE_MS));
		if (r > 0)
			return PV_OK; /* readable, writable, or an error that
			                 the next send/recv reports */
		if (r < 0 && errno != EINTR)
			return pv_errf(err, PV_ENET, "%s: poll: %s", c->peer,
			    strerror(errno));
	}
}

static enum pv_code
io_error(struct net *c, CURLcode res, const char *what, struct pv_err *err)
{
	if (res == CURLE_OUT_OF_MEMORY)
		return pv_errf(err, PV_EINTERNAL, "%s: %s: out of memory",
		    c->peer, what);
	/* libcurl's own words, e.g. the TLS layer's reason, when it kept
	 * them for this call (errbuf is cleared before each one). */
	if (c->errbuf[0] != '\0')
		return pv_errf(err, PV_ENET, "%s: %s: %s (%s)", c->peer, what,
		    curl_easy_strerror(res), c->errbuf);
	return pv_errf(err, PV_ENET, "%s: %s: %s", c->peer, what,
	    curl_easy_strerror(res));
}

static enum pv_code
raw_recv(struct net *c, void *p, size_t cap, size_t *got, struct pv_err *err)
{
	for (;;) {
		size_t n = 0;
		CURLcode res;
		enum pv_code rc;

		/* Checked before every read, not only while waiting: a fast
		 * server never makes us wait, and SIGINT must still stop a
		 * 1 GB message. */
		if (aborted(c))
			return pv_errf(err, PV_EABORT, "%s: interrupted",
			    c->peer);
		c->errbuf[0] = '\0';
		res = curl_easy_recv(c->curl, p, cap, &n);
		if (res == CURLE_OK) {
			if (n == 0) {
				c->eof = true;
				return pv_errf(err, PV_ENET,
				    "%s: connection closed by server", c->peer);
			}
			*got = n;
			return PV_OK;
		}
		if (res != CURLE_AGAIN)
			return io_error(c, res, "receive", err);
		rc = wait_fd(c, POLLIN, err);
		if (rc != PV_OK)
			return rc;
	}
}

enum pv_code
net_recv(struct net *c, void *p, size_t cap, size_t *got, struct pv_err *err)
{
	if (cap == 0)
		return pv_errf(err, PV_EINTERNAL, "net_recv: no room");
	if (c->eof)
		return pv_errf(err, PV_ENET, "%s: connection closed by server",
		    c->peer);
	if (c->offahead < c->nahead) {
		size_t n = c->nahead - c->offahead;

		if (n > cap)
			n = cap;
		memcpy(p, c->ahead + c->offahead, n);
		c->offahead += n;
		*got = n;
		return PV_OK;
	}
	return raw_recv(c, p, cap, got, err);
}

enum pv_code
net_send(struct net *c, const void *p, size_t n, struct pv_err *err)
{
	const char *s = p;

	while (n > 0) {
		size_t sent = 0;
		CURLcode res;
		enum pv_code rc;

		if (aborted(c))
			return pv_errf(err, PV_EABORT, "%s: interrupted",
			    c->peer);
		c->errbuf[0] = '\0';
		res = curl_easy_send(c->curl, s, n, &sent);
		if (res == CURLE_OK) {
			s += sent;
			n -= sent;
			continue;
		}
		if (res != CURLE_AGAIN)
			return io_error(c, res, "send", err);
		rc = wait_fd(c, POLLOUT, err);
		if (rc != PV_OK)
			return rc;
	}
	return PV_OK;
}

bool
net_eof(const struct net *c)
{
	return c->eof;
}

const char *
net_peer(const struct net *c)
{
	return c->peer;
}

/* ---- our own POP3 USER/PASS ------------------------------------------- */

/* libcurl 7.88 has no login option that forces USER/PASS when the server
 * also offers SASL ("AUTH=+APOP" exists, nothing for USER), so for
 * auth USER libcurl connects and secures without credentials and the two
 * commands are ours.  TLS is established (or explicitly waived) by then. */
static enum pv_code
login_line(struct net *c, const char **line, size_t *len, struct pv_err *err)
{
	for (;;) {
		char *start = c->ahead + c->offahead;
		char *nl = memchr(start, '\n', c->nahead - c->offahead);
		size_t got;
		enum pv_code rc;

		if (nl != NULL) {
			*line = start;
			*len = (size_t)(nl - start);
			if (*len > 0 && start[*len - 1] == '\r')
				(*len)--;
			c->offahead = (size_t)(nl + 1 - c->ahead);
			return PV_OK;
		}
		if (c->offahead > 0) {
			memmove(c->ahead, start, c->nahead - c->offahead);
			c->nahead -= c->offahead;
			c->offahead = 0;
		}
		if (c->nahead == NET_LINE_MAX)
			return pv_errf(err, PV_EPROTO,
			    "%s: login: line too long", c->peer);
		rc = raw_recv(c, c->ahead + c->nahead, NET_LINE_MAX - c->nahead,
		    &got, err);
		if (rc != PV_OK)
			return rc;
		c->nahead += got;
	}
}

static bool
cred_ok(const char *s)
{
	return s != NULL && *s != '\0' && strlen(s) <= NET_CRED_MAX &&
	       strpbrk(s, "\r\n") == NULL;
}

static enum pv_code
login_cmd(struct net *c, const char *verb, const char *arg, struct pv_err *err)
{
	size_t vl = strlen(verb), al = strlen(arg), n = vl + 1 + al + 2;
	char *cmd = xmalloc(n);
	const char *line = NULL;
	size_t len = 0;
	char reason[NET_REFUSAL_MAX];
	enum pv_code rc;

	memcpy(cmd, verb, vl);
	cmd[vl] = ' ';
	memcpy(cmd + vl + 1, arg, al);
	memcpy(cmd + vl + 1 + al, "\r\n", 2);
	net_trace(c, false, cmd, n - 2);
	rc = net_send(c, cmd, n, err);
	explicit_bzero(cmd, n);
	free(cmd);
	if (rc != PV_OK)
		return rc;
	rc = login_line(c, &line, &len, err);
	if (rc != PV_OK)
		return rc;
	net_trace(c, true, line, len);
	(void)clean_copy(reason, sizeof(reason), 0, line, len);
	if (ci_prefix(line, len, "+OK"))
		return PV_OK;
	if (ci_prefix(line, len, "-ERR"))
		return pv_errf(err, net_login_class(c->proto, line, len),
		    "%s: login failed: %s", c->peer, reason);
	return pv_errf(err, PV_EPROTO, "%s: %s: unexpected reply: %s", c->peer,
	    verb, reason);
}

static enum pv_code
user_login(struct net *c, const struct net_conf *conf, struct pv_err *err)
{
	enum pv_code rc;

	c->ahead = xmalloc(NET_LINE_MAX);
	rc = login_cmd(c, "USER", conf->user, err);
	if (rc == PV_OK)
		rc = login_cmd(c, "PASS", conf->password, err);
	return rc;
}

/* ---- open / close ------------------------------------------------------ */

static bool
host_ok(const char *h)
{
	size_t i, n = h != NULL ? strlen(h) : 0;

	if (n == 0 || n > 255)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)h[i];

		/* Names, IPv4 and IPv6 literals; nothing that could change
		 * the meaning of the URL we build around it. */
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		        (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' ||
		        ch == '_' || ch == ':'))
			return false;
	}
	return true;
}

static bool
mech_ok(const char *m)
{
	/* The SASL mechanisms libcurl implements: a name it does not know
	 * would be refused only after connecting. */
	static const char *const known[] = {"PLAIN", "LOGIN", "CRAM-MD5",
	    "DIGEST-MD5", "NTLM", "GSSAPI", "EXTERNAL", "XOAUTH2",
	    "OAUTHBEARER"};

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcasecmp(m, known[i]) == 0)
			return true;
	return false;
}

/* Did the TLS handshake fail because the connection went away (reset,
 * closed without a word, a socket error) rather than because of what the
 * peer said?  libcurl's first error message is the socket layer's. */
static bool
tls_cut(const char *why)
{
	static const char *const cut[] = {"Recv failure", "Send failure",
	    "SSL_ERROR_SYSCALL", "unexpected eof", "Connection reset",
	    "Broken pipe"};

	for (size_t i = 0; i < sizeof(cut) / sizeof(cut[0]); i++)
		if (strstr(why, cut[i]) != NULL)
			return true;
	return false;
}

/* The failure of libcurl's connect phase, mapped to our codes. */
static enum pv_code
open_error(struct net *c, CURLcode res, struct pv_err *err)
{
	const char *why =
	    c->errbuf[0] != '\0' ? c->errbuf : curl_easy_strerror(res);
	const char *stls = c->proto == NET_POP3 ? "STLS" : "STARTTLS";
	const char *tls = c->proto == NET_POP3 ? "pop3s://" : "imaps://";

	switch (res) {
	case CURLE_LOGIN_DENIED:
	case CURLE_REMOTE_ACCESS_DENIED:
	case CURLE_AUTH_ERROR:
		if (c->refusal[0] != '\0')
			return pv_errf(err,
			    net_login_class(c->proto, c->refusal,
			        strlen(c->refusal)),
			    "%s: login failed: %s", c->peer, c->refusal);
		/* No refusal from the server: libcurl gave up itself, e.g.
		 * the pinned mechanism is not offered. */
		return pv_errf(err, PV_EAUTH,
		    "%s: login failed: %s (is the auth mechanism offered "
		    "by the server?)",
		    c->peer, why);
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_GOT_NOTHING:
		/* A greeting of "-ERR [SYS/TEMP] ..." or "* BYE" lands
		 * here: the server refused us before the login. */
		if (c->refusal[0] != '\0')
			return pv_errf(err,
			    net_login_class(c->proto, c->refusal,
			        strlen(c->refusal)) == PV_EBUSY
			        ? PV_EBUSY
			        : PV_ENET,
			    "%s: server refused the connection: %s", c->peer,
			    c->refusal);
		if (res == CURLE_GOT_NOTHING)
			return pv_errf(err, PV_ENET, "%s: %s", c->peer, why);
		/* libcurl also gives this, wordlessly, for bytes that came
		 * along with the answer to STLS/STARTTLS (an injection). */
		return pv_errf(err, PV_EPROTO,
		    "%s: unexpected reply from the server during the "
		    "greeting, %s or login (%s)",
		    c->peer, stls, why);
	case CURLE_USE_SSL_FAILED:
		if (c->refusal[0] != '\0')
			return pv_errf(err, PV_ETLS,
			    "%s: server refused %s (%s); refusing to send "
			    "the password in the clear (use %s or "
			    "--allow-plaintext)",
			    c->peer, stls, c->refusal, tls);
		return pv_errf(err, PV_ETLS,
		    "%s: server does not offer %s; refusing to send the "
		    "password in the clear (use %s or --allow-plaintext)",
		    c->peer, stls, tls);
	case CURLE_SSL_CONNECT_ERROR:
		/* libcurl says this both when TLS cannot be had securely
		 * and when the connection dies during the handshake; the
		 * first message it keeps tells them apart.  A dropped
		 * connection is a network failure, worth a retry. */
		if (tls_cut(why))
			return pv_errf(err, PV_ENET,
			    "%s: connection lost during the TLS handshake: %s",
			    c->peer, why);
		return pv_errf(err, PV_ETLS, "%s: TLS: %s", c->peer, why);
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CLIENTCERT:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
		return pv_errf(err, PV_ETLS, "%s: TLS: %s", c->peer, why);
	case CURLE_ABORTED_BY_CALLBACK:
		return pv_errf(err, PV_EABORT, "%s: interrupted", c->peer);
	case CURLE_OUT_OF_MEMORY:
		return pv_errf(err, PV_EINTERNAL, "%s: libcurl: out of memory",
		    c->peer);
	case CURLE_URL_MALFORMAT:
		return pv_errf(err, PV_ECONFIG, "%s: %s", c->peer, why);
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_NOT_BUILT_IN:
	case CURLE_FAILED_INIT:
	case CURLE_BAD_FUNCTION_ARGUMENT:
	case CURLE_UNKNOWN_OPTION:
		return pv_errf(err, PV_EINTERNAL, "%s: libcurl: %s", c->peer,
		    why);
	case CURLE_BAD_CONTENT_ENCODING:
		/* an undecodable SASL challenge */
		return pv_errf(err, PV_EPROTO, "%s: login: %s", c->peer, why);
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_PROXY:
	default:
		/* Whatever else goes wrong while connecting is worth a
		 * retry on the next run: nothing was fetched.  libcurl
		 * words the server hanging up during the greeting, CAPA or
		 * login as "response reading failed (errno: 0)". */
		if (strncmp(why, "response reading failed", 23) == 0)
			return pv_errf(err, PV_ENET,
			    "%s: connection closed by the server before the "
			    "login completed",
			    c->peer);
		/* A greeting or CAPA line past libcurl's 300 KiB: the
		 * server is broken, not the network. */
		if (strstr(why, "Too large response") != NULL)
			return pv_errf(err, PV_EPROTO,
			    "%s: a line of the greeting or capabilities is too "
			    "long (%s)",
			    c->peer, why);
		return pv_errf(err, PV_ENET, "%s: %s", c->peer, why);
	}
}

#define SETOPT(opt, val)                                               \
	do {                                                           \
		if (res == CURLE_OK)                                   \
			res = curl_easy_setopt(c->curl, (opt), (val)); \
	} while (0)

enum pv_code
net_open(const struct net_conf *conf, struct net **out, struct pv_err *err)
{
	struct net *c = NULL;
	const char *scheme, *lb, *rb;
	char url[320], opts[48];
	unsigned port = conf->port;
	bool own_login = false, tls = conf->implicit_tls;
	long cto = conf->connect_timeout_ms > 0 ? conf->connect_timeout_ms
	                                        : NET_DEFAULT_CO_MS;
	CURLcode res = CURLE_OK;
	enum pv_code rc;
	int k;

	if (!host_ok(conf->host))
		return pv_errf(err, PV_ECONFIG, "bad host name \"%s\"",
		    conf->host != NULL ? conf->host : "");
	if (port > 65535)
		return pv_errf(err, PV_ECONFIG, "%s: bad port %u", conf->host,
		    port);
	if (conf->proto == NET_POP3) {
		scheme = tls ? "pop3s" : "pop3";
		if (port == 0)
			port = tls ? 995 : 110;
	} else {
		scheme = tls ? "imaps" : "imap";
		if (port == 0)
			port = tls ? 993 : 143;
	}
	opts[0] = '\0';
	if (conf->auth != NULL && conf->user != NULL) {
		if (strcasecmp(conf->auth, "USER") == 0 &&
		    conf->proto == NET_POP3) {
			own_login = true;
		} else if (strcasecmp(conf->auth, "APOP") == 0 &&
		           conf->proto == NET_POP3) {
			(void)snprintf(opts, sizeof(opts), "AUTH=+APOP");
		} else if (strcmp(conf->auth, "*") == 0) {
			(void)snprintf(opts, sizeof(opts), "AUTH=*");
		} else if (mech_ok(conf->auth) &&
		           strcasecmp(conf->auth, "USER") != 0 &&
		           strcasecmp(conf->auth, "APOP") != 0) {
			k = snprintf(opts, sizeof(opts), "AUTH=%s", conf->auth);
			if (k < 0 || (size_t)k >= sizeof(opts))
				return pv_errf(err, PV_ECONFIG,
				    "bad auth mechanism");
		} else {
			return pv_errf(err, PV_ECONFIG,
			    "%s: auth mechanism \"%s\" is not usable here "
			    "(PLAIN, LOGIN, CRAM-MD5, DIGEST-MD5, NTLM, GSSAPI, "
			    "EXTERNAL, XOAUTH2, OAUTHBEARER%s, or * for any)",
			    conf->host, conf->auth,
			    conf->proto == NET_POP3 ? ", USER, APOP" : "");
		}
	}
	if (own_login && (!cred_ok(conf->user) || !cred_ok(conf->password)))
		return pv_errf(err, PV_ECONFIG,
		    "%s: USER/PASS needs a user and a password without line "
		    "breaks",
		    conf->host);

	c = xcalloc(1, sizeof(*c));
	c->fd = CURL_SOCKET_BAD;
	c->proto = conf->proto;
	c->cat = conf->proto == NET_POP3 ? LOG_POP3 : LOG_IMAP;
	c->io_timeout_ms =
	    conf->io_timeout_ms > 0 ? conf->io_timeout_ms : NET_DEFAULT_IO_MS;
	c->abort = conf->abort;
	net_redact_init(&c->red, conf->proto);
	lb = strchr(conf->host, ':') != NULL ? "[" : "";
	rb = *lb != '\0' ? "]" : "";
	k = snprintf(c->peer, sizeof(c->peer), "%s%s%s:%u", lb, conf->host, rb,
	    port);
	if (k < 0 || (size_t)k >= sizeof(c->peer)) {
		rc = pv_errf(err, PV_ECONFIG, "host name too long");
		goto fail;
	}
	k = snprintf(url, sizeof(url), "%s://%s/", scheme, c->peer);
	if (k < 0 || (size_t)k >= sizeof(url)) {
		rc = pv_errf(err, PV_ECONFIG, "host name too long");
		goto fail;
	}

	c->curl = curl_easy_init();
	if (c->curl == NULL) {
		rc = pv_errf(err, PV_EINTERNAL, "curl_easy_init failed");
		goto fail;
	}
	SETOPT(CURLOPT_ERRORBUFFER, c->errbuf);
	SETOPT(CURLOPT_URL, url);
	SETOPT(CURLOPT_PROTOCOLS_STR, "pop3,pop3s,imap,imaps");
	SETOPT(CURLOPT_CONNECT_ONLY, 1L);
	SETOPT(CURLOPT_NOSIGNAL, 1L);
	SETOPT(CURLOPT_TCP_KEEPALIVE, 1L);
	/* CURLUSESSL_TRY only when the user allowed plaintext: then STLS is
	 * still used where offered.  Otherwise a server that drops STLS from
	 * its CAPA must not get the password in the clear: ALL. */
	if (!tls && conf->allow_plaintext)
		SETOPT(CURLOPT_USE_SSL, conf->no_tls ? (long)CURLUSESSL_NONE
		                                     : (long)CURLUSESSL_TRY);
	else
		SETOPT(CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);
	SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);
	SETOPT(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (conf->cafile != NULL) {
		/* "instead of the system's": drop the built-in CA path. */
		SETOPT(CURLOPT_CAINFO, conf->cafile);
		SETOPT(CURLOPT_CAPATH, (char *)NULL);
	}
	if (conf->pinnedkey != NULL)
		SETOPT(CURLOPT_PINNEDPUBLICKEY, conf->pinnedkey);
	if (conf->user != NULL && !own_login) {
		SETOPT(CURLOPT_USERNAME, conf->user);
		if (conf->password != NULL)
			SETOPT(CURLOPT_PASSWORD, conf->password);
		if (conf->bearer != NULL)
			SETOPT(CURLOPT_XOAUTH2_BEARER, conf->bearer);
		if (opts[0] != '\0')
			SETOPT(CURLOPT_LOGIN_OPTIONS, opts);
	}
	/* The transfer is only the connect and login: bound it whole. */
	SETOPT(CURLOPT_CONNECTTIMEOUT_MS, cto);
	SETOPT(CURLOPT_TIMEOUT_MS, cto);
	/* VERBOSE is what makes libcurl call the debug callback; the
	 * callback itself decides what reaches the log. */
	SETOPT(CURLOPT_DEBUGFUNCTION, debug_cb);
	SETOPT(CURLOPT_DEBUGDATA, c);
	SETOPT(CURLOPT_VERBOSE, 1L);
	SETOPT(CURLOPT_XFERINFOFUNCTION, xferinfo_cb);
	SETOPT(CURLOPT_XFERINFODATA, c);
	SETOPT(CURLOPT_NOPROGRESS, 0L);
	if (res != CURLE_OK) {
		rc = pv_errf(err, PV_EINTERNAL, "%s: libcurl setup: %s",
		    c->peer, curl_easy_strerror(res));
		goto fail;
	}

	res = curl_easy_perform(c->curl);
	c->opened = true;
	if (res != CURLE_OK) {
		rc = open_error(c, res, err);
		goto fail;
	}
	res = curl_easy_getinfo(c->curl, CURLINFO_ACTIVESOCKET, &c->fd);
	if (res != CURLE_OK || c->fd == CURL_SOCKET_BAD) {
		rc = pv_errf(err, PV_EINTERNAL, "%s: no socket after connect",
		    c->peer);
		goto fail;
	}
	if (own_login) {
		rc = user_login(c, conf, err);
		if (rc != PV_OK)
			goto fail;
	}
	*out = c;
	return PV_OK;
fail:
	net_close(c);
	return rc;
}

#undef SETOPT

void
net_close(struct net *c)
{
	if (c == NULL)
		return;
	/* A CONNECT_ONLY connection is "dead" to libcurl: cleanup closes
	 * the socket without QUIT/LOGOUT (the debug callback would show
	 * one; it stays installed so that the trace proves it). */
	c->closing = true;
	if (c->curl != NULL)
		curl_easy_cleanup(c->curl);
	if (c->ahead != NULL) {
		explicit_bzero(c->ahead, NET_LINE_MAX);
		free(c->ahead);
	}
	free(c);
}

void
net_global_init(void)
{
	CURLcode res = curl_global_init(CURL_GLOBAL_DEFAULT);

	if (res != CURLE_OK)
		fatalx("curl_global_init: %s", curl_easy_strerror(res));
}

void
net_global_cleanup(void)
{
	curl_global_cleanup();
}

enum pv_code
net_errcontext(const struct net *c, const char *what, struct pv_err *err)
{
	const char *peer = net_peer(c);
	size_t pl = strlen(peer);
	char rest[PV_ERR_MAX];

	if (strncmp(err->msg, peer, pl) == 0 && err->msg[pl] == ':' &&
	    err->msg[pl + 1] == ' ')
		memcpy(rest, err->msg + pl + 2, sizeof(rest) - pl - 2);
	else
		memcpy(rest, err->msg, sizeof(rest));
	rest[sizeof(rest) - 1] = '\0';
	return pv_errf(err, err->code, "%s: %s: %s", peer, what, rest);
}
