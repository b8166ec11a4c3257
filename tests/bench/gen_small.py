#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tests/bench/gen_small.py - seeded message sets for benchmark cases 8-10.

    gen_small.py many --users U --count N --out DIR [--seed S]
        DIR/u01/msg-0001.eml ...: U sets of N plain-text messages of 2-30 KB
        (sizes drawn once, the same N bodies for every set); each set's
        messages carry their own Message-ID and an X-Bench-Mailbox header,
        so no content repeats across sets (popvault stores a content only
        once, which would hide a set).
    gen_small.py tiny --count N --maildir MD [--owner UID:GID] [--seed S]
        N distinct messages of a few hundred bytes written straight into
        MD/cur (as Dovecot names them: ,S=size,W=vsize:2,S), owned by
        UID:GID, mode 0600.  Far faster than one delivery per message.
    gen_small.py big --size BYTES --out FILE [--seed S]
        one message: headers and a base64-looking body, lines of 76 chars.

Every line ends in CRLF (Dovecot then serves the bytes as stored).  The same
seed gives the same bytes.  Standard library only.
"""

import argparse
import base64
import os
import random
import sys

CRLF = b"\r\n"
# The words of the integration corpus, so that both read alike.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "integration"))
from gen_corpus import WORDS  # noqa: E402
NAMES = ["anna", "bernd", "chloe", "david", "eva", "farid", "greta", "hugo",
         "ines", "jonas", "kim", "lena", "marco", "nora", "omar", "paula"]
DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
          "Oct", "Nov", "Dec"]


def date_hdr(r, i):
    return "%s, %02d %s 2024 %02d:%02d:%02d +0000" % (
        DAYS[i % 7], 1 + i % 28, MONTHS[(i // 28) % 12],
        r.randint(0, 23), r.randint(0, 59), r.randint(0, 59))


def text_body(r, size):
    """Lines of words, wrapped at 72, about SIZE bytes in all."""
    out, n, cur = [], 0, ""
    while n < size:
        w = r.choice(WORDS)
        if len(cur) + 1 + len(w) > 72:
            out.append(cur.encode("ascii") + CRLF)
            n += len(cur) + 2
            cur = w
        else:
            cur = (cur + " " + w) if cur else w
    out.append(cur.encode("ascii") + CRLF)
    return b"".join(out)


def headers(lines):
    return b"".join(("%s: %s" % kv).encode("ascii") + CRLF for kv in lines) + CRLF


def cmd_many(a):
    r = random.Random(a.seed)
    bodies = []
    for i in range(a.count):
        # mostly short mail, a tail up to 30 KB
        size = int(min(30000, max(2000, r.lognormvariate(8.8, 0.6))))
        bodies.append((r.choice(NAMES), r.choice(NAMES), date_hdr(r, i),
                       " ".join(r.choice(WORDS) for _ in range(4)),
                       text_body(r, size - 400)))
    total = 0
    for u in range(1, a.users + 1):
        d = os.path.join(a.out, "u%02d" % u)
        os.makedirs(d, exist_ok=True)
        for i, (f, t, date, subj, body) in enumerate(bodies, 1):
            data = headers([
                ("From", "%s <%s@example.com>" % (f.title(), f)),
                ("To", "%s <%s@example.org>" % (t.title(), t)),
                ("Subject", subj),
                ("Date", date),
                ("Message-ID", "<bench.%d.%d.%d@example.com>" % (a.seed, u, i)),
                ("X-Bench-Mailbox", "u%02d" % u),
                ("MIME-Version", "1.0"),
                ("Content-Type", "text/plain; charset=us-ascii"),
            ]) + body
            with open(os.path.join(d, "msg-%04d.eml" % i), "wb") as fh:
                fh.write(data)
            total += len(data)
    return "%d x %d messages, %d bytes" % (a.users, a.count, total)


def cmd_tiny(a):
    r = random.Random(a.seed)
    uid = gid = -1
    if a.owner:
        uid, gid = (int(x) for x in a.owner.split(":"))
    cur = os.path.join(a.maildir, "cur")
    total = 0
    for i in range(1, a.count + 1):
        data = headers([
            ("From", "%s@example.com" % r.choice(NAMES)),
            ("To", "%s@example.org" % r.choice(NAMES)),
            ("Subject", "tiny %d" % i),
            ("Date", date_hdr(r, i)),
            ("Message-ID", "<tiny.%d.%d@example.com>" % (a.seed, i)),
        ]) + (" ".join(r.choice(WORDS) for _ in range(r.randint(8, 30)))
              ).encode("ascii") + CRLF
        # CRLF stored: the virtual size (W) is the file size.
        name = "%d.M%dP%dQ%d.bench,S=%d,W=%d:2,S" % (
            1700000000 + i, i % 1000000, os.getpid(), i, len(data), len(data))
        p = os.path.join(cur, name)
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        if uid >= 0:
            os.chown(p, uid, gid)
        total += len(data)
    return "%d messages, %d bytes in %s" % (a.count, total, cur)


def cmd_big(a):
    r = random.Random(a.seed)
    head = headers([
        ("From", "Anna Schmidt <anna.schmidt@example.com>"),
        ("To", "Bernd Martin <bernd.martin@example.org>"),
        ("Subject", "one very large attachment"),
        ("Date", "Fri, 01 Mar 2024 08:00:00 +0000"),
        ("Message-ID", "<big.%d@example.com>" % a.seed),
        ("MIME-Version", "1.0"),
        ("Content-Type", "application/octet-stream; name=\"disk.img\""),
        ("Content-Transfer-Encoding", "base64"),
        ("Content-Disposition", "attachment; filename=\"disk.img\""),
    ])
    n = len(head)
    with open(a.out, "wb") as fh:
        fh.write(head)
        while n < a.size:
            # 57 raw bytes per 76-char line; 10,000 lines per chunk
            lines = min(10000, max(1, (a.size - n) // 78 + 1))
            s = base64.b64encode(r.randbytes(57 * lines))
            chunk = CRLF.join(s[i:i + 76] for i in range(0, len(s), 76)) + CRLF
            fh.write(chunk)
            n += len(chunk)
    return "1 message, %d bytes in %s" % (n, a.out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="what", required=True)
    m = sub.add_parser("many")
    m.add_argument("--users", type=int, required=True)
    m.add_argument("--count", type=int, required=True)
    m.add_argument("--out", required=True)
    t = sub.add_parser("tiny")
    t.add_argument("--count", type=int, required=True)
    t.add_argument("--maildir", required=True)
    t.add_argument("--owner")
    g = sub.add_parser("big")
    g.add_argument("--size", type=int, required=True)
    g.add_argument("--out", required=True)
    for p in (m, t, g):
        p.add_argument("--seed", type=int, default=1)
        p.add_argument("--quiet", "-q", action="store_true")
    a = ap.parse_args()
    msg = {"many": cmd_many, "tiny": cmd_tiny, "big": cmd_big}[a.what](a)
    if not a.quiet:
        print("gen_small: " + msg, file=sys.stderr)


if __name__ == "__main__":
    main()
