#!/usr/bin/python3
"""The self-test of mailsink.py: starts it on free loopback ports in a temporary folder and
talks to it as clients do (smtplib, HTTP).

Checks: the start line; a plain message and a multipart/alternative one (text and html) stored
byte for byte as sent (dot-unstuffed, 8-bit intact), each with its JSON sidecar, named in arrival
order, no temporary file left; the web page (list newest first, a message's headers, text part
and html part escaped into a sandboxed iframe, the raw message, /api/messages) and what it
refuses (other paths, "..", sidecars, a foreign Host); the hold file (421 to MAIL FROM while it
exists, accepted once it is gone); --fail-rcpt (550, and only the other recipients kept); a fast
exit on SIGTERM and SIGINT with connections open; a restart on the same port keeps the order.
Run by ctest (label unit): /usr/bin/python3 tools/mailsink/mailsink_test.py
"""
import email.policy
import html
import http.client
import json
import os
import re
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time
from email.message import EmailMessage

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SINK = os.path.join(HERE, "mailsink.py")
NAME_RE = re.compile(r"^[0-9]{8}T[0-9]{6}\.[0-9]{6}-[0-9]+$")

failures = 0


def check(what, ok, info=""):
    global failures
    if ok:
        print(f"ok   - {what}", flush=True)
    else:
        failures += 1
        print(f"FAIL - {what} {info}", flush=True)


def free_ports(n):
    """n distinct free ports, from lib.sh's free_port (below the ephemeral range)."""
    script = (f"source {ROOT}/scripts/lib.sh; for i in $(seq {n}); do free_port; done; "
              'rm -f "${TMPDIR:-/tmp}/restinu-ports.$$"')
    return [int(p) for p in subprocess.check_output(["bash", "-c", script], text=True).split()]


class Sink:
    """mailsink.py as a child process; its output is collected by a thread."""

    def __init__(self, args):
        self.proc = subprocess.Popen(["/usr/bin/python3", SINK, *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        self.lines = []
        self.first = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))
            self.first.set()
        self.first.set()

    def started(self, timeout=10):
        self.first.wait(timeout)
        return self.lines[0] if self.lines else ""

    def stop(self, sig=signal.SIGTERM):
        """Sends sig; returns (exit code, seconds it took), killing it after 5 s."""
        t = time.monotonic()
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        return rc, time.monotonic() - t

    def log(self):
        return "\n".join(self.lines)


def http_get(port, path, host=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.putrequest("GET", path, skip_host=host is not None)
    if host is not None:
        c.putheader("Host", host)
    c.endheaders()
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, r.getheader("Content-Type", ""), body


def eml_names(directory):
    return sorted(n[:-4] for n in os.listdir(directory) if n.endswith(".eml"))


def plain_message():
    m = EmailMessage(policy=email.policy.SMTP)
    m["From"] = "REST-iN-U <no-reply@restinu.local>"
    m["To"] = "new.user@example.com"
    m["Subject"] = "Welcome to REST-iN-U — confirm your e-mail"
    m["Message-ID"] = "<plain-1@restinu.local>"
    m.set_content("Hello,\n.a line starting with a dot\n..two dots\nConfirm: "
                  "http://127.0.0.1:8080/verify?token=abc&x=1\nNamasté ₹ 8-bit text\n",
                  cte="8bit")
    return m.as_bytes()


HTML_PART = ("<html><body><p>Hello &amp; welcome, \"friend\" 'you'</p>"
             "<script>alert('x')</script></iframe><img src=x onerror=alert(1)></body></html>")


def alternative_message():
    m = EmailMessage(policy=email.policy.SMTP)
    m["From"] = "no-reply@restinu.local"
    m["To"] = "buyer@example.com, agent@example.com"
    m["Subject"] = "Your offer was accepted"
    m.set_content("Your offer was accepted.\n")
    m.add_alternative(HTML_PART, subtype="html")
    return m.as_bytes()


def send(port, rcpts, data, sender="no-reply@restinu.local"):
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
        return s.sendmail(sender, rcpts, data)


def main():
    work = tempfile.mkdtemp(prefix="mailsink-test.")
    mail = os.path.join(work, "mail")
    hold = os.path.join(work, "hold")
    smtp_port, web_port = free_ports(2)
    sink = None
    try:
        # --- start -----------------------------------------------------------------------------
        r = subprocess.run(["/usr/bin/python3", SINK, "--dir", mail], capture_output=True,
                           text=True, timeout=30)
        check("no --smtp-port: usage error (exit 2)", r.returncode == 2, r.stderr)

        sink = Sink(["--smtp-port", str(smtp_port), "--http-port", str(web_port), "--dir", mail,
                     "--hold-file", hold, "--fail-rcpt", "bounce", "--fail-rcpt", "@gone.invalid"])
        line = sink.started()
        check("start line names the SMTP port, the folder and the web page",
              line == f"mailsink: SMTP on 127.0.0.1:{smtp_port}, messages in {mail}, web page "
                      f"http://127.0.0.1:{web_port}/", repr(line))
        check("the folder is created, private", os.path.isdir(mail) and
              os.stat(mail).st_mode & 0o777 == 0o700)

        # --- two messages --------------------------------------------------------------------
        one, two = plain_message(), alternative_message()
        refused = send(smtp_port, ["new.user@example.com"], one)
        check("plain message accepted", refused == {}, repr(refused))
        refused = send(smtp_port, ["buyer@example.com", "agent@example.com"], two)
        check("multipart/alternative message accepted", refused == {}, repr(refused))

        names = eml_names(mail)
        check("two .eml files", len(names) == 2, repr(os.listdir(mail)))
        check("names have the form %Y%m%dT%H%M%S.%f-N", all(NAME_RE.match(n) for n in names),
              repr(names))
        n1, n2 = names[0], names[1]
        with open(os.path.join(mail, n1 + ".eml"), "rb") as f:
            got1 = f.read()
        with open(os.path.join(mail, n2 + ".eml"), "rb") as f:
            got2 = f.read()
        check("the first by name is the first sent, byte for byte (dots, 8-bit, CRLF)",
              got1 == one, repr(got1[:300]))
        check("the second, byte for byte", got2 == two, repr(got2[:300]))
        check("nothing added to the message (no envelope header)", b"X-Envelope" not in got1)
        check("message files readable by the owner only",
              os.stat(os.path.join(mail, n1 + ".eml")).st_mode & 0o077 == 0)
        with open(os.path.join(mail, n1 + ".json")) as f:
            meta1 = json.load(f)
        with open(os.path.join(mail, n2 + ".json")) as f:
            meta2 = json.load(f)
        check("sidecar: mail_from, rcpt_tos, size",
              meta1.get("mail_from") == "no-reply@restinu.local"
              and meta1.get("rcpt_tos") == ["new.user@example.com"]
              and meta1.get("size") == len(one), repr(meta1))
        check("sidecar: received_at is ISO 8601 UTC",
              re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$", meta1.get("received_at", ""))
              is not None, repr(meta1))
        check("sidecar of the second: both recipients",
              meta2.get("rcpt_tos") == ["buyer@example.com", "agent@example.com"], repr(meta2))
        check("no temporary file left", sorted(os.listdir(mail)) ==
              sorted([n1 + ".eml", n1 + ".json", n2 + ".eml", n2 + ".json"]),
              repr(os.listdir(mail)))
        check("one log line per message", sum(".eml from <" in x for x in sink.lines) == 2,
              sink.log())

        # --- the web page --------------------------------------------------------------------
        status, ctype, body = http_get(web_port, "/")
        page = body.decode()
        check("GET / is an HTML page", status == 200 and ctype.startswith("text/html"),
              f"{status} {ctype}")
        check("GET / lists both, newest first",
              0 <= page.find(n2) < page.find(n1) and "Your offer was accepted" in page
              and "Welcome to REST-iN-U — confirm your e-mail" in page, page[:2000])
        check("GET / links each message and its raw file",
              f'href="/messages/{n1}"' in page and f'href="/messages/{n1}.eml"' in page)

        status, ctype, body = http_get(web_port, "/api/messages")
        try:
            api = json.loads(body)
        except ValueError:
            api = None
        check("GET /api/messages is JSON", status == 200 and ctype == "application/json"
              and isinstance(api, list), f"{status} {ctype} {body[:200]!r}")
        if isinstance(api, list):
            check("/api/messages: newest first, with name, to, subject, received_at, size",
                  [m.get("name") for m in api] == [n2, n1]
                  and api[1].get("to") == ["new.user@example.com"]
                  and api[0].get("to") == ["buyer@example.com", "agent@example.com"]
                  and api[1].get("subject") == "Welcome to REST-iN-U — confirm your e-mail"
                  and api[1].get("received_at") == meta1["received_at"]
                  and api[1].get("size") == len(one), repr(api))

        status, ctype, body = http_get(web_port, f"/messages/{n1}.eml")
        check("GET /messages/NAME.eml: the raw bytes as message/rfc822",
              status == 200 and ctype == "message/rfc822" and body == one, f"{status} {ctype}")

        status, ctype, body = http_get(web_port, f"/messages/{n2}")
        view = body.decode()
        check("GET /messages/NAME is an HTML page", status == 200 and ctype.startswith("text/html"),
              f"{status} {ctype}")
        check("the view shows the headers", "Your offer was accepted" in view
              and "buyer@example.com, agent@example.com" in view and "Content-Type" in view)
        check("the view shows the text/plain part", "<pre>Your offer was accepted.\n</pre>" in view,
              view[:3000])
        m = re.search(r'<iframe sandbox [^>]*srcdoc="([^"]*)"></iframe>', view)
        check("the html part is inside <iframe sandbox srcdoc>", m is not None, view[-2000:])
        if m:
            check("the srcdoc attribute unescapes to the html part exactly",
                  html.unescape(m.group(1)).rstrip("\n") == HTML_PART, m.group(1))
        check("no markup of the message reaches the page unescaped",
              "<script>" not in view and "</iframe><img" not in view and "onerror=alert(1)>" not
              in view.replace("onerror=alert(1)&gt;", ""))
        status, _, body = http_get(web_port, f"/messages/{n1}")
        check("a URL in the text part is a link",
              'href="http://127.0.0.1:8080/verify?token=abc&amp;x=1"' in body.decode(),
              body.decode()[-1500:])

        for path in ("/nope", "/messages/", f"/messages/{n1}.json", "/messages/../../etc/passwd",
                     "/messages/..%2F..%2Fetc%2Fpasswd", f"/messages/{n1}/../{n1}",
                     "/messages/20990101T000000.000000-1", f"/messages/.{n1}.eml",
                     "/api/messages/x", "/../etc/passwd"):
            status, _, body = http_get(web_port, path)
            check(f"GET {path} is 404", status == 404, f"{status} {body[:100]!r}")
        status, _, _ = http_get(web_port, "/api/messages", host="evil.example:80")
        check("a foreign Host header is refused (403)", status == 403, str(status))
        status, _, _ = http_get(web_port, "/api/messages", host=f"localhost:{web_port}")
        check("Host localhost is served", status == 200, str(status))

        # --- hold file: 421 then accepted ----------------------------------------------------
        open(hold, "w").close()
        code = None
        try:
            send(smtp_port, ["held@example.com"], one)
        except smtplib.SMTPSenderRefused as e:
            code = e.smtp_code
        except smtplib.SMTPException as e:
            code = repr(e)
        check("while the hold file exists, MAIL FROM gets 421", code == 421, repr(code))
        # The server closes the connection after 421, as RFC 5321 says.
        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as s:
            s.ehlo()
            c, msg = s.mail("no-reply@restinu.local")
            closed = False
            try:
                s.sock.settimeout(5)
                closed = s.sock.recv(1) == b""
            except OSError:
                closed = True
            check("421 reply text and the connection closed after it",
                  c == 421 and b"4.3.2 Service not available, try later" in msg and closed,
                  f"{c} {msg!r} closed={closed}")
            s.sock = None  # already closed by the server
        check("nothing stored while held", len(eml_names(mail)) == 2, repr(eml_names(mail)))
        os.unlink(hold)
        refused = send(smtp_port, ["held@example.com"], one)
        names = eml_names(mail)
        check("once the hold file is gone, the retry is accepted",
              refused == {} and len(names) == 3 and names[-1] not in (n1, n2), repr(names))

        # --- --fail-rcpt: 550 ----------------------------------------------------------------
        err = None
        try:
            send(smtp_port, ["x-bounce@example.com"], one)
        except smtplib.SMTPRecipientsRefused as e:
            err = e.recipients
        check("a refused recipient gets 550 5.1.1",
              err is not None and err.get("x-bounce@example.com", (0, b""))[0] == 550
              and b"5.1.1 mailbox unavailable" in err["x-bounce@example.com"][1], repr(err))
        refused = send(smtp_port, ["ok@example.com", "someone@gone.invalid"], one)
        check("a second --fail-rcpt applies; the others still get the message",
              list(refused) == ["someone@gone.invalid"]
              and refused["someone@gone.invalid"][0] == 550,
              repr(refused))
        names = eml_names(mail)
        with open(os.path.join(mail, names[-1] + ".json")) as f:
            meta = json.load(f)
        check("only the accepted recipient is in the sidecar",
              len(names) == 4 and meta.get("rcpt_tos") == ["ok@example.com"], repr(meta))

        # --- several messages on one connection, in order -------------------------------------
        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as s:
            for i in range(5):
                s.sendmail("a@example.com", [f"n{i}@example.com"], b"Subject: n%d\r\n\r\nx\r\n" % i)
        names = eml_names(mail)
        order = []
        for n in names[-5:]:
            with open(os.path.join(mail, n + ".json")) as f:
                order.append(json.load(f)["rcpt_tos"][0])
        check("five on one connection, sorted by arrival",
              order == [f"n{i}@example.com" for i in range(5)], repr(order))

        # --- stop: fast, with connections open -----------------------------------------------
        idle = smtplib.SMTP("127.0.0.1", smtp_port, timeout=10)
        idle.ehlo()
        half = socket.create_connection(("127.0.0.1", web_port))
        half.sendall(b"GET / HTTP/1.1\r\n")
        time.sleep(0.1)
        rc, took = sink.stop(signal.SIGTERM)
        check("SIGTERM with connections open: exit 0 within 1 s", rc == 0 and took < 1,
              f"rc={rc} took={took:.2f}s")
        check("last log line says stopped", sink.lines[-1:] == ["mailsink: stopped"], sink.log())
        idle.close()
        half.close()

        # --- restart on the same port: SIGINT, and order kept --------------------------------
        sink = Sink(["--smtp-port", str(smtp_port), "--dir", mail])
        line = sink.started()
        check("restart on the same port at once, without a web page",
              line == f"mailsink: SMTP on 127.0.0.1:{smtp_port}, messages in {mail}", repr(line))
        before = eml_names(mail)
        send(smtp_port, ["after@example.com"], one)
        after = eml_names(mail)
        check("a message after the restart sorts last", len(after) == len(before) + 1
              and after[:-1] == before, repr(after[-3:]))
        rc, took = sink.stop(signal.SIGINT)
        check("SIGINT: exit 0 within 1 s", rc == 0 and took < 1, f"rc={rc} took={took:.2f}s")

        # A port in use: a clear error, exit 1.
        blocker = socket.socket()
        blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        blocker.bind(("127.0.0.1", smtp_port))
        blocker.listen()
        r = subprocess.run(["/usr/bin/python3", SINK, "--smtp-port", str(smtp_port), "--dir", mail],
                           capture_output=True, text=True, timeout=30)
        blocker.close()
        check("a port in use: exit 1 with a message",
              r.returncode == 1 and "cannot listen" in r.stderr, f"{r.returncode} {r.stderr}")
    except Exception as e:  # noqa: BLE001 - any error is a failure of this test
        import traceback
        traceback.print_exc()
        check("the test ran to the end", False, repr(e))
    finally:
        if sink is not None:
            sink.stop(signal.SIGKILL)
            if failures:
                print(f"--- mailsink output ---\n{sink.log()}")
        shutil.rmtree(work, ignore_errors=True)
    print(f"{failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
