#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tests/integration/gen_corpus.py - a seeded generator of realistic messages.

Writes one RFC 5322 message per file (msg-0001.eml, ...), every line ending in
CRLF, plus MANIFEST.sha256 (sha256sum -c format) and corpus.json (file, sha256,
size, kind, message_id).  The same --seed always gives the same bytes.

The default corpus (60 messages, about 4 MB) holds one of each special case
(dot lines, long lines, 8-bit headers and bodies, RFC 2047, folded headers,
attachments of 150 KB to 1.8 MB, no Message-ID, a shared Message-ID, trace
header variants) and fills the rest with ordinary mail.  Every file in it is
served byte-identical by Dovecot 2.3 over POP3 (see README).

--quirks also writes OUT/quirks/: messages Dovecot does NOT serve as stored
(bare LF, LF-only, no final newline) and a NUL byte (served verbatim over
POP3, but not valid in an IMAP APPEND); they are kept out of the main
corpus and its manifest.

Standard library only.
"""

import argparse
import base64
import datetime
import hashlib
import json
import os
import random
import sys

CRLF = b"\r\n"

WORDS = (
    "the quarterly report is attached please review before friday meeting "
    "we should discuss budget project timeline server migration backup "
    "invoice payment received thanks regards schedule holiday team lunch "
    "deadline draft proposal contract signed update password account "
    "mailbox archive restore weekend office customer support ticket "
    "release notes version change request approval minutes agenda"
).split()

FIRST = ["Anna", "Bernd", "Chloe", "David", "Eva", "Farid", "Greta", "Hugo",
         "Ines", "Jonas", "Kim", "Lena", "Marco", "Nora", "Omar", "Paula"]
LAST = ["Schmidt", "Martin", "Rossi", "Novak", "Jensen", "Garcia", "Dubois",
        "Kowalski", "Silva", "Berg", "Meyer", "Costa"]
DOMAINS = ["example.com", "example.org", "example.net", "mail.example",
           "corp.example.com", "lists.example.org"]
ZONES = [0, 60, -300, 330, -480, 540, 120, -180]

LATIN1_WORDS = ["Grüße", "Müller", "Straße", "café", "naïve", "façade",
                "Ærø", "señor", "über", "Größe", "fiancée", "déjà vu"]
UTF8_WORDS = ["Grüße", "Привет", "こんにちは", "Ελληνικά", "ąčęėįšųūž",
              "中文邮件", "émoji ✉ ☃", "Ωmega", "ŁÓDŹ", "naïve café"]


def b(s):
    return s.encode("ascii")


class Gen:
    def __init__(self, seed, size_mix):
        self.r = random.Random(seed)
        self.seed = seed
        self.size_mix = size_mix
        self.n = 0
        self.when = datetime.datetime(2024, 3, 1, 8, 0, 0,
                                      tzinfo=datetime.timezone.utc)

    # ---- small pieces -------------------------------------------------
    def words(self, n):
        return " ".join(self.r.choice(WORDS) for _ in range(n))

    def sentence(self):
        w = self.words(self.r.randint(5, 14))
        return w[0].upper() + w[1:] + "."

    def paragraph(self, width=72):
        text = " ".join(self.sentence() for _ in range(self.r.randint(2, 6)))
        lines, cur = [], ""
        for w in text.split():
            if cur and len(cur) + 1 + len(w) > width:
                lines.append(cur)
                cur = w
            else:
                cur = (cur + " " + w) if cur else w
        if cur:
            lines.append(cur)
        return lines

    def text_lines(self, paras=None):
        out = []
        for i in range(paras or self.r.randint(1, 4)):
            if i:
                out.append("")
            out.extend(self.paragraph())
        return out

    def person(self):
        f, l = self.r.choice(FIRST), self.r.choice(LAST)
        return f, l, "%s.%s@%s" % (f.lower(), l.lower(),
                                   self.r.choice(DOMAINS))

    def addr(self):
        f, l, a = self.person()
        return "%s %s <%s>" % (f, l, a)

    def next_date(self):
        self.when += datetime.timedelta(minutes=self.r.randint(7, 600),
                                        seconds=self.r.randint(0, 59))
        return self.when

    @staticmethod
    def fmt_date(dt, zone_min):
        tz = datetime.timezone(datetime.timedelta(minutes=zone_min))
        return dt.astimezone(tz).strftime("%a, %d %b %Y %H:%M:%S %z")

    def date_hdr(self, dt=None):
        return self.fmt_date(dt or self.when, self.r.choice(ZONES))

    def msgid(self):
        return "<%08x.%d.%d@%s>" % (self.r.getrandbits(32), self.seed,
                                    self.n, self.r.choice(DOMAINS))

    def received_chain(self, hops, rcpt):
        """Received headers, newest first, each folded over lines."""
        out = []
        t = self.when
        for h in range(hops):
            host = "mx%d.%s" % (h + 1, self.r.choice(DOMAINS))
            src = "relay%d.%s" % (h, self.r.choice(DOMAINS))
            ip = "192.0.2.%d" % self.r.randint(1, 254)
            qid = "%010X" % self.r.getrandbits(40)
            val = ("from %s (%s [%s])\r\n\tby %s (Postfix) with ESMTPS id %s"
                   "\r\n\tfor <%s>; %s" % (src, src, ip, host, qid, rcpt,
                                            self.date_hdr(t)))
            out.append(("Received", val))
            t -= datetime.timedelta(seconds=self.r.randint(1, 90))
        return out, t

    # ---- assembling ---------------------------------------------------
    @staticmethod
    def lines_to_bytes(lines, enc="ascii"):
        out = []
        for ln in lines:
            if isinstance(ln, str):
                ln = ln.encode(enc)
            assert b"\r" not in ln and b"\n" not in ln
            out.append(ln + CRLF)
        return b"".join(out)

    @staticmethod
    def headers_bytes(hdrs, enc="utf-8"):
        out = []
        for name, val in hdrs:
            if isinstance(val, str):
                val = val.encode(enc)
            out.append(name.encode("ascii") + b": " + val + CRLF)
        return b"".join(out)

    def base_headers(self, subject, msgid=True, date=True, received=0,
                     to=None, frm=None):
        self.next_date()
        to = to or self.addr()
        hdrs = []
        if received:
            rcpt = to.split("<")[-1].rstrip(">")
            rec, sent = self.received_chain(received, rcpt)
            hdrs.extend(rec)
            hdrs.append(("Return-Path", "<%s>" % (frm or self.person()[2])))
        else:
            sent = self.when
        hdrs.append(("From", frm or self.addr()))
        hdrs.append(("To", to))
        hdrs.append(("Subject", subject))
        if date:
            hdrs.append(("Date", self.date_hdr(sent)))
        if msgid:
            hdrs.append(("Message-ID", self.msgid()))
        hdrs.append(("MIME-Version", "1.0"))
        return hdrs

    def msg(self, hdrs, body):
        return self.headers_bytes(hdrs) + CRLF + body

    # ---- body parts ---------------------------------------------------
    @staticmethod
    def b64_lines(data):
        s = base64.b64encode(data).decode("ascii")
        return [s[i:i + 76] for i in range(0, len(s), 76)]

    @staticmethod
    def qp_encode(text):
        """Quoted-printable of UTF-8 text, soft line breaks at 76."""
        out = []
        for line in text.split("\n"):
            enc = ""
            for ch in line.encode("utf-8"):
                c = chr(ch)
                if ch in (9, 32) or (33 <= ch <= 126 and c != "="):
                    enc += c
                else:
                    enc += "=%02X" % ch
            if enc.endswith(" ") or enc.endswith("\t"):
                enc = enc[:-1] + "=%02X" % ord(enc[-1])
            while len(enc) > 75:
                cut = 75
                while enc[cut - 1] == "=" or enc[cut - 2] == "=":
                    cut -= 1
                out.append(enc[:cut] + "=")
                enc = enc[cut:]
            out.append(enc)
        return out

    def boundary(self):
        return "=_pv_%016x" % self.r.getrandbits(64)

    def multipart(self, subtype, parts, bnd=None, preamble=True):
        bnd = bnd or self.boundary()
        out = []
        if preamble:
            out.append(b"This is a multi-part message in MIME format." + CRLF)
            out.append(CRLF)
        for p in parts:
            out.append(b"--" + b(bnd) + CRLF + p)
        out.append(b"--" + b(bnd) + b"--" + CRLF)
        return ("multipart/%s; boundary=\"%s\"" % (subtype, bnd),
                b"".join(out))

    def part(self, ctype, body, cte=None, extra=()):
        h = [("Content-Type", ctype)]
        if cte:
            h.append(("Content-Transfer-Encoding", cte))
        h.extend(extra)
        return self.headers_bytes(h) + CRLF + body

    def text_part(self):
        return self.part("text/plain; charset=us-ascii",
                         self.lines_to_bytes(self.text_lines()), "7bit")

    def html_part(self):
        paras = ["<p>%s</p>" % " ".join(self.paragraph())
                 for _ in range(self.r.randint(1, 3))]
        html = ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
                "</head>\n<body>\n%s\n<p style=\"color: #336699\">"
                "Gr\u00fc\u00dfe \u2014 caf\u00e9</p>\n</body></html>"
                % "\n".join(paras))
        return self.part("text/html; charset=utf-8",
                         self.lines_to_bytes(self.qp_encode(html)),
                         "quoted-printable")

    def attachment(self, size, name=None, ctype="application/octet-stream"):
        data = self.r.randbytes(size)
        name = name or "file-%d.bin" % self.r.randint(100, 999)
        return self.part(
            "%s; name=\"%s\"" % (ctype, name),
            self.lines_to_bytes(self.b64_lines(data)), "base64",
            [("Content-Disposition", "attachment; filename=\"%s\"" % name)])

    # ---- message kinds ------------------------------------------------
    def k_plain(self):
        h = self.base_headers(self.words(self.r.randint(2, 7)).capitalize(),
                              received=self.r.randint(0, 3))
        h.append(("Content-Type", "text/plain; charset=us-ascii"))
        return self.msg(h, self.lines_to_bytes(self.text_lines()))

    def k_alternative(self):
        h = self.base_headers("Re: " + self.words(4),
                              received=self.r.randint(1, 2))
        ct, body = self.multipart("alternative",
                                  [self.text_part(), self.html_part()])
        h.append(("Content-Type", ct))
        return self.msg(h, body)

    def k_mixed(self, size=None):
        if size is None:
            hi = 60000 if self.size_mix != "large" or self.r.random() > 0.05 \
                else 2000000
            size = self.r.randint(2000, hi)
        h = self.base_headers("Document " + self.words(2),
                              received=self.r.randint(1, 3))
        ct, body = self.multipart("mixed", [
            self.text_part(),
            self.attachment(size, "report-%d.pdf" % self.n,
                            "application/pdf")])
        h.append(("Content-Type", ct))
        return self.msg(h, body)

    def k_big(self, size):
        if self.size_mix == "small":
            size = min(size, 60000)
        return self.k_mixed(size)

    def k_nested(self):
        inner_h = self.base_headers("Forwarded: " + self.words(3))
        inner_h.append(("Content-Type", "text/plain; charset=us-ascii"))
        inner = self.msg(inner_h, self.lines_to_bytes(self.text_lines()))
        alt_ct, alt = self.multipart("alternative",
                                     [self.text_part(), self.html_part()],
                                     preamble=False)
        h = self.base_headers("Fwd: nested parts", received=2)
        ct, body = self.multipart("mixed", [
            self.part(alt_ct, alt),
            self.attachment(self.r.randint(3000, 9000), "image.png",
                            "image/png"),
            self.part("message/rfc822", inner, "7bit"),
        ])
        h.append(("Content-Type", ct))
        return self.msg(h, body)

    def k_dots(self):
        h = self.base_headers("Dot lines", received=1)
        h.append(("Content-Type", "text/plain; charset=us-ascii"))
        body = [".", "Lines below start with dots:", ".", "..", "...",
                ".x", ". ", ".\t", "..x", "", "From me", ">From you",
                "From: not a header", "", "end"]
        return self.msg(h, self.lines_to_bytes(body))

    def k_dot_last(self):
        # The body's last line is a lone dot: on the wire "\r\n..\r\n.\r\n".
        h = self.base_headers("Ends with a dot line")
        h.append(("Content-Type", "text/plain; charset=us-ascii"))
        return self.msg(h, self.lines_to_bytes(self.text_lines(1) + ["."]))

    def k_from_line(self):
        h = self.base_headers("From lines")
        h.append(("Content-Type", "text/plain; charset=us-ascii"))
        body = ["From me to you", "From", "From ", "from lower", ""] + \
            self.text_lines(1) + ["From the end"]
        return self.msg(h, self.lines_to_bytes(body))

    def k_long_lines(self):
        h = self.base_headers("Long lines", received=1)
        h.append(("Content-Type", "text/plain; charset=us-ascii"))
        words = self.words(400)
        body = ["A line of 1,500 characters follows."]
        body.append((words * 3)[:1500])
        body.append("A line of exactly 998 characters follows.")
        body.append("y" * 998)
        body.append("A line of 20,000 characters without spaces follows.")
        body.append("".join(self.r.choice("abcdefghij") for _ in
                            range(20000)))
        body.append("." + "z" * 5000)
        body.append("end")
        return self.msg(h, self.lines_to_bytes(body))

    def k_long_header(self):
        h = self.base_headers("Long unfolded header")
        h.append(("X-Long", "v" * 2500))
        h.append(("Content-Type", "text/plain; charset=us-ascii"))
        return self.msg(h, self.lines_to_bytes(self.text_lines(1)))

    def k_folded(self):
        self.next_date()
        rcpts = [self.addr() for _ in range(6)]
        hdrs = [
            ("From", self.addr()),
            ("To", ",\r\n ".join(rcpts[:3])),
            ("Cc", ",\r\n\t".join(rcpts[3:])),
            ("Subject", "A subject that is folded\r\n over several\r\n"
                        "\tlines with both spaces and tabs"),
            ("Date", self.date_hdr()),
            ("Message-ID", "\r\n " + self.msgid()),
            ("DKIM-Signature", "v=1; a=rsa-sha256; c=relaxed/relaxed; "
             "d=example.com; s=sel;\r\n\th=from:to:subject:date;\r\n\t"
             "bh=" + base64.b64encode(self.r.randbytes(32)).decode() +
             ";\r\n\tb=" + "\r\n\t ".join(
                 self.b64_lines(self.r.randbytes(256)))),
            ("List-Id", "Example list\r\n <list.example.org>"),
            ("MIME-Version", "1.0"),
            ("Content-Type", "text/plain;\r\n\tcharset=us-ascii;\r\n"
                             "\tformat=flowed"),
        ]
        return self.msg(hdrs, self.lines_to_bytes(self.text_lines()))

    def k_rfc2047(self, variant):
        subjects = [
            "=?UTF-8?B?%s?=" % base64.b64encode(
                "Grüße aus Köln — Привет".encode()).decode(),
            "=?ISO-8859-1?Q?Caf=E9_cr=E8me_=E0_la_fa=E7on?=",
            "Re: =?utf-8?q?na=C3=AFve?= =?utf-8?b?%s?= mixed" %
            base64.b64encode("日本語の件名".encode()).decode(),
            "=?UTF-8?B?%s?=\r\n =?UTF-8?B?%s?=" % (
                base64.b64encode("A long encoded subject ".encode() +
                                 "ünïcödé ".encode() * 3).decode(),
                base64.b64encode("second word ✓".encode()).decode()),
        ]
        h = self.base_headers(subjects[variant % len(subjects)], received=1)
        h[[n for n, _ in h].index("From")] = (
            "From", "=?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <jm@example.org>")
        h.append(("Content-Type", "text/plain; charset=us-ascii"))
        return self.msg(h, self.lines_to_bytes(self.text_lines()))

    def k_latin1(self):
        subj = "Gr\xfc\xdfe f\xfcr %s" % self.r.choice(LATIN1_WORDS)
        frm = "J\xfcrgen M\xfcller <jm@example.org>"
        self.next_date()
        hdrs = [("From", frm.encode("latin-1")),
                ("To", self.addr()),
                ("Subject", subj.encode("latin-1")),
                ("Date", self.date_hdr()),
                ("Message-ID", self.msgid()),
                ("MIME-Version", "1.0"),
                ("Content-Type", "text/plain; charset=iso-8859-1"),
                ("Content-Transfer-Encoding", "8bit")]
        body = ["Sehr geehrte Damen und Herren,", ""]
        body += [" ".join(self.r.choice(LATIN1_WORDS) for _ in range(9))
                 for _ in range(5)]
        body += ["", "Mit freundlichen Gr\xfc\xdfen", "\xa9 \xb1 \xbd \xff"]
        return self.msg(hdrs, self.lines_to_bytes(body, "latin-1"))

    def k_utf8(self):
        self.next_date()
        hdrs = [("From", "Zoë Ångström <zoe@example.net>"),
                ("To", "Σωκράτης <s@example.org>"),
                ("Subject", "Grüße ✉ %s" % self.r.choice(UTF8_WORDS)),
                ("Date", self.date_hdr()),
                ("Message-ID", self.msgid()),
                ("MIME-Version", "1.0"),
                ("Content-Type", "text/plain; charset=utf-8"),
                ("Content-Transfer-Encoding", "8bit")]
        body = [" ".join(self.r.choice(UTF8_WORDS) for _ in range(7))
                for _ in range(6)]
        body += ["", "\u00a0non-breaking space, \u200bzero width, "
                     "\U0001F600 emoji"]
        return self.msg(hdrs, self.lines_to_bytes(body, "utf-8"))

    def k_no_msgid(self):
        h = self.base_headers("No Message-ID here", msgid=False, received=1)
        h.append(("Content-Type", "text/plain; charset=us-ascii"))
        return self.msg(h, self.lines_to_bytes(self.text_lines()))

    def k_shared_msgid(self, mid, which):
        h = self.base_headers("Shared Message-ID, message %s" % which,
                              msgid=False, received=1)
        h.append(("Message-ID", mid))
        h.append(("Content-Type", "text/plain; charset=us-ascii"))
        body = ["This is message %s of two DIFFERENT messages that carry"
                % which, "the same Message-ID %s." % mid, ""]
        return self.msg(h, self.lines_to_bytes(body + self.text_lines()))

    def k_resent_copy(self, core_hdrs, core_body, hops):
        """Same mail as seen in another mailbox: only trace headers differ."""
        rec, _ = self.received_chain(hops, "copy%d@example.com" % hops)
        trace = rec + [("Delivered-To", "copy%d@example.com" % hops)]
        return self.msg(trace + core_hdrs, core_body)

    def k_received_dates(self):
        h = self.base_headers("Several Received headers", received=4)
        h.append(("Content-Type", "text/plain; charset=us-ascii"))
        return self.msg(h, self.lines_to_bytes(self.text_lines()))

    def k_date_only(self):
        h = self.base_headers("Only a Date header", received=0)
        h.append(("Content-Type", "text/plain; charset=us-ascii"))
        return self.msg(h, self.lines_to_bytes(self.text_lines()))

    def k_no_dates(self):
        h = self.base_headers("Neither Date nor Received", date=False,
                              received=0)
        h.append(("Content-Type", "text/plain; charset=us-ascii"))
        return self.msg(h, self.lines_to_bytes(self.text_lines()))

    def k_empty_body(self):
        h = self.base_headers("Empty body")
        return self.msg(h, b"")

    def k_tiny(self):
        return b"Subject: x" + CRLF + CRLF + b"x" + CRLF

    def k_headers_only(self):
        # No blank line and no body at all.
        self.next_date()
        return self.headers_bytes([("From", self.addr()),
                                   ("Subject", "Headers only, no body"),
                                   ("Date", self.date_hdr()),
                                   ("Message-ID", self.msgid())])

    def k_odd_headers(self):
        self.next_date()
        raw = [b"from:lower-case-no-space@example.com",
               b"SUBJECT: UPPER CASE NAME",
               b"To: a@example.com",
               b"To: b@example.com",
               b"Date: " + b(self.date_hdr()),
               b"message-id: <" + b("%x" % self.r.getrandbits(48)) +
               b"@example.com> (a comment)",
               b"X-Empty:",
               b"X-Trailing-Space: value   ",
               b"X-Tab:\tvalue"]
        body = ["Trailing spaces   ", "\tLeading tab", "  ", "", "end"]
        return CRLF.join(raw) + CRLF + CRLF + self.lines_to_bytes(body)

    def k_qp(self):
        h = self.base_headers("Quoted-printable body")
        h.append(("Content-Type", "text/plain; charset=utf-8"))
        h.append(("Content-Transfer-Encoding", "quoted-printable"))
        text = ("Price = 10 € — " + self.words(40) + "\n\nGrüße\n" +
                "=" * 10 + " trailing space ")
        return self.msg(h, self.lines_to_bytes(self.qp_encode(text)))

    def k_html_only(self):
        h = self.base_headers("HTML only", received=1)
        p = self.html_part()
        hdr, body = p.split(CRLF + CRLF, 1)
        for line in hdr.split(CRLF):
            n, v = line.split(b": ", 1)
            h.append((n.decode(), v.decode()))
        return self.msg(h, body)

    def k_rfc2231(self):
        h = self.base_headers("Attachment with an encoded file name")
        name = "Pr%C3%A4sentation%20%C3%BCber%20Gr%C3%BC%C3%9Fe.pdf"
        att = self.part(
            "application/pdf; name*=utf-8''" + name,
            self.lines_to_bytes(self.b64_lines(self.r.randbytes(5000))),
            "base64",
            [("Content-Disposition", "attachment;\r\n filename*=utf-8''" +
              name)])
        ct, body = self.multipart("mixed", [self.text_part(), att])
        h.append(("Content-Type", ct))
        return self.msg(h, body)

    def k_bare_cr(self):
        # A CR not followed by LF: Dovecot serves it unchanged (a bare LF it
        # would turn into CRLF, see quirks()).
        h = self.base_headers("Bare carriage return")
        h.append(("Content-Type", "text/plain; charset=us-ascii"))
        return self.msg(h, b"over\rwritten\r\n" +
                        self.lines_to_bytes(self.text_lines(1)))

    def k_many_lines(self):
        h = self.base_headers("Many short lines")
        h.append(("Content-Type", "text/plain; charset=us-ascii"))
        lines = []
        for i in range(4000):
            lines.append("." if i % 97 == 0 else "%d %s" % (
                i, self.r.choice(WORDS)))
        return self.msg(h, self.lines_to_bytes(lines))

    # ---- the corpus ---------------------------------------------------
    def specials(self):
        """(kind, thunk) in priority order; every one is served verbatim."""
        shared = "<shared-%d@example.com>" % self.seed
        out = [
            ("plain", self.k_plain),
            ("dots", self.k_dots),
            ("dot_last", self.k_dot_last),
            ("from_lines", self.k_from_line),
            ("long_lines", self.k_long_lines),
            ("folded_headers", self.k_folded),
            ("rfc2047_b", lambda: self.k_rfc2047(0)),
            ("rfc2047_q", lambda: self.k_rfc2047(1)),
            ("latin1_8bit", self.k_latin1),
            ("utf8_8bit", self.k_utf8),
            ("alternative", self.k_alternative),
            ("mixed_attachment", lambda: self.k_mixed(20000)),
            ("big_150k", lambda: self.k_big(150 * 1024)),
            ("no_message_id", self.k_no_msgid),
            ("shared_msgid_a", lambda: self.k_shared_msgid(shared, "A")),
            ("shared_msgid_b", lambda: self.k_shared_msgid(shared, "B")),
            ("received_dates", self.k_received_dates),
            ("date_only", self.k_date_only),
            ("no_dates", self.k_no_dates),
            ("empty_body", self.k_empty_body),
            ("tiny", self.k_tiny),
            ("odd_headers", self.k_odd_headers),
            ("nested", self.k_nested),
            ("big_700k", lambda: self.k_big(700 * 1024)),
            ("quoted_printable", self.k_qp),
            ("html_only", self.k_html_only),
            ("rfc2231_filename", self.k_rfc2231),
            ("rfc2047_mixed", lambda: self.k_rfc2047(2)),
            ("rfc2047_folded", lambda: self.k_rfc2047(3)),
            ("long_header", self.k_long_header),
            ("many_lines", self.k_many_lines),
            ("headers_only", self.k_headers_only),
            ("big_1800k", lambda: self.k_big(1800 * 1024)),
            ("bare_cr", self.k_bare_cr),
        ]
        return out

    def resent_pair(self):
        """Two copies of one mail differing only in trace headers."""
        core = self.base_headers("Same mail, two mailboxes")
        core.append(("Content-Type", "text/plain; charset=us-ascii"))
        body = self.lines_to_bytes(self.text_lines())
        return [("resent_copy_a", lambda: self.k_resent_copy(core, body, 1)),
                ("resent_copy_b", lambda: self.k_resent_copy(core, body, 2))]

    def generic(self):
        x = self.r.random()
        if x < 0.5:
            return "plain", self.k_plain
        if x < 0.75:
            return "alternative", self.k_alternative
        if x < 0.95:
            return "mixed_attachment", self.k_mixed
        return self.r.choice([("latin1_8bit", self.k_latin1),
                              ("utf8_8bit", self.k_utf8)])

    def corpus(self, count):
        plan = self.specials()
        plan[20:20] = self.resent_pair()
        plan = plan[:count]
        while len(plan) < count:
            plan.append(self.generic())
        for kind, fn in plan:
            self.n += 1
            data = fn()
            assert data.count(b"\n") == data.count(b"\r\n"), kind
            assert kind == "bare_cr" or \
                data.count(b"\r") == data.count(b"\r\n"), kind
            assert b"\0" not in data, kind
            yield kind, data

    def quirks(self):
        """Messages Dovecot does not serve verbatim (see README)."""
        self.n += 1000
        h = self.headers_bytes([("From", self.addr()),
                                ("Subject", "quirk"),
                                ("Message-ID", self.msgid())])
        yield "bare_lf", h + CRLF + b"line one\nline two\r\nline three\r\n"
        yield "lf_only", h.replace(CRLF, b"\n") + b"\nlf only\nbody\n"
        yield "nul_byte", h + CRLF + b"nul \0 byte\r\n"
        yield "no_final_newline", h + CRLF + b"no newline at the end"
        yield "dot_no_final_newline", h + CRLF + b"text\r\n."


def message_id(data):
    head = data.split(b"\r\n\r\n", 1)[0]
    unfolded = head.replace(b"\r\n ", b" ").replace(b"\r\n\t", b" ")
    for line in unfolded.split(b"\r\n"):
        name, _, val = line.partition(b":")
        if name.strip().lower() == b"message-id":
            v = val.strip()
            i, j = v.find(b"<"), v.find(b">")
            if i >= 0 and j > i:
                return v[i:j + 1].decode("ascii", "replace")
    return None


def write_set(out, items, prefix):
    os.makedirs(out, exist_ok=True)
    for old in os.listdir(out):
        if old.startswith(prefix) and old.endswith(".eml"):
            os.unlink(os.path.join(out, old))
    manifest, meta = [], []
    for i, (kind, data) in enumerate(items, 1):
        name = "%s-%04d.eml" % (prefix, i)
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
        h = hashlib.sha256(data).hexdigest()
        manifest.append("%s  %s\n" % (h, name))
        meta.append({"file": name, "sha256": h, "size": len(data),
                     "kind": kind, "message_id": message_id(data)})
    with open(os.path.join(out, "MANIFEST.sha256"), "w") as f:
        f.writelines(manifest)
    with open(os.path.join(out, "corpus.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    return meta


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", "-o", required=True, help="output directory")
    ap.add_argument("--count", "-n", type=int, default=None,
                    help="number of messages (default 60)")
    ap.add_argument("--seed", "-s", type=int, default=1)
    ap.add_argument("--size-mix", choices=("small", "default", "large"),
                    default="default",
                    help="small: no attachment over 60 KB; large: also 5%% "
                    "of ordinary mail gets attachments up to 2 MB")
    ap.add_argument("--bench", action="store_true",
                    help="benchmark corpus: 1,000 messages unless --count")
    ap.add_argument("--quirks", action="store_true",
                    help="also write OUT/quirks/ (not served verbatim)")
    ap.add_argument("--quiet", "-q", action="store_true")
    a = ap.parse_args()
    count = a.count if a.count is not None else (1000 if a.bench else 60)
    if count < 0:
        ap.error("--count must be >= 0")

    g = Gen(a.seed, a.size_mix)
    meta = write_set(a.out, list(g.corpus(count)), "msg")
    if a.quirks:
        write_set(os.path.join(a.out, "quirks"), list(g.quirks()), "quirk")
    if not a.quiet:
        total = sum(m["size"] for m in meta)
        print("gen_corpus: %d messages, %d bytes in %s (seed %d)"
              % (len(meta), total, a.out, a.seed), file=sys.stderr)


if __name__ == "__main__":
    main()
