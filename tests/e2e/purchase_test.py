#!/usr/bin/python3
"""The purchase saga end to end: the real user, property, payment, sandbox provider and gateway
processes on the PostgreSQL and Redis of `make test`, driven through the gateway as clients.

Checks: the happy path (offer → accept → completed; the listing sold to the buyer; the agreement
PDF's text read back with pdftotext and its SHA-256 as recorded); each failure (KYC withdrawn,
card declined, provider 500, provider timeout, capture 500, property service down, two buyers
accepted for one listing) ends compensated; the payment process SIGKILLed before and after every
step and every compensation and restarted ends every purchase completed or compensated, never
charged or sold twice; webhooks with a bad signature, an old timestamp or a replayed id change
nothing, and the sandbox's redelivery of every webhook twice and out of order changes nothing;
an operator compensating a stuck purchase (`restinu purchase compensate|retry|show|list`); an
offer that lapses; a seeded randomised run of 500 purchases over 100 listings with 10% injected
faults; after each part the ledger balances and `restinu payment reconcile` finds no difference.
Run by `make test` (ctest label e2e): purchase_test.py path/to/restinu
"""
import hashlib
import hmac
import http.client
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stack import People, write_gateway_config  # noqa: E402

failures = 0


def check(what, ok, info=""):
    global failures
    if ok:
        print(f"ok   - {what}", flush=True)
    else:
        failures += 1
        print(f"FAIL - {what} {info}", flush=True)


def free_port(root):
    return int(subprocess.check_output(["bash", "-c", f"source {root}/scripts/lib.sh; free_port"]))


class Client:
    def __init__(self, port):
        self.port = port
        self.local = threading.local()

    def req(self, method, path, body=None, token=None, headers=None, raw=False):
        """(status, headers, parsed JSON or bytes)."""
        h = dict(headers or {})
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        if token:
            h["Authorization"] = "Bearer " + token
        for attempt in range(3):
            try:
                c = getattr(self.local, "c", None)
                if c is None:
                    c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                    self.local.c = c
                c.request(method, path, body=data, headers=h)
                r = c.getresponse()
                payload = r.read()
                hdrs = {k.lower(): v for k, v in r.getheaders()}
                if raw or not payload:
                    return r.status, hdrs, payload
                try:
                    return r.status, hdrs, json.loads(payload)
                except ValueError:
                    return r.status, hdrs, payload
            except (http.client.HTTPException, ConnectionError, OSError):
                self.local.c = None
                if attempt == 2:
                    raise
                time.sleep(0.2)


def wait_ready(port, tries=200):
    for _ in range(tries):
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/readyz")
            if c.getresponse().status == 200:
                return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


def wait_for(fn, timeout=60, interval=0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(interval)
    return fn()


def main():
    binary = sys.argv[1]
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    pg_port = os.environ["RESTINU_TEST_PG_PORT"]
    pg = f"host=127.0.0.1 port={pg_port} user=postgres"
    work = tempfile.mkdtemp(prefix="restinu-purchase-e2e.")
    procs = {}
    env = dict(os.environ)
    env.update({
        "RESTINU_PG__URL": pg,
        "RESTINU_REDIS__PORT": os.environ["RESTINU_TEST_REDIS_PORT"],
        "RESTINU_HTTP__THREADS": "1", "RESTINU_WORKERS__THREADS": "1",
        "RESTINU_KYC__ENCRYPTION_KEY": env.get("RESTINU_KYC__ENCRYPTION_KEY") or
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        "RESTINU_AUTH__KEY_ENCRYPTION_KEY": env.get("RESTINU_AUTH__KEY_ENCRYPTION_KEY") or
        "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=",
        "RESTINU_ACCESS_LOG": "false",
    })
    ports = {n: free_port(root) for n in ("user", "property", "payment", "sandbox", "gateway")}
    webhook_secret = "whsec_e2e_" + os.urandom(8).hex()
    provider_key = "sk_test_e2e_" + os.urandom(8).hex()
    payment_env = {
        "RESTINU_PAYMENT__PROVIDER__URL": f"http://127.0.0.1:{ports['sandbox']}",
        "RESTINU_PAYMENT__PROVIDER__SECRET_KEY": provider_key,
        "RESTINU_PAYMENT__PROVIDER__WEBHOOK_SECRET": webhook_secret,
        "RESTINU_PAYMENT__PROVIDER__TIMEOUT": "800ms",
        "RESTINU_PAYMENT__PROVIDER__SEARCH_LAG": "0s",  # the sandbox's search is up to date
        "RESTINU_PAYMENT__PROPERTY_URLS": f"http://127.0.0.1:{ports['property']}",
        "RESTINU_PAYMENT__PROPERTY_TIMEOUT": "1500ms",
        "RESTINU_PAYMENT__SAGA__MAX_ATTEMPTS": "3",
        "RESTINU_PAYMENT__SAGA__BACKOFF_BASE": "50ms",
        "RESTINU_PAYMENT__SAGA__BACKOFF_MAX": "400ms",
        "RESTINU_PAYMENT__SAGA__LEASE": "2s",
        "RESTINU_PAYMENT__SAGA__POLL": "50ms",
    }

    def start(name, service, extra=None, args=()):
        e = dict(env)
        e.update({"RESTINU_HTTP__PORT": str(ports[name]), "RESTINU_INSTANCE": name})
        e.update(extra or {})
        with open(os.path.join(work, name + ".log"), "ab") as log:
            procs[name] = subprocess.Popen([binary, service, *args], env=e, stdout=log, stderr=log)

    def stop(name):
        p = procs.pop(name, None)
        if p and p.poll() is None:
            p.terminate()
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def start_payment(crash_at=""):
        extra = dict(payment_env)
        if crash_at:
            extra["RESTINU_PAYMENT__SAGA__CRASH_AT"] = crash_at
        start("payment", "payment", extra)
        return wait_ready(ports["payment"])

    def psql(db, sql):
        return subprocess.run(["psql", f"{pg} dbname={db}", "-qAtc", sql], check=True,
                              capture_output=True, text=True).stdout.strip()

    def reconcile():
        e = dict(env)
        e.update(payment_env)
        return subprocess.run([binary, "payment", "reconcile"], env=e, capture_output=True,
                              text=True, timeout=120)

    def cli(*args):
        e = dict(env)
        e.update(payment_env)
        return subprocess.run([binary, *args], env=e, capture_output=True, text=True, timeout=60)

    def ledger_balanced():
        unbalanced_entries = psql("payments_db",
                                  "SELECT count(*) FROM (SELECT entry_id FROM postings GROUP BY "
                                  "entry_id, currency HAVING sum(amount) <> 0) x")
        total = psql("payments_db", "SELECT coalesce(sum(amount), 0) FROM postings")
        return unbalanced_entries == "0" and total == "0"

    try:
        subprocess.run([binary, "migrate", "all", "--create-database"], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # Offers of earlier runs on the shared databases are no business of this one.
        psql("payments_db", "TRUNCATE purchase_steps, purchases, offers, postings, journal_entries, "
                            "ledger_accounts, payment_intents, idempotency_keys, provider_events")
        start("sandbox", "sandbox", {
            "RESTINU_SANDBOX__SECRET_KEY": provider_key,
            "RESTINU_SANDBOX__WEBHOOK_SECRET": webhook_secret,
            "RESTINU_SANDBOX__WEBHOOK_URL":
                f"http://127.0.0.1:{ports['gateway']}/api/v1/payments/webhooks/provider",
            "RESTINU_SANDBOX__SLOW_DELAY": "2500ms",
        })
        start("user", "user")
        start("property", "property")
        check("the payment service becomes ready", start_payment())
        for n in ("sandbox", "user", "property"):
            check(f"{n} becomes ready", wait_ready(ports[n]))
        config = os.path.join(work, "gateway.yaml")
        write_gateway_config(config, {"user": ports["user"], "property": ports["property"],
                                      "payment": ports["payment"], "notification": ports["payment"],
                                      "blockchain": ports["payment"]})
        start("gateway", "gateway", {}, ["--config", config])
        check("the gateway becomes ready", wait_ready(ports["gateway"]))
        gw = Client(ports["gateway"])
        sandbox = Client(ports["sandbox"])
        sandbox_auth = {"Authorization": "Bearer " + provider_key}

        # --- people ---------------------------------------------------------------------------
        people = People(gw, binary, env, "a purchase e2e passphrase")
        login, register, run_id = people.login, people.register, people.run_id
        admin = people.admin()

        def approve_kyc(who):
            people.approve_kyc(who, admin)

        agent = register("agent")
        st, _, _ = gw.req("PATCH", f"/api/v1/admin/users/{agent['id']}", {"role": "agent"},
                          token=admin["token"])
        check("the admin makes an agent", st == 200)
        agent["token"] = login(agent["email"])
        buyers = [register(f"buyer{i}") for i in range(12)]
        for b in buyers:
            approve_kyc(b)
        unverified = register("unverified")

        def new_listing(price=850_000_000, title="2 BHK in Koramangala"):
            body = {
                "title": title, "description": "Close to the park.", "property_type": "apartment",
                "status": "active", "price": {"amount": price, "currency": "INR"},
                "bedrooms": 2, "bathrooms": 2, "area_sqft": 1100,
                "address": {"line": "4 Park Street", "locality": "Koramangala", "city": "Bengaluru",
                            "state": "Karnataka", "postal_code": "560034", "country": "IN"},
                "location": {"lat": 12.9352, "lng": 77.6245},
            }
            result = {}

            def attempt():
                st, _, b = gw.req("POST", "/api/v1/properties", body, token=agent["token"])
                if st == 201:
                    result.update(b)
                    return True
                return False
            wait_for(attempt, 30, 0.2)  # the agent's role reaches the property service by event
            return result

        def offer(buyer, listing, method="pm_card_visa", price=None):
            body = {"listing_id": listing["id"], "payment_method": method,
                    "price": {"amount": price or listing["price"]["amount"], "currency": "INR"}}
            out = {}

            def attempt():
                st, _, b = gw.req("POST", "/api/v1/offers", body, token=buyer["token"])
                out["status"], out["body"] = st, b
                # The listing reaches the payment service by event; a payment process just
                # restarted may not be back in the gateway's rotation yet.
                return st not in (404, 502, 503)
            wait_for(attempt, 30, 0.1)
            return out["status"], out["body"]

        def accept(offer_id):
            return gw.req("POST", f"/api/v1/offers/{offer_id}/accept", {}, token=agent["token"])

        def purchase(pid, token=None):
            return gw.req("GET", f"/api/v1/purchases/{pid}", token=token or admin["token"])[2]

        def wait_ended(pid, timeout=90):
            def ended():
                p = purchase(pid)
                return p if isinstance(p, dict) and p.get("state") in ("completed", "failed") else None
            return wait_for(ended, timeout, 0.1) or purchase(pid)

        def listing_now(lid):
            return psql("properties_db",
                        f"SELECT status || ' ' || owner_id FROM properties WHERE id = '{lid}'")

        def provider_intents(pid):
            st, _, body = sandbox.req(
                "GET", "/v1/payment_intents?limit=100", headers=sandbox_auth)
            out = []
            more = True
            after = ""
            while more:
                st, _, body = sandbox.req(
                    "GET", "/v1/payment_intents?limit=100" + (f"&starting_after={after}" if after else ""),
                    headers=sandbox_auth)
                out += [i for i in body["data"] if i["metadata"].get("purchase_id") == pid]
                more = body["has_more"]
                after = body["data"][-1]["id"] if body["data"] else ""
            return out

        def buy(buyer, method="pm_card_visa"):
            listing = new_listing()
            st, body = offer(buyer, listing, method)
            assert st == 201, (st, body)
            st, _, acc = accept(body["id"])
            if st != 201:
                # A process killed on purpose may die before its answer leaves: the database
                # knows whether the offer was accepted.
                acc = {"purchase_id": psql("payments_db", "SELECT coalesce(purchase_id::text, '') "
                                                          f"FROM offers WHERE id = '{body['id']}'")}
                assert acc["purchase_id"], (st, acc)
            return listing, acc["purchase_id"]

        # --- the happy path -------------------------------------------------------------------
        buyer = buyers[0]
        listing = new_listing(price=850_000_050, title="3 BHK with a garden")
        st, made = offer(unverified, listing)
        check("an offer without approved KYC is 403 kyc-required",
              st == 403 and made.get("type", "").endswith("/kyc-required"), made)
        st, _, bad = gw.req("POST", "/api/v1/offers",
                            {"listing_id": "x", "price": {"amount": -1, "currency": "RUPEES"},
                             "extra": 1}, token=buyer["token"])
        named = {e["field"] for e in bad.get("errors", [])} if isinstance(bad, dict) else set()
        check("a malformed offer is 422 naming every bad field",
              st == 422 and named == {"listing_id", "price.amount", "price.currency",
                                      "payment_method", "extra"}, bad)
        st, _, bad = gw.req("POST", "/api/v1/offers", b"{not json", token=buyer["token"],
                            headers={"Content-Type": "application/json"})
        check("an offer that is not JSON is 400 malformed-json",
              st == 400 and bad.get("type", "").endswith("/malformed-json"), bad)
        st, _, _ = gw.req("POST", "/api/v1/offers", b"{" + b" " * (2 << 20) + b"}",
                          token=buyer["token"], headers={"Content-Type": "application/json"})
        check("a 2 MiB offer is refused (413) without reaching the database", st == 413, st)
        check("and none of them left an offer behind",
              psql("payments_db", f"SELECT count(*) FROM offers WHERE buyer_id = '{buyer['id']}'") == "0")
        st, made = offer(buyer, listing, price=None)
        check("a KYC-approved buyer makes an offer (201, pending)",
              st == 201 and made["status"] == "pending", made)
        st, _, body = gw.req("GET", f"/api/v1/offers/{made['id']}", token=buyers[1]["token"])
        check("another buyer cannot see the offer (404)", st == 404)
        st, _, body = gw.req("POST", f"/api/v1/offers/{made['id']}/accept", {}, token=buyer["token"])
        check("the buyer cannot accept their own offer (403)", st == 403, body)
        st, _, acc = accept(made["id"])
        check("the listing's agent accepts: 201 with the purchase", st == 201 and acc.get("purchase_id"), acc)
        pid = acc["purchase_id"]
        st, _, again = accept(made["id"])
        check("accepting twice is 409 offer-not-pending",
              st == 409 and again.get("type", "").endswith("/offer-not-pending"), again)
        p = wait_ended(pid)
        check("the purchase completes", p.get("state") == "completed", p)
        check("with every step succeeded, in order",
              [s["step"] for s in p.get("steps", [])] == ["reserve", "kyc", "authorise", "agreement",
                                                          "transfer_title", "transfer_deed",
                                                          "capture", "mark_sold"]
              and all(s["status"] == "succeeded" for s in p["steps"]), p.get("steps"))
        check("the listing is sold to the buyer", listing_now(listing["id"]) == f"sold {buyer['id']}",
              listing_now(listing["id"]))
        st, _, other = gw.req("GET", f"/api/v1/purchases/{pid}", token=buyers[1]["token"])
        check("another user cannot read the purchase (404)", st == 404)
        st, hdrs, pdf = gw.req("GET", f"/api/v1/purchases/{pid}/agreement.pdf", token=buyer["token"],
                               raw=True)
        check("the buyer downloads the agreement PDF",
              st == 200 and hdrs.get("content-type") == "application/pdf" and pdf[:5] == b"%PDF-", st)
        check("its SHA-256 is the one the purchase records",
              hashlib.sha256(pdf).hexdigest() == p.get("agreement", {}).get("sha256"))
        pdf_path = os.path.join(work, "agreement.pdf")
        with open(pdf_path, "wb") as f:
            f.write(pdf)
        text = subprocess.run(["pdftotext", "-layout", pdf_path, "-"], capture_output=True,
                              text=True).stdout
        flat = " ".join(text.split())
        check("the agreement names the parties, the property and the price in figures and words",
              buyer["id"] in flat and agent["id"] in flat and "3 BHK with a garden" in flat
              and "INR 85,00,000.50" in flat
              and "Eighty Five Lakh Rupees and Fifty Paise Only" in flat, flat[:600])
        # The date is the UTC day the agreement step ran (YYYY-MM-DD): today's, or yesterday's
        # if midnight UTC passed since.
        days = {time.strftime("%Y-%m-%d", time.gmtime(time.time() - lag)) for lag in (0, 600)}
        check("the agreement is dated today (UTC, YYYY-MM-DD)",
              any(f"Purchase {pid}, made on {d}." in flat for d in days), (days, flat[:300]))
        intents = provider_intents(pid)
        check("the provider charged exactly once, the price",
              len(intents) == 1 and intents[0]["status"] == "succeeded"
              and intents[0]["amount_received"] == 850_000_050, intents)
        check("the ledger balances", ledger_balanced())
        fee = 850_000_050 // 100
        seller_balance = psql("payments_db", f"SELECT sum(amount) FROM postings "
                                             f"WHERE account_id = 'seller_payable:{agent['id']}'")
        check("the seller is owed the price less the 1% fee",
              seller_balance == str(-(850_000_050 - fee)), seller_balance)
        wait_for(lambda: psql("payments_db", "SELECT count(*) FROM provider_events") != "0", 10)
        check("the provider's webhooks arrived through the gateway",
              wait_for(lambda: psql("payments_db", "SELECT provider_status FROM payment_intents "
                                                   f"WHERE purchase_id = '{pid}'") == "succeeded", 10))
        r = reconcile()
        check("reconcile finds no difference", r.returncode == 0, r.stdout + r.stderr)

        # --- webhooks -------------------------------------------------------------------------
        def send_webhook(payload, t=None, secret=webhook_secret):
            t = int(time.time()) if t is None else t
            sig = hmac.new(secret.encode(), f"{t}.{payload}".encode(), hashlib.sha256).hexdigest()
            return gw.req("POST", "/api/v1/payments/webhooks/provider", payload.encode(),
                          headers={"Stripe-Signature": f"t={t},v1={sig}",
                                   "Content-Type": "application/json"})
        events_before = psql("payments_db", "SELECT count(*) FROM provider_events")
        status_before = psql("payments_db", "SELECT provider_status FROM payment_intents "
                                            f"WHERE purchase_id = '{pid}'")
        forged = json.dumps({"id": "evt_forged_" + run_id, "type": "payment_intent.canceled",
                             "created": int(time.time()) + 5,
                             "data": {"object": {"id": intents[0]["id"], "status": "canceled"}}})
        st, _, body = send_webhook(forged, secret="whsec_wrong")
        check("a webhook with a bad signature is 400 invalid-webhook",
              st == 400 and body.get("type", "").endswith("/invalid-webhook"), body)
        st, _, body = send_webhook(forged, t=int(time.time()) - 3600)
        check("a webhook signed an hour ago is 400", st == 400, body)
        existing = psql("payments_db", "SELECT id FROM provider_events LIMIT 1")
        replay = json.dumps({"id": existing, "type": "payment_intent.canceled",
                             "created": int(time.time()) + 5,
                             "data": {"object": {"id": intents[0]["id"], "status": "canceled"}}})
        st, _, body = send_webhook(replay)
        check("a replayed event id is acknowledged as a duplicate", st == 200 and body.get("duplicate"), body)
        st, _, body = sandbox.req("POST", "/sandbox/redeliver", b"", headers=sandbox_auth)
        check("the sandbox redelivers every webhook, newest first", st == 200 and body["redelivered"] > 0)
        time.sleep(1.5)
        check("and none of it changed anything",
              psql("payments_db", "SELECT count(*) FROM provider_events") == events_before
              and psql("payments_db", "SELECT provider_status FROM payment_intents "
                                      f"WHERE purchase_id = '{pid}'") == status_before,
              psql("payments_db", "SELECT count(*) FROM provider_events") + " vs " + events_before)

        # --- failures end compensated ----------------------------------------------------------
        def compensated(name, p, listing, reason_has, charged=0):
            check(f"{name}: the purchase is compensated", p.get("state") == "failed", p)
            check(f"{name}: with the reason", reason_has in p.get("failure_reason", ""),
                  p.get("failure_reason"))
            check(f"{name}: the listing is active again, its owner unchanged",
                  listing_now(listing["id"]) == f"active {agent['id']}", listing_now(listing["id"]))
            held = [i for i in provider_intents(p["id"]) if i["status"] in ("requires_capture", "succeeded")
                    and i["amount_received"] - i["latest_charge"]["amount_refunded"] > 0]
            check(f"{name}: nothing is held or kept at the provider", not held, held)
            check(f"{name}: the ledger balances", ledger_balanced())

        listing, pid = buy(buyers[1], "pm_card_chargeDeclined")
        compensated("card declined", wait_ended(pid), listing, "declined")
        listing, pid = buy(buyers[2], "pm_sandbox_error_500")
        compensated("provider 500", wait_ended(pid), listing, "authorise did not succeed after 3")
        listing, pid = buy(buyers[3], "pm_sandbox_timeout")
        p = wait_ended(pid)
        compensated("provider timeout", p, listing, "authorise did not succeed")
        check("provider timeout: the hold the provider made anyway was found and cancelled",
              [i["status"] for i in provider_intents(pid)] == ["canceled"], provider_intents(pid))
        listing, pid = buy(buyers[4], "pm_sandbox_capture_500")
        p = wait_ended(pid)
        compensated("capture 500", p, listing, "capture did not succeed")
        check("capture 500: the title went back and every step before was compensated",
              [s["status"] for s in p["steps"]] == ["compensated"] * 6 + ["failed"], p["steps"])
        # KYC withdrawn between the offer and the purchase (a later rejection).
        listing = new_listing()
        st, made = offer(buyers[5], listing)
        psql("payments_db", f"UPDATE kyc_view SET status = 'rejected' WHERE user_id = '{buyers[5]['id']}'")
        st, _, acc = accept(made["id"])
        compensated("KYC not approved", wait_ended(acc["purchase_id"]), listing, "KYC is not approved")
        psql("payments_db", f"UPDATE kyc_view SET status = 'approved' WHERE user_id = '{buyers[5]['id']}'")
        # The property service down: the reservation is retried, then compensated.
        listing = new_listing()
        st, made = offer(buyers[6], listing)
        stop("property")
        st, _, acc = accept(made["id"])
        pid = acc["purchase_id"]
        # Between two failed reservation attempts (lease free, waiting for its backoff), push its
        # next attempt an hour out, as a long backoff would; `restinu purchase retry` must then
        # make it due now, or it never reaches compensation below.
        held = psql("payments_db", f"""
            DO $$
            DECLARE n int; deadline timestamptz := clock_timestamp() + interval '20 seconds';
            BEGIN
              LOOP
                UPDATE purchases SET next_attempt_at = now() + interval '1 hour'
                 WHERE id = '{pid}' AND state = 'running' AND step = 'reserve' AND attempts >= 1
                   AND lease_owner IS NULL AND lease_until IS NULL;
                GET DIAGNOSTICS n = ROW_COUNT;
                EXIT WHEN n = 1 OR clock_timestamp() > deadline OR NOT EXISTS
                  (SELECT 1 FROM purchases WHERE id = '{pid}' AND state = 'running');
                PERFORM pg_sleep(0.002);
              END LOOP;
            END $$;
            SELECT state || ' ' || coalesce(step, '-') || ' '
                   || (attempts >= 1 AND next_attempt_at > now() + interval '30 minutes')
              FROM purchases WHERE id = '{pid}'""")
        check("property service down: the purchase is waiting to retry its reservation",
              held == "running reserve true", held)
        r = cli("purchase", "retry", pid)
        check("restinu purchase retry makes a purchase retrying its reservation due now (exit 0)",
              r.returncode == 0 and f"{pid}: due now" in r.stdout, r.stdout + r.stderr)
        check("and the saga takes it up again at once, on to compensation",
              wait_for(lambda: purchase(pid).get("state") in ("compensating", "failed"), 30),
              purchase(pid))
        start("property", "property")
        wait_ready(ports["property"])
        compensated("property service down", wait_ended(pid), listing, "reserve did not succeed after 3")
        # Two buyers accepted for one listing: one completes, the other is compensated.
        listing = new_listing()
        _, first = offer(buyers[7], listing)
        _, second = offer(buyers[8], listing)
        results = {}

        def accept_into(key, oid):
            results[key] = accept(oid)[2]
        threads = [threading.Thread(target=accept_into, args=(k, o["id"]))
                   for k, o in (("a", first), ("b", second))]
        [t.start() for t in threads]
        [t.join() for t in threads]
        ends = [wait_ended(results[k]["purchase_id"]) for k in ("a", "b")]
        states = sorted(e["state"] for e in ends)
        check("two buyers accepted for one listing: exactly one completes", states == ["completed", "failed"],
              states)
        loser = [e for e in ends if e["state"] == "failed"][0]
        winner = [e for e in ends if e["state"] == "completed"][0]
        check("the other is compensated with a clear reason",
              "reserve: the listing is reserved by another purchase" in loser.get("failure_reason", "")
              or "reserve: the listing is sold" in loser.get("failure_reason", ""), loser.get("failure_reason"))
        check("the listing is sold to the winner", listing_now(listing["id"]) == f"sold {winner['buyer_id']}")
        r = reconcile()
        check("after the failures, reconcile finds no difference", r.returncode == 0, r.stdout + r.stderr)

        # --- crash at every step ----------------------------------------------------------------
        steps = ["reserve", "kyc", "authorise", "agreement", "transfer_title", "transfer_deed",
                 "capture", "mark_sold"]
        points = [(f"{w}:{s}", "pm_card_visa", "completed") for s in steps for w in ("before", "after")]
        points += [(f"{w}:compensate:{s}", "pm_sandbox_capture_500", "failed")
                   for s in ("capture", "transfer_title", "authorise", "reserve") for w in ("before", "after")]
        for point, method, want in points:
            b = buyers[random.randrange(len(buyers))]
            stop("payment")
            start_payment(point)
            listing, pid = buy(b, method)
            died = wait_for(lambda: procs["payment"].poll() is not None, 60)
            procs.pop("payment", None)
            check(f"crash {point}: the payment process was killed there", died and died is not None)
            if point == "after:reserve":
                st, _, body = gw.req("PATCH", f"/api/v1/properties/{listing['id']}",
                                     {"status": "active"}, token=agent["token"],
                                     headers={"If-Match": "*"})
                check("a listing a purchase holds cannot change status by an edit (409)",
                      st == 409 and body.get("type", "").endswith("/listing-unavailable"), body)
            start_payment()
            p = wait_ended(pid)
            intents = provider_intents(pid)
            captured = sum(i["amount_received"] for i in intents)
            refunded = sum(i["latest_charge"]["amount_refunded"] for i in intents)
            sold = psql("payments_db", f"SELECT count(*) FROM purchases WHERE listing_id = "
                                       f"'{listing['id']}' AND state = 'completed'")
            if want == "completed":
                ok = (p.get("state") == "completed" and len(intents) == 1 and captured == p["price"]["amount"]
                      and refunded == 0 and sold == "1"
                      and listing_now(listing["id"]) == f"sold {b['id']}")
            else:
                ok = (p.get("state") == "failed" and len(intents) == 1 and captured == refunded
                      and sold == "0" and listing_now(listing["id"]) == f"active {agent['id']}")
            check(f"crash {point}: after a restart the purchase is {want}, charged once at most",
                  ok, (p.get("state"), p.get("failure_reason"), intents, sold))
        check("after every crash the ledger balances", ledger_balanced())
        r = reconcile()
        check("after every crash, reconcile finds no difference", r.returncode == 0, r.stdout + r.stderr)

        # --- operators and offers that lapse ---------------------------------------------------
        # A purchase stuck where its orchestrator died, compensated by an operator meanwhile.
        stop("payment")
        start_payment("before:authorise")
        listing, pid = buy(buyers[9])
        wait_for(lambda: procs["payment"].poll() is not None, 60)
        procs.pop("payment", None)
        r = cli("purchase", "compensate", pid, "--reason", "stopped by an operator")
        check("restinu purchase compensate leaves a purchase alone while its lease is held",
              r.returncode == 1 and "unchanged" in r.stdout, r.stdout + r.stderr)
        result = {}

        def compensate():
            result["r"] = cli("purchase", "compensate", pid, "--reason", "stopped by an operator")
            return result["r"].returncode == 0
        wait_for(compensate, 15, 0.5)  # once the dead orchestrator's lease (2 s) has ended
        r = result["r"]
        check("and then turns it to compensation",
              r.returncode == 0 and "compensating" in r.stdout, r.stdout + r.stderr)
        start_payment()
        p = wait_ended(pid)
        check("and it ends compensated with the operator's reason",
              p.get("state") == "failed" and p.get("failure_reason") == "stopped by an operator"
              and listing_now(listing["id"]) == f"active {agent['id']}", p)
        r = cli("purchase", "retry", pid)
        check("restinu purchase retry leaves an ended purchase alone (exit 1)",
              r.returncode == 1 and "unchanged" in r.stdout, r.stdout + r.stderr)
        r = cli("purchase", "show", pid)
        check("restinu purchase show prints its steps",
              r.returncode == 0 and pid in r.stdout and "reserve" in r.stdout, r.stdout + r.stderr)
        r = cli("purchase", "list", "--state", "failed")
        check("restinu purchase list --state failed lists it", r.returncode == 0 and pid in r.stdout)
        r = cli("purchase", "frobnicate", pid)
        check("an unknown purchase command is a usage error (exit 2)", r.returncode == 2, r.stderr)
        # An offer not accepted before it expires lapses (its expiry moved into the past).
        listing = new_listing()
        st, made = offer(buyers[10], listing)
        psql("payments_db", f"UPDATE offers SET expires_at = now() - interval '1 second' "
                            f"WHERE id = '{made['id']}'")
        lapsed = wait_for(lambda: psql("payments_db", "SELECT status FROM offers WHERE id = "
                                                      f"'{made['id']}'") == "lapsed", 10)
        check("an offer past its expiry lapses", lapsed)
        st, _, body = accept(made["id"])
        check("and accepting it is 409 offer-not-pending",
              st == 409 and body.get("type", "").endswith("/offer-not-pending"), body)
        check("with an offer.lapsed event",
              psql("payments_db", "SELECT count(*) FROM restinu_outbox WHERE type = 'offer.lapsed' "
                                  f"AND aggregate_id = '{made['id']}'") == "1")
        # An offer the listing's owner rejects is decided: it can no longer be accepted.
        listing = new_listing()
        st, made = offer(buyers[11], listing)
        reject_path = f"/api/v1/offers/{made['id']}/reject"
        st, _, body = gw.req("POST", reject_path, {}, token=buyers[10]["token"])
        check("another buyer cannot reject someone's offer (404: not theirs to see)", st == 404,
              (st, body))
        st, _, body = gw.req("POST", reject_path, {}, token=buyers[11]["token"])
        check("the buyer cannot reject their own offer (403)", st == 403, (st, body))
        st, _, body = gw.req("POST", reject_path, {}, token=agent["token"])
        check("the listing's owner rejects an offer: 200, rejected",
              st == 200 and body.get("status") == "rejected" and body.get("id") == made["id"],
              (st, body))
        st, _, body = accept(made["id"])
        check("and accepting it then is 409 offer-not-pending",
              st == 409 and body.get("type", "").endswith("/offer-not-pending"), (st, body))
        check("and no purchase was made of it",
              psql("payments_db", f"SELECT count(*) FROM purchases WHERE offer_id = '{made['id']}'")
              == "0")

        # --- a randomised run: 500 purchases over 100 listings, 10% faults (seed 17) ----------
        rng = random.Random(17)
        listings = [new_listing(price=rng.randrange(10_000_000, 900_000_000)) for _ in range(100)]
        faults = ["pm_card_chargeDeclined", "pm_sandbox_error_500", "pm_sandbox_timeout",
                  "pm_sandbox_capture_500", "pm_sandbox_slow"]
        made_offers = []
        for i in range(500):
            lst = listings[rng.randrange(len(listings))]
            method = rng.choice(faults) if rng.random() < 0.10 else "pm_card_visa"
            st, body = offer(buyers[rng.randrange(len(buyers))], lst, method)
            if st == 201:
                made_offers.append(body["id"])
        check("500 offers made", len(made_offers) == 500, len(made_offers))
        started = time.time()
        pids = []
        lock = threading.Lock()
        queue = list(made_offers)

        def acceptor():
            while True:
                with lock:
                    if not queue:
                        return
                    oid = queue.pop()
                st, _, body = accept(oid)
                if st == 201:
                    with lock:
                        pids.append(body["purchase_id"])
        threads = [threading.Thread(target=acceptor) for _ in range(8)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        check("all 500 accepted concurrently", len(pids) == 500, len(pids))
        done = wait_for(lambda: psql("payments_db", "SELECT count(*) FROM purchases WHERE state IN "
                                                    "('running', 'compensating')") == "0", 300, 0.5)
        elapsed = time.time() - started
        check(f"every purchase ended ({elapsed:.1f} s)", done)
        per_listing = psql("payments_db",
                           "SELECT count(*) FROM (SELECT listing_id FROM purchases WHERE state = "
                           "'completed' GROUP BY listing_id HAVING count(*) > 1) x")
        check("no listing has two completed purchases", per_listing == "0", per_listing)
        mismatched = 0
        ids = ",".join(f"'{l['id']}'" for l in listings)
        owners = dict(line.split("|") for line in psql(
            "properties_db", f"SELECT id || '|' || status || ' ' || owner_id FROM properties "
                             f"WHERE id IN ({ids})").splitlines())
        winners = dict(line.split("|") for line in psql(
            "payments_db", f"SELECT listing_id || '|' || buyer_id FROM purchases WHERE state = "
                           f"'completed' AND listing_id IN ({ids})").splitlines() if line)
        for l in listings:
            want = f"sold {winners[l['id']]}" if l["id"] in winners else f"active {agent['id']}"
            if owners.get(l["id"]) != want:
                mismatched += 1
        check("each sold listing belongs to its one completed purchase's buyer; the rest are active",
              mismatched == 0, mismatched)
        check("the randomised run leaves the ledger balanced", ledger_balanced())
        r = reconcile()
        check("and reconcile finds no difference", r.returncode == 0, r.stdout[-2000:] + r.stderr)
        metrics = http.client.HTTPConnection("127.0.0.1", ports["payment"], timeout=10)
        metrics.request("GET", "/metrics")
        text = metrics.getresponse().read().decode()
        check("the saga's metrics count the run's steps and ended purchases",
              'restinu_saga_steps_total{' in text and 'outcome="succeeded"' in text
              and 'restinu_purchases_total{' in text and "restinu_saga_step_duration_seconds" in text)
        # This payment process started in the operators' part: the purchase compensated there
        # and the randomised run's faults and lost races give it failed and compensated steps.
        samples = []
        for line in text.splitlines():
            m = re.match(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$', line)
            if m and not line.startswith("#"):
                samples.append((m.group(1), dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"',
                                                            m.group(2) or "")),
                                float(m.group(3))))

        def total(name, **labels):
            return sum(v for n, l, v in samples
                       if n == name and all(l.get(k) == w for k, w in labels.items()))
        for outcome in ("started", "succeeded", "failed", "compensated"):
            n = total("restinu_saga_steps_total", outcome=outcome)
            check(f'restinu_saga_steps_total{{outcome="{outcome}"}} counted some steps', n > 0, n)
        n = total("restinu_saga_step_duration_seconds_count", direction="compensate")
        check('restinu_saga_step_duration_seconds{direction="compensate"} timed compensations',
              n > 0, n)
        for outcome in ("completed", "failed"):
            n = total("restinu_purchases_total", outcome=outcome)
            check(f'restinu_purchases_total{{outcome="{outcome}"}} counted purchases', n > 0, n)
        completed = psql("payments_db", "SELECT count(*) FROM purchases WHERE state = 'completed'")
        print(f"# randomised run: {len(pids)} purchases over 100 listings in {elapsed:.1f} s; "
              f"completed in all so far: {completed}", flush=True)
    except Exception as e:  # noqa: BLE001 - any error is a failure of this test
        import traceback
        traceback.print_exc()
        check("the test ran to the end", False, repr(e))
    finally:
        for name in list(procs):
            stop(name)
        if failures:
            for name in ("payment", "property", "sandbox", "gateway"):
                path = os.path.join(work, name + ".log")
                if os.path.exists(path):
                    with open(path, errors="replace") as f:
                        tail = f.read()[-3000:]
                    print(f"--- {name}.log (tail) ---\n{tail}")
        for name in os.listdir(work):
            path = os.path.join(work, name)
            with open(path, "rb") as f:
                if b"ERROR: AddressSanitizer" in f.read() or b"runtime error:" in open(path, "rb").read():
                    check(f"no sanitizer report in {name}", False)
    print(f"{failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
