#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tests/integration/imapdump.py - an independent IMAP client for the tests.

Checks what an IMAP folder holds after popvault migrate/restore, and plays
"another tool" that fills or edits a folder.  Standard library only
(imaplib + ssl); implicit TLS, or STARTTLS with --starttls; the server
certificate is checked against --cafile.

    imapdump.py dump   COMMON --folder F
        one line per message, sorted by sha256:
        <sha256 of BODY[]> <INTERNALDATE unix> <zone +hhmm> (<flags sorted>)
    imapdump.py list   COMMON            folder names, decoded to UTF-8
    imapdump.py delimiter COMMON         the hierarchy delimiter
    imapdump.py count  COMMON --folder F number of messages
    imapdump.py append COMMON --folder F [--date UNIX] [--flags F] FILE...
        APPEND the exact bytes of each file (creates the folder if missing)
    imapdump.py delete COMMON --folder F --sha256 H
        expunge the message(s) whose BODY[] hashes to H (exit 1 if none)

COMMON: [--host 127.0.0.1] --port P --user U --password-env VAR
        [--starttls] --cafile CA

Folder names are given in UTF-8 and sent in modified UTF-7 (RFC 3501
5.1.3), quoted.  \\Recent is left out of the flags (it depends on the
session).  Exit: 0 ok, 1 error, 2 the folder does not exist.
"""

import argparse
import base64
import calendar
import hashlib
import imaplib
import os
import re
import ssl
import sys
import time


class NoFolder(Exception):
    pass


# ---- modified UTF-7 ---------------------------------------------------------

def mutf7_encode(name):
    out = []
    buf = []

    def flush():
        if buf:
            raw = "".join(buf).encode("utf-16-be")
            b64 = base64.b64encode(raw).decode("ascii").rstrip("=")
            out.append("&" + b64.replace("/", ",") + "-")
            del buf[:]

    for ch in name:
        o = ord(ch)
        if 0x20 <= o <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            buf.append(ch)
    flush()
    return "".join(out)


def mutf7_decode(s):
    out = []
    i = 0
    while i < len(s):
        ch = s[i]
        if ch != "&":
            out.append(ch)
            i += 1
            continue
        j = s.index("-", i + 1)
        if j == i + 1:
            out.append("&")
        else:
            b64 = s[i + 1:j].replace(",", "/")
            b64 += "=" * (-len(b64) % 4)
            out.append(base64.b64decode(b64).decode("utf-16-be"))
        i = j + 1
    return "".join(out)


def quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def qfolder(name):
    return quote(mutf7_encode(name))


# ---- connection -------------------------------------------------------------

def connect(a):
    ctx = ssl.create_default_context(cafile=a.cafile)
    password = os.environ.get(a.password_env)
    if password is None:
        raise SystemExit("imapdump: $%s is not set" % a.password_env)
    if a.starttls:
        m = imaplib.IMAP4(a.host, a.port, timeout=30)
        m.starttls(ssl_context=ctx)
    else:
        m = imaplib.IMAP4_SSL(a.host, a.port, ssl_context=ctx, timeout=30)
    m.login(a.user, password)
    return m


def check(typ, data, what):
    if typ != "OK":
        raise RuntimeError("%s: %s %r" % (what, typ, data))
    return data


def select(m, folder, readonly=True):
    typ, data = m.select(qfolder(folder), readonly=readonly)
    if typ != "OK":
        if folder_exists(m, folder):
            raise RuntimeError("SELECT %s: %r" % (folder, data))
        raise NoFolder(folder)
    return int(data[0])


def list_raw(m):
    """[(flags, delimiter, name-decoded)] of every folder."""
    typ, data = m.list('""', "*")
    check(typ, data, "LIST")
    out = []
    for item in data:
        if item is None:
            continue
        if isinstance(item, tuple):
            # name sent as a literal: ('(\\X) "." {5}', b'name')
            head, lit = item
            mm = re.match(rb'\((.*?)\) (NIL|"(?:[^"\\]|\\.)*") ', head)
            out.append((mm.group(1).decode(), unq(mm.group(2)),
                        mutf7_decode(lit.decode("ascii"))))
            continue
        mm = re.match(rb'\((.*?)\) (NIL|"(?:[^"\\]|\\.)*") (.*)$', item)
        if not mm:
            raise RuntimeError("cannot parse LIST line %r" % item)
        name = mm.group(3)
        name = unq(name) if name.startswith(b'"') else name.decode("ascii")
        out.append((mm.group(1).decode(), unq(mm.group(2)), mutf7_decode(name)))
    return out


def unq(b):
    if b == b"NIL":
        return ""
    s = b.decode("ascii")
    if s.startswith('"'):
        s = s[1:-1]
        s = re.sub(r'\\(.)', r'\1', s)
    return s


def folder_exists(m, folder):
    return any(n == folder or (folder.upper() == "INBOX" and n.upper() == "INBOX")
               for _, _, n in list_raw(m))


MONTHS = {m: i for i, m in enumerate(
    "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(), 1)}


def parse_internaldate(s):
    """'17-Jul-1996 02:44:25 -0700' -> (unix, '-0700')"""
    mm = re.match(r'\s*(\d{1,2})-(\w{3})-(\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)', s)
    if not mm:
        raise RuntimeError("bad INTERNALDATE %r" % s)
    d, mon, y, hh, mi, ss, sign, zh, zm = mm.groups()
    local = calendar.timegm((int(y), MONTHS[mon], int(d), int(hh), int(mi), int(ss)))
    off = (int(zh) * 60 + int(zm)) * 60
    if sign == "-":
        off = -off
    return local - off, "%s%s%s" % (sign, zh, zm)


def fetch_all(m):
    """{uid: {'body': bytes, 'date': (unix, zone), 'flags': [..]}}"""
    msgs = {}
    typ, data = m.uid("FETCH", "1:*", "(FLAGS INTERNALDATE)")
    check(typ, data, "FETCH FLAGS")
    for item in data:
        if item is None:
            continue
        line = item[0] if isinstance(item, tuple) else item
        line = line.decode("utf-8", "replace")
        u = re.search(r'\bUID (\d+)', line)
        f = re.search(r'\bFLAGS \(([^)]*)\)', line)
        d = re.search(r'\bINTERNALDATE "([^"]*)"', line)
        if not (u and f and d):
            continue
        msgs[int(u.group(1))] = {
            "flags": sorted(x for x in f.group(1).split() if x.lower() != "\\recent"),
            "date": parse_internaldate(d.group(1)),
        }
    if not msgs:
        return msgs
    typ, data = m.uid("FETCH", "1:*", "(BODY.PEEK[])")
    check(typ, data, "FETCH BODY[]")
    for item in data:
        if not isinstance(item, tuple):
            continue
        u = re.search(rb'\bUID (\d+)', item[0])
        if not u:
            # UID may follow the literal: look no further, fail loudly
            raise RuntimeError("no UID before BODY[] in %r" % item[0])
        msgs.setdefault(int(u.group(1)), {})["body"] = item[1]
    for uid, v in msgs.items():
        if "body" not in v:
            raise RuntimeError("no BODY[] for UID %d" % uid)
    return msgs


# ---- commands ---------------------------------------------------------------

def cmd_dump(m, a):
    select(m, a.folder)
    lines = []
    for v in fetch_all(m).values():
        lines.append("%s %d %s (%s)" % (hashlib.sha256(v["body"]).hexdigest(),
                                        v["date"][0], v["date"][1],
                                        " ".join(v["flags"])))
    for line in sorted(lines):
        print(line)


def cmd_list(m, a):
    for _, _, name in list_raw(m):
        print(name)


def cmd_delimiter(m, a):
    typ, data = m.list('""', '""')
    check(typ, data, "LIST delimiter")
    mm = re.match(rb'\((.*?)\) (NIL|"(?:[^"\\]|\\.)*")', data[0])
    print(unq(mm.group(2)))


def cmd_count(m, a):
    print(select(m, a.folder))


def cmd_append(m, a):
    if not folder_exists(m, a.folder):
        check(*m.create(qfolder(a.folder)), what="CREATE %s" % a.folder)
    date = imaplib.Time2Internaldate(a.date) if a.date is not None else None
    flags = "(%s)" % a.flags if a.flags else None
    for path in a.files:
        with open(path, "rb") as fh:
            body = fh.read()
        # imaplib.append() would turn a bare CR or LF into CRLF: send the
        # bytes as they are.
        m.literal = body
        args = [qfolder(a.folder)]
        if flags:
            args.append(flags)
        if date:
            args.append(date)
        check(*m._simple_command("APPEND", *args), what="APPEND %s" % path)


def cmd_delete(m, a):
    select(m, a.folder, readonly=False)
    uids = [u for u, v in fetch_all(m).items()
            if hashlib.sha256(v["body"]).hexdigest() == a.sha256.lower()]
    if not uids:
        print("imapdump: no message with sha256 %s in %s" % (a.sha256, a.folder),
              file=sys.stderr)
        return 1
    s = ",".join(str(u) for u in uids)
    check(*m.uid("STORE", s, "+FLAGS.SILENT", "(\\Deleted)"), what="STORE")
    check(*m.uid("EXPUNGE", s), what="UID EXPUNGE")
    return 0


def main():
    p = argparse.ArgumentParser(description="IMAP checks for the popvault tests")
    sub = p.add_subparsers(dest="cmd", required=True)

    def common(sp, folder):
        sp.add_argument("--host", default="127.0.0.1")
        sp.add_argument("--port", type=int, required=True)
        sp.add_argument("--user", required=True)
        sp.add_argument("--password-env", required=True)
        sp.add_argument("--starttls", action="store_true")
        sp.add_argument("--cafile", required=True)
        if folder:
            sp.add_argument("--folder", required=True)
        return sp

    common(sub.add_parser("dump"), True)
    common(sub.add_parser("list"), False)
    common(sub.add_parser("delimiter"), False)
    common(sub.add_parser("count"), True)
    ap = common(sub.add_parser("append"), True)
    ap.add_argument("--date", type=int)
    ap.add_argument("--flags", default="")
    ap.add_argument("files", nargs="+")
    dp = common(sub.add_parser("delete"), True)
    dp.add_argument("--sha256", required=True)
    a = p.parse_args()

    try:
        m = connect(a)
    except (OSError, imaplib.IMAP4.error, ssl.SSLError) as e:
        print("imapdump: cannot log in: %s" % e, file=sys.stderr)
        return 1
    try:
        rc = globals()["cmd_" + a.cmd](m, a) or 0
    except NoFolder as e:
        print("imapdump: no folder %s" % e, file=sys.stderr)
        rc = 2
    except (RuntimeError, imaplib.IMAP4.error, OSError) as e:
        print("imapdump: %s" % e, file=sys.stderr)
        rc = 1
    try:
        m.logout()
    except Exception:
        pass
    sys.stdout.flush()
    return rc


if __name__ == "__main__":
    sys.exit(main())
