#!/usr/bin/python3
"""smtp_sink.py — a real SMTP server for the integration tests.

Run with Debian's /usr/bin/python3 (python3-aiosmtpd). Listens on 127.0.0.1
(port 0 = any free port) and prints the port on stdout, one line, once it
accepts connections.

Modes:
  accept  (default) an aiosmtpd server. Every message received is written to
          --dir as NNNNNN.eml (the raw bytes of DATA) and then NNNNNN.json
          (envelope and the message parsed with Python's email package). The
          .json file is renamed into place last, so a reader that sees it
          sees a complete message.
  hang    accepts TCP connections and never sends a byte (no greeting). Each
          accepted connection is announced on stdout as "conn N".

Options for accept mode:
  --auth USER:PASSWORD   require SMTP AUTH (PLAIN/LOGIN, allowed without TLS)
                         with these credentials before MAIL FROM.
  --reject-rcpt REPLY    answer every RCPT TO with REPLY, e.g.
                         "550 5.1.1 <{rcpt}>: Recipient address rejected"
                         ({rcpt} becomes the address, as Postfix echoes it).
"""

import argparse
import asyncio
import email
import email.policy
import email.utils
import json
import logging
import os
import signal
import socket
import sys
import threading
import warnings

warnings.simplefilter("ignore")
logging.getLogger("mail.log").setLevel(logging.ERROR)

ap = argparse.ArgumentParser()
ap.add_argument("--dir", required=False)
ap.add_argument("--port", type=int, default=0)
ap.add_argument("--mode", choices=["accept", "hang"], default="accept")
ap.add_argument("--auth")
ap.add_argument("--reject-rcpt")
args = ap.parse_args()


def say(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def bind_socket(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(64)
    s.setblocking(False)
    return s


# ------------------------------------------------------------------ hang mode


def run_hang():
    sock = bind_socket(args.port)
    held = []
    count = 0

    async def on_conn(reader, writer):
        nonlocal count
        count += 1
        held.append(writer)  # keep it open, say nothing
        say("conn %d" % count)

    async def main():
        server = await asyncio.start_server(on_conn, sock=sock)
        say(str(sock.getsockname()[1]))
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        server.close()
        for w in held:
            w.close()

    asyncio.run(main())


# ---------------------------------------------------------------- accept mode


def header_list(msg):
    """Headers as [name, raw value] in order (raw: before RFC 2047 decoding)."""
    return [[k, v] for k, v in msg.raw_items()] if hasattr(msg, "raw_items") else [[k, str(v)] for k, v in msg.items()]


def describe(part):
    """One MIME part: type, parameters, encoding, decoded content for leaves."""
    d = {
        "content_type": part.get_content_type(),
        "charset": part.get_content_charset(),
        "params": dict((k, v) for k, v in part.get_params() or [] if v != ""),
        "transfer_encoding": part.get("Content-Transfer-Encoding"),
        "headers": [[k, str(v)] for k, v in part.items()],
        "defects": [type(x).__name__ for x in part.defects],
    }
    if part.is_multipart():
        d["boundary"] = part.get_boundary()
        d["parts"] = [describe(p) for p in part.iter_parts()]
    else:
        try:
            d["content"] = part.get_content()
            if isinstance(d["content"], bytes):
                d["content"] = d["content"].decode("utf-8", "replace")
        except Exception as e:  # noqa: BLE001 - report, do not crash the sink
            d["content"] = None
            d["content_error"] = "%s: %s" % (type(e).__name__, e)
    return d


def parse(raw):
    out = {}
    # compat32 keeps header values as they were on the wire (encoded words intact)
    legacy = email.message_from_bytes(raw, policy=email.policy.compat32)
    out["raw_headers"] = [[k, v] for k, v in legacy.items()]
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    decoded = {}
    for k in ("Subject", "From", "To", "Date", "Message-ID", "MIME-Version"):
        v = msg.get(k)
        decoded[k.lower()] = None if v is None else str(v)
    out["decoded_headers"] = decoded
    out["header_counts"] = {}
    for k, _ in legacy.items():
        out["header_counts"][k.lower()] = out["header_counts"].get(k.lower(), 0) + 1
    date = msg.get("Date")
    try:
        dt = email.utils.parsedate_to_datetime(str(date)) if date is not None else None
        out["date_epoch_ms"] = None if dt is None or dt.tzinfo is None else int(dt.timestamp() * 1000)
    except Exception:  # noqa: BLE001
        out["date_epoch_ms"] = None
    out["mime"] = describe(msg)
    out["parse_error"] = None
    return out


class Handler:
    def __init__(self, outdir):
        self.outdir = outdir
        self.n = 0
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if args.reject_rcpt:
            return args.reject_rcpt.replace("{rcpt}", address)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.n += 1
            n = self.n
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        base = os.path.join(self.outdir, "%06d" % n)
        with open(base + ".eml", "wb") as f:
            f.write(raw)
        rec = {
            "seq": n,
            "mail_from": envelope.mail_from,
            "mail_options": list(envelope.mail_options or []),
            "rcpt_tos": list(envelope.rcpt_tos),
            "auth_user": None,
            "size": len(raw),
            "eml": base + ".eml",
        }
        login = getattr(getattr(session, "auth_data", None), "login", None)
        if login is not None:
            rec["auth_user"] = login.decode() if isinstance(login, bytes) else login
        try:
            rec.update(parse(raw))
        except Exception as e:  # noqa: BLE001
            rec["parse_error"] = "%s: %s" % (type(e).__name__, e)
        tmp = base + ".json.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(rec, f, ensure_ascii=False)
        os.rename(tmp, base + ".json")
        return "250 Message accepted for delivery"


def run_accept():
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    if not args.dir:
        sys.exit("--dir is required in accept mode")
    os.makedirs(args.dir, exist_ok=True)
    sock = bind_socket(args.port)

    class SockController(Controller):
        """Controller that serves a socket bound beforehand (so port 0 works)."""

        def _create_server(self):
            return self.loop.create_server(self._factory_invoker, sock=sock, ssl=self.ssl_context)

    kw = {}
    if args.auth:
        user, _, password = args.auth.partition(":")

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (
                isinstance(auth_data, LoginPassword)
                and auth_data.login == user.encode()
                and auth_data.password == password.encode()
            )
            return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

        kw = dict(authenticator=authenticator, auth_required=True, auth_require_tls=False)

    ctl = SockController(Handler(args.dir), hostname="127.0.0.1", port=sock.getsockname()[1], **kw)
    ctl.start()
    say(str(sock.getsockname()[1]))
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait()
    ctl.stop()


if args.mode == "hang":
    run_hang()
else:
    run_accept()
