/* SPDX-License-Identifier: MIT */
/*
 * core/secret.c - passwords from a file or a command, never from argv.
 * This is the one place that runs a shell (the banned system call is not
 * used: we need the output, a clean stdin and the exit status).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "secret.h"
#include "xmem.h"

#define SECRET_MAX 4096

/* Keep the first line of buf[0..n) as the secret. */
static char *
first_line(char *buf, size_t n)
{
	size_t l = strcspn(buf, "\r\n");

	if (l > n)
		l = n;
	return xstrndup(buf, l);
}

enum pv_code
secret_from_file(const char *path, char **out, struct pv_err *err)
{
	char buf[SECRET_MAX + 1];
	struct stat sb;
	ssize_t r;
	size_t n = 0;
	int fd;
	enum pv_code rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return pv_errf(err, PV_ECONFIG, "password file %s: %s", path,
		    strerror(errno));
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		rc = pv_errf(err, PV_ECONFIG,
		    "password file %s: not a regular file", path);
		goto out;
	}
	if ((sb.st_mode & 077) != 0) {
		rc = pv_errf(err, PV_ECONFIG,
		    "password file %s can be read by others (mode %04o): chmod 600 it",
		    path, (unsigned)(sb.st_mode & 07777));
		goto out;
	}
	while (n < SECRET_MAX) {
		r = read(fd, buf + n, SECRET_MAX - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = pv_errf(err, PV_ECONFIG, "password file %s: %s",
			    path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	if (strcspn(buf, "\r\n") == 0) {
		rc =
		    pv_errf(err, PV_ECONFIG, "password file %s is empty", path);
		goto out;
	}
	*out = first_line(buf, n);
	rc = PV_OK;
out:
	explicit_bzero(buf, sizeof(buf));
	(void)close(fd);
	return rc;
}

enum pv_code
secret_from_command(const char *cmd, char **out, struct pv_err *err)
{
	char buf[SECRET_MAX + 1];
	int fds[2];
	size_t n = 0;
	pid_t pid;
	int status, devnull;
	enum pv_code rc = PV_OK;

	if (pipe(fds) != 0)
		return pv_errf(err, PV_EINTERNAL, "pipe: %s", strerror(errno));
	pid = fork();
	if (pid == -1) {
		(void)close(fds[0]);
		(void)close(fds[1]);
		return pv_errf(err, PV_EINTERNAL, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		devnull = open("/dev/null", O_RDONLY);
		if (devnull != -1)
			(void)dup2(devnull, STDIN_FILENO);
		(void)dup2(fds[1], STDOUT_FILENO);
		(void)close(fds[0]);
		(void)close(fds[1]);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	(void)close(fds[1]);
	for (;;) {
		ssize_t r;

		if (n == SECRET_MAX) {
			/* Drain the rest so the command is not blocked. */
			char sink[512];

			r = read(fds[0], sink, sizeof(sink));
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				break;
			continue;
		}
		r = read(fds[0], buf + n, SECRET_MAX - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	(void)close(fds[0]);
	while (waitpid(pid, &status, 0) == -1) {
		if (errno != EINTR) {
			rc = pv_errf(err, PV_EINTERNAL, "waitpid: %s",
			    strerror(errno));
			goto out;
		}
	}
	buf[n] = '\0';
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		rc = pv_errf(err, PV_ECONFIG,
		    "password command failed (exit status %d)",
		    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		goto out;
	}
	if (strcspn(buf, "\r\n") == 0) {
		rc = pv_errf(err, PV_ECONFIG,
		    "password command printed nothing");
		goto out;
	}
	*out = first_line(buf, n);
out:
	explicit_bzero(buf, sizeof(buf));
	return rc;
}
