/* SPDX-License-Identifier: MIT */
/*
 * core/secret.h - getting a password without it ever touching argv: from a
 * file, or from the first line of a command's output (passwordeval).  The
 * one audited place that runs a shell.  Results are secrets: release them
 * with xfree_secret().
 */
#ifndef PV_SECRET_H
#define PV_SECRET_H

#include "err.h"

/* The first line of the file (without its line end).  PV_ECONFIG if it
 * cannot be read, is empty, or is readable by group or others. */
enum pv_code secret_from_file(const char *path, char **out, struct pv_err *err);

/* Run 'cmd' with /bin/sh -c, stdin from /dev/null, stderr inherited; the
 * first line of its stdout (bounded) is the secret.  PV_ECONFIG if the
 * command fails (non-zero exit) or prints nothing. */
enum pv_code secret_from_command(const char *cmd, char **out,
    struct pv_err *err);

#endif /* PV_SECRET_H */
