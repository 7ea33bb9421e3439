#!/usr/bin/python3
"""Vastu certification end to end: the real user, property and gateway processes on the
PostgreSQL and Redis of `make test`, driven through the gateway as clients.

Checks: only the owner (or an admin) certifies; anyone reads the certificate and the public key,
and `openssl pkeyutl -verify` (not our code) accepts the signature and refuses it after one byte
of the payload changes; search shows the score and `min_vastu_score` finds exactly the listings
at or above it; a new layout supersedes the old certificate, which still verifies, and search
follows the new score.
Run by `make test` (ctest label e2e): vastu_test.py path/to/restinu
"""
import base64
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from purchase_test import Client, check, free_port, wait_for, wait_ready  # noqa: E402
import purchase_test  # noqa: E402
from stack import People, Stack  # noqa: E402

# Ideal: entrance NE, kitchen SE, master bedroom SW (docs/vastu.md): 100, A.
IDEAL = {"facing": "E", "elements": {"main_entrance": "NE", "kitchen": "SE",
                                     "master_bedroom": "SW"}}
# The entrance in the S (avoided, 0 of weight 20): (0 + 15×100 + 10×100 + 5×100) / 50 = 60, C.
WORSE = {"facing": "E", "elements": {"main_entrance": "S", "kitchen": "SE",
                                     "master_bedroom": "SW"}}


def unb64(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def openssl_verifies(work, pem, payload, signature):
    """Whether `openssl pkeyutl -verify -rawin` accepts `signature` over `payload`."""
    paths = {n: os.path.join(work, n) for n in ("key.pem", "payload", "signature")}
    for name, data in (("key.pem", pem.encode()), ("payload", payload),
                       ("signature", signature)):
        with open(paths[name], "wb") as f:
            f.write(data)
    r = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", paths["key.pem"],
                        "-rawin", "-in", paths["payload"], "-sigfile", paths["signature"]],
                       capture_output=True, text=True)
    return r.returncode == 0 and "Verified Successfully" in r.stdout


def main():
    binary = sys.argv[1]
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    work = tempfile.mkdtemp(prefix="restinu-vastu-e2e.")
    seed = base64.b64encode(os.urandom(32)).decode()
    with Stack(binary, work, ("user", "property"), lambda: free_port(root)) as stack:
        stack.migrate()
        stack.start("user")
        stack.start("property", {"RESTINU_VASTU__SIGNING_KEY": seed})
        stack.start_gateway()
        for n in ("user", "property", "gateway"):
            check(f"{n} becomes ready", wait_ready(stack.ports[n]))
        gw = Client(stack.ports["gateway"])
        people = People(gw, binary, stack.env, "a vastu e2e passphrase")
        admin = people.admin()
        agent = people.register("agent")
        other = people.register("other")
        for who in (agent, other):
            st, _, _ = gw.req("PATCH", f"/api/v1/admin/users/{who['id']}", {"role": "agent"},
                              token=admin["token"])
            check("the admin makes an agent", st == 200)
            who["token"] = people.login(who["email"])

        city = "Vastunagar" + people.run_id  # this run's listings alone
        ids = []
        for title in ("East-facing villa", "Corner flat"):
            body = {
                "title": title, "description": "Near the temple.",
                "property_type": "villa", "status": "active",
                "price": {"amount": 1_500_000_000, "currency": "INR"},
                "bedrooms": 3, "bathrooms": 2, "area_sqft": 1800,
                "address": {"line": "1 Temple Road", "locality": "Shivaji Nagar", "city": city,
                            "state": "Maharashtra", "postal_code": "411005", "country": "IN"},
                "location": {"lat": 18.53, "lng": 73.85},
            }
            st, _, b = gw.req("POST", "/api/v1/properties", body, token=agent["token"])
            check(f"the agent lists '{title}'", st == 201, (st, b))
            ids.append(b.get("id"))
        certified, plain = ids
        path = f"/api/v1/properties/{certified}/vastu"

        # --- who may ---------------------------------------------------------------------------
        st, _, _ = gw.req("POST", path, IDEAL)
        check("nobody signed in cannot certify", st == 401, st)
        st, _, _ = gw.req("POST", path, IDEAL, token=other["token"])
        check("another agent cannot certify", st == 403, st)
        st, _, b = gw.req("POST", path, {"facing": "UP", "elements": {}}, token=agent["token"])
        check("a bad layout is 422 naming its fields", st == 422 and
              {"facing", "elements.main_entrance"} <= {e["field"] for e in b.get("errors", [])},
              (st, b))

        # --- certified, and checked by a tool that is not ours ---------------------------------
        st, h, first = gw.req("POST", path, IDEAL, token=agent["token"])
        check("the owner certifies: 100, A", st == 201 and
              first["certificate"]["score"] == 100 and first["certificate"]["grade"] == "A",
              (st, first))
        cert_url = h.get("location", "")
        st, _, key = gw.req("GET", "/api/v1/vastu/public-key")
        check("anyone reads the public key", st == 200 and "BEGIN PUBLIC KEY" in key.get("pem", ""))
        st, _, cert = gw.req("GET", cert_url)
        check("anyone reads the certificate", st == 200 and cert.get("status") == "current",
              (st, cert))
        payload, signature = unb64(cert["payload"]), unb64(cert["signature"])
        check("openssl verifies the signature", openssl_verifies(work, key["pem"], payload,
                                                                 signature))
        tampered = bytearray(payload)
        tampered[len(tampered) // 2] ^= 0x01
        check("and refuses it after one byte changes",
              not openssl_verifies(work, key["pem"], bytes(tampered), signature))

        # --- search shows and filters on the score ----------------------------------------------
        def search(query):
            st, _, b = gw.req("GET", f"/api/v1/properties?city={city}&{query}")
            return {i["id"]: i.get("vastu") for i in b.get("items", [])} if st == 200 else None

        found = wait_for(lambda: search("min_vastu_score=100") == {
            certified: {"score": 100, "grade": "A"}}, 10)
        check("min_vastu_score=100 finds the certified listing alone, with its score", found,
              search("min_vastu_score=100"))
        check("without the filter both come, the other with vastu null",
              search("limit=10") == {certified: {"score": 100, "grade": "A"}, plain: None},
              search("limit=10"))

        # --- a new layout supersedes; search follows --------------------------------------------
        st, _, second = gw.req("POST", path, WORSE, token=agent["token"])
        check("a worse layout is certified: 60, C", st == 201 and
              second["certificate"]["score"] == 60, (st, second))
        st, _, old = gw.req("GET", cert_url)
        check("the first certificate is superseded, its payload unchanged",
              old.get("status") == "superseded" and old.get("payload") == cert["payload"], old)
        check("and still verifies", openssl_verifies(work, key["pem"], payload, signature))
        moved = wait_for(lambda: search("min_vastu_score=61") == {}, 10)
        check("min_vastu_score=61 no longer finds it", moved, search("min_vastu_score=61"))
        check("min_vastu_score=60 does, with the new score",
              search("min_vastu_score=60") == {certified: {"score": 60, "grade": "C"}},
              search("min_vastu_score=60"))
        st, _, listing = gw.req("GET", f"/api/v1/properties/{certified}")
        check("the listing shows the latest certificate",
              listing.get("vastu", {}).get("certificate_id") ==
              second["certificate"]["certificate_id"], listing.get("vastu"))
        st, _, b = gw.req("GET", f"/api/v1/properties?min_vastu_score=101")
        check("min_vastu_score=101 is 400 naming it", st == 400 and
              any(e["field"] == "min_vastu_score" for e in b.get("errors", [])), (st, b))
    if purchase_test.failures:
        print(f"{purchase_test.failures} check(s) failed; logs in {work}")
        sys.exit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()
