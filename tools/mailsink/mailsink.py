#!/usr/bin/python3
"""mailsink: a local SMTP server that keeps every message it accepts as a file, for `make run`
and the tests. Nothing is ever relayed.

  /usr/bin/python3 tools/mailsink/mailsink.py --smtp-port PORT --dir DIR [--http-port PORT]
      [--hold-file PATH] [--fail-rcpt SUBSTRING]...

SMTP on 127.0.0.1:PORT (aiosmtpd's protocol class with our handler, on a plain asyncio server).
Every accepted message becomes two files in DIR, named so that they sort by arrival:

  20260101T120000.123456-000001.eml   the message (RFC 5322) byte for byte as received, after
                                      SMTP's dot-unstuffing; nothing is added to it
  20260101T120000.123456-000001.json  its envelope: {"mail_from", "rcpt_tos", "received_at"
                                      (ISO 8601, UTC), "size" (bytes of the .eml)}

Both are written under a temporary name starting with "." and renamed into place, the sidecar
first and the .eml last, and only then is the DATA answered with 250: a reader that sees NAME.eml
finds it complete and its NAME.json beside it. The files are readable by their owner only (they
hold sign-up and password-reset links). A reader waits for *.eml and ignores names starting
with ".".

--http-port PORT   a read-only web page on 127.0.0.1:PORT (asyncio streams, no other package):
                   GET /                        every message, newest first
                   GET /messages/NAME           one message: its headers, its text/plain part, and
                                                its text/html part inside <iframe sandbox srcdoc>
                   GET /messages/NAME.eml       the raw message (message/rfc822)
                   GET /api/messages            [{"name", "mail_from", "to" (the envelope
                                                recipients, a list), "subject", "received_at",
                                                "size"}], newest first
                   Anything else is 404. Only names of the form above are served, never another
                   file; requests whose Host is not a loopback name are refused (DNS rebinding).
--hold-file PATH   while PATH exists, MAIL FROM is answered "421 4.3.2 Service not available, try
                   later" and the connection is closed (RFC 5321 4.2.2): a transient failure, the
                   client should retry later. Once PATH is removed, mail is accepted again.
--fail-rcpt S      (repeatable) RCPT TO addresses containing S (case-sensitive) are refused with
                   "550 5.1.1 mailbox unavailable": a permanent failure.

Loopback only: no STARTTLS and no AUTH are offered (a client configured to require either fails).
SMTPUTF8 and 8BITMIME are accepted. At start it prints one line, "mailsink: SMTP on
127.0.0.1:PORT, messages in DIR[, web page http://127.0.0.1:HTTP/]", once both ports listen; it
then logs one line per accepted message. SIGTERM or SIGINT (unless SIGINT was ignored when it
started, as for a background job of a shell script) closes the listeners and every connection
and exits 0 at once.

The self-test is mailsink_test.py beside this file.
"""
import argparse
import asyncio
import datetime
import email.parser
import email.policy
import html
import json
import os
import re
import signal
import sys
import tempfile
import weakref

from aiosmtpd.smtp import SMTP

HOST = "127.0.0.1"
NAME_RE = re.compile(r"^[0-9]{8}T[0-9]{6}\.[0-9]{6}-[0-9]+$")
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}


def log(line):
    print(f"mailsink: {line}", flush=True)


class Sink:
    """aiosmtpd's handler: every method named handle_* is a hook of the SMTP session."""

    def __init__(self, directory, hold_file=None, fail_rcpt=()):
        self.dir = directory
        self.hold_file = hold_file
        self.fail_rcpt = list(fail_rcpt)
        self.counter = 0
        self.last = None  # the previous arrival time: names never go back if the clock does

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.hold_file and os.path.exists(self.hold_file):
            # 421 means the server closes the channel: write the reply, then close.
            transport = server.transport
            if transport is not None:
                asyncio.get_running_loop().call_soon(transport.close)
            return "421 4.3.2 Service not available, try later"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if any(s in address for s in self.fail_rcpt):
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        try:
            name = self.store(envelope)
        except OSError as e:
            log(f"cannot store a message: {e}")
            return "451 4.3.0 Requested action aborted: local error in processing"
        return f"250 OK queued as {name}"

    def store(self, envelope):
        """Writes NAME.json then NAME.eml, each by rename from a temporary name; returns NAME."""
        now = datetime.datetime.now(datetime.timezone.utc)
        if self.last is not None and now < self.last:
            now = self.last
        self.last = now
        self.counter += 1
        name = f"{now.strftime('%Y%m%dT%H%M%S.%f')}-{self.counter:06d}"
        content = envelope.original_content or b""
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "received_at": now.isoformat(timespec="microseconds").replace("+00:00", "Z"),
            "size": len(content),
        }
        self.write(name + ".json", (json.dumps(meta, indent=2) + "\n").encode())
        self.write(name + ".eml", content)
        log(f"{name}.eml from <{envelope.mail_from}> to "
            f"{', '.join('<' + r + '>' for r in envelope.rcpt_tos)} ({len(content)} bytes)")
        return name

    def write(self, final, data):
        fd, tmp = tempfile.mkstemp(prefix="." + final + ".", suffix=".tmp", dir=self.dir)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.rename(tmp, os.path.join(self.dir, final))
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise


# --- the web page ------------------------------------------------------------------------------

def read_head(path, limit=256 * 1024):
    """The header block of a message file (up to the first empty line), without the body."""
    with open(path, "rb") as f:
        data = f.read(limit)
    for sep in (b"\r\n\r\n", b"\n\n"):
        i = data.find(sep)
        if i >= 0:
            return data[: i + len(sep)]
    return data


def header_str(msg, key):
    try:
        v = msg.get(key)
        return "" if v is None else str(v)
    except Exception:  # noqa: BLE001 - a malformed header shows as raw text
        raw = msg.get_all(key, failobj=[""])
        return str(raw[0])


def summary(directory, name):
    """What the list and /api/messages show of one message."""
    eml = os.path.join(directory, name + ".eml")
    try:
        with open(os.path.join(directory, name + ".json"), encoding="utf-8") as f:
            meta = json.load(f)
    except (OSError, ValueError):
        st = os.stat(eml)
        meta = {"mail_from": "", "rcpt_tos": [], "size": st.st_size,
                "received_at": datetime.datetime.fromtimestamp(
                    st.st_mtime, datetime.timezone.utc).isoformat().replace("+00:00", "Z")}
    head = email.parser.BytesHeaderParser(policy=email.policy.default).parsebytes(read_head(eml))
    to = meta.get("rcpt_tos") or [header_str(head, "to")]
    return {
        "name": name,
        "mail_from": meta.get("mail_from", ""),
        "to": to,
        "subject": header_str(head, "subject"),
        "received_at": meta.get("received_at", ""),
        "size": meta.get("size", 0),
    }


def message_names(directory):
    """Names of the stored messages, newest first."""
    names = []
    for entry in os.listdir(directory):
        if entry.endswith(".eml") and NAME_RE.match(entry[:-4]):
            names.append(entry[:-4])
    names.sort(reverse=True)
    return names


def summaries(directory):
    out = []
    for name in message_names(directory):
        try:
            out.append(summary(directory, name))
        except OSError:
            pass  # removed meanwhile
    return out


PAGE_STYLE = """body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse}td,th{padding:.3em .6em;border-bottom:1px solid #ddd;
text-align:left;vertical-align:top}th{background:#f4f4f4}pre{white-space:pre-wrap;
background:#f8f8f8;padding:.8em;border:1px solid #ddd}iframe{width:100%;height:65vh;
border:1px solid #ccc}.muted{color:#777}"""


def page(title, body):
    return (f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{html.escape(title)}"
            f"</title><style>{PAGE_STYLE}</style></head><body>{body}</body></html>").encode()


def esc(s):
    return html.escape(str(s), quote=True)


URL_RE = re.compile(r"https?://[^\s<>\"']+")


def linkify(text):
    """Escapes text for HTML, with each http(s) URL made a link."""
    out, pos = [], 0
    for m in URL_RE.finditer(text):
        url = m.group(0).rstrip(".,;:!?)")
        out.append(esc(text[pos:m.start()]))
        out.append(f'<a href="{esc(url)}" rel="noopener noreferrer">{esc(url)}</a>')
        pos = m.start() + len(url)
    out.append(esc(text[pos:]))
    return "".join(out)


def index_page(directory):
    rows = []
    for s in summaries(directory):
        rows.append(
            f"<tr><td>{esc(s['received_at'])}</td><td>{esc(', '.join(s['to']))}</td>"
            f"<td><a href=\"/messages/{esc(s['name'])}\">{esc(s['subject']) or '(no subject)'}"
            f"</a></td><td><a href=\"/messages/{esc(s['name'])}.eml\">raw</a></td></tr>")
    table = ("<table><tr><th>received (UTC)</th><th>to</th><th>subject</th><th></th></tr>"
             + "".join(rows) + "</table>") if rows else "<p class=\"muted\">No message yet.</p>"
    return page("mailsink", f"<h1>Mails</h1><p class=\"muted\">{len(rows)} message(s) in "
                f"{esc(directory)}, newest first; reload for new ones.</p>{table}")


def part_content(part):
    """The decoded text of a MIME part, with LF line ends."""
    try:
        text = part.get_content()
    except Exception:  # noqa: BLE001 - an unknown charset or a broken encoding
        payload = part.get_payload(decode=True) or b""
        text = payload.decode("utf-8", errors="replace")
    return text.replace("\r\n", "\n")


def message_page(directory, name):
    with open(os.path.join(directory, name + ".eml"), "rb") as f:
        raw = f.read()
    msg = email.parser.BytesParser(policy=email.policy.default).parsebytes(raw)
    meta = summary(directory, name)
    rows = [f"<tr><th>envelope</th><td>from &lt;{esc(meta['mail_from'])}&gt; to "
            f"{esc(', '.join('<' + t + '>' for t in meta['to']))}, received "
            f"{esc(meta['received_at'])}, {esc(meta['size'])} bytes</td></tr>"]
    seen = set()
    for key in msg.keys():
        if key.lower() in seen:
            continue
        seen.add(key.lower())
        for value in msg.get_all(key, []):
            try:
                shown = str(value)
            except Exception:  # noqa: BLE001
                shown = repr(value)
            rows.append(f"<tr><th>{esc(key)}</th><td>{esc(shown)}</td></tr>")
    body = [f"<p><a href=\"/\">&larr; all messages</a> &middot; "
            f"<a href=\"/messages/{esc(name)}.eml\">raw</a></p>",
            f"<h1>{esc(header_str(msg, 'subject')) or '(no subject)'}</h1>",
            "<table>" + "".join(rows) + "</table>"]
    text = msg.get_body(preferencelist=("plain",))
    markup = msg.get_body(preferencelist=("html",))
    if text is not None:
        body.append(f"<h2>text/plain</h2><pre>{linkify(part_content(text))}</pre>")
    if markup is not None:
        # Untrusted markup: escaped into the attribute, shown in a sandbox with no script, no
        # form, no plug-in, no top navigation and an opaque origin (and the page's CSP forbids
        # scripts, which the srcdoc document inherits).
        body.append("<h2>text/html</h2><iframe sandbox title=\"the text/html part\" "
                    f"srcdoc=\"{esc(part_content(markup))}\"></iframe>")
    if text is None and markup is None:
        body.append("<p class=\"muted\">No text/plain or text/html part.</p>")
    attachments = []
    try:
        for part in msg.iter_attachments():
            size = len(part.get_payload(decode=True) or b"")
            attachments.append(f"<li>{esc(part.get_filename() or '(no name)')} "
                               f"({esc(part.get_content_type())}, {size} bytes)</li>")
    except Exception:  # noqa: BLE001 - not multipart, or broken
        pass
    if attachments:
        body.append("<h2>attachments</h2><ul>" + "".join(attachments) + "</ul>")
    return page(header_str(msg, "subject") or name, "".join(body))


REASONS = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found",
           405: "Method Not Allowed", 500: "Internal Server Error"}
CSP = "script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'"


class Web:
    def __init__(self, directory):
        self.dir = directory

    def route(self, path):
        """(status, content type, body) of a GET of path."""
        if path == "/":
            return 200, "text/html; charset=utf-8", index_page(self.dir)
        if path == "/api/messages":
            return 200, "application/json", (json.dumps(summaries(self.dir)) + "\n").encode()
        if path.startswith("/messages/"):
            name = path[len("/messages/"):]
            raw = name.endswith(".eml")
            if raw:
                name = name[:-4]
            # Only our own names: no "/", no "..", no sidecar, no temporary file.
            if NAME_RE.match(name) and os.path.isfile(os.path.join(self.dir, name + ".eml")):
                if raw:
                    with open(os.path.join(self.dir, name + ".eml"), "rb") as f:
                        return 200, "message/rfc822", f.read()
                return 200, "text/html; charset=utf-8", message_page(self.dir, name)
        return 404, "text/plain; charset=utf-8", b"not found\n"

    async def serve(self, reader, writer):
        try:
            status, ctype, body, head_only = await asyncio.wait_for(self.answer(reader), 10)
        except (asyncio.TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                ConnectionError, ValueError):
            status, ctype, body, head_only = 400, "text/plain; charset=utf-8", b"bad request\n", 0
        try:
            head = (f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}\r\n"
                    f"Content-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
                    "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
                    f"Referrer-Policy: no-referrer\r\nContent-Security-Policy: {CSP}\r\n"
                    + ("Allow: GET, HEAD\r\n" if status == 405 else "")
                    + "Connection: close\r\n\r\n")
            writer.write(head.encode() + (b"" if head_only else body))
            await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def answer(self, reader):
        request = await reader.readuntil(b"\r\n\r\n")
        if len(request) > 16 * 1024:
            raise ValueError("request too large")
        lines = request.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3:
            raise ValueError("bad request line")
        method, target, _version = parts
        host = ""
        for line in lines[1:]:
            key, _, value = line.partition(":")
            if key.strip().lower() == "host":
                host = value.strip()
        # A page on loopback is still reachable from a browser through DNS rebinding; refuse
        # any Host that is not a loopback name.
        hostname = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        if host and hostname.lower() not in LOOPBACK_HOSTS:
            return 403, "text/plain; charset=utf-8", b"forbidden host\n", False
        if method not in ("GET", "HEAD"):
            return 405, "text/plain; charset=utf-8", b"method not allowed\n", False
        path = target.split("?", 1)[0].split("#", 1)[0]
        try:
            status, ctype, body = self.route(path)
        except OSError:
            status, ctype, body = 404, "text/plain; charset=utf-8", b"not found\n"
        except Exception as e:  # noqa: BLE001 - a broken message must not stop the page
            log(f"web: {path}: {e!r}")
            status, ctype, body = 500, "text/plain; charset=utf-8", b"internal error\n"
        return status, ctype, body, method == "HEAD"


# --- main --------------------------------------------------------------------------------------

def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="mailsink.py",
        description="A local SMTP server on 127.0.0.1 that stores every message as a file.")
    p.add_argument("--smtp-port", type=int, required=True, metavar="PORT",
                   help="SMTP port on 127.0.0.1")
    p.add_argument("--dir", required=True, metavar="DIR",
                   help="where messages go (NAME.eml, NAME.json); created if missing")
    p.add_argument("--http-port", type=int, metavar="PORT",
                   help="also serve a read-only web page of the messages on 127.0.0.1:PORT")
    p.add_argument("--hold-file", metavar="PATH",
                   help="while PATH exists, answer MAIL FROM with 421 (retry later)")
    p.add_argument("--fail-rcpt", action="append", default=[], metavar="SUBSTRING",
                   help="refuse RCPT TO addresses containing SUBSTRING with 550 (repeatable)")
    return p.parse_args(argv)


async def run(args):
    loop = asyncio.get_running_loop()
    directory = os.path.abspath(args.dir)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    handler = Sink(directory, args.hold_file, args.fail_rcpt)
    sessions = weakref.WeakSet()  # open SMTP connections, closed at shutdown

    def smtp_factory():
        # hostname given: aiosmtpd would otherwise ask the resolver for the FQDN, which can be slow.
        proto = SMTP(handler, hostname="mailsink.localhost", ident="mailsink",
                     enable_SMTPUTF8=True, loop=loop)
        sessions.add(proto)
        return proto

    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        if sig == signal.SIGINT and signal.getsignal(sig) == signal.SIG_IGN:
            continue  # a background job of a script: Ctrl-C is the script's to handle
        loop.add_signal_handler(sig, stop.set)

    try:
        smtp = await loop.create_server(smtp_factory, HOST, args.smtp_port)
        web = None
        if args.http_port:
            web = await asyncio.start_server(Web(directory).serve, HOST, args.http_port,
                                             limit=16 * 1024)
    except OSError as e:
        print(f"mailsink: cannot listen: {e}", file=sys.stderr, flush=True)
        return 1
    line = f"SMTP on {HOST}:{args.smtp_port}, messages in {directory}"
    if web is not None:
        line += f", web page http://{HOST}:{args.http_port}/"
    log(line)

    await stop.wait()
    # Fast: stop listening, drop every open connection, cancel what still runs.
    smtp.close()
    if web is not None:
        web.close()
    for proto in list(sessions):
        if proto.transport is not None:
            proto.transport.abort()
    tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for t in tasks:
        t.cancel()
    if tasks:
        await asyncio.wait(tasks, timeout=1)
    log("stopped")
    return 0


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
