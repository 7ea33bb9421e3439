#!/usr/bin/python3
"""The blockchain service end to end: the real user, property, blockchain and gateway processes
on the PostgreSQL, Redis and anvil of `make test`, driven through the gateway as clients.

Checks: the platform deployed by `restinu blockchain deploy`; an admin tokenizes an agent's
listing through the gateway while the blockchain process is SIGKILLed right after sending its
first transaction (before recording it), and again before sending one; after the last restart
the tokenization is listed, every transaction of the operator is confirmed, and the node's nonce
for the operator equals the number of transactions the service stored: no nonce skipped, none
used twice, nothing sent twice. Then investors buy shares, rent is paid and claimed, a wallet out
of the identity registry is refused its shares and its hold released, and a buyer of the property
gets its deed (invest_flow.py); rent paid again for the same month deposits nothing more.
Run by `make test` (ctest label e2e): chain_test.py path/to/restinu
"""
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from purchase_test import Client, check, free_port, wait_for, wait_ready  # noqa: E402
import purchase_test  # noqa: E402
from stack import People, Stack  # noqa: E402
import invest_flow  # noqa: E402

# anvil's development account 3 (public; funded on every fresh anvil) is this test's operator,
# account 1 the timelock's governance. Other tests sign with fresh keys or account 0.
OPERATOR_KEY = "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6"
OPERATOR = "0x90f79bf6eb2c4f870365e785982e1f101e93b906"
GOVERNANCE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def rpc(method, params):
    req = urllib.request.Request(os.environ["RESTINU_TEST_ANVIL_URL"],
                                 data=json.dumps({"jsonrpc": "2.0", "id": 1, "method": method,
                                                  "params": params}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)["result"]


def sql(env, query):
    return subprocess.run(["psql", env["RESTINU_PG__URL"] + " dbname=chain_db", "-tAc", query],
                          check=True, capture_output=True, text=True).stdout.strip()


def main():
    binary = sys.argv[1]
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    work = tempfile.mkdtemp(prefix="restinu-chain-e2e.")
    chain_env = {
        "RESTINU_CHAIN__RPC_URL": os.environ["RESTINU_TEST_ANVIL_URL"],
        "RESTINU_CHAIN__OPERATOR_KEY": OPERATOR_KEY,
        "RESTINU_CHAIN__GOVERNANCE_ADDRESS": GOVERNANCE,
        "RESTINU_CHAIN__CONFIRMATIONS": "1",
        "RESTINU_CHAIN__POLL": "100ms",
        "RESTINU_CHAIN__METADATA__DIR": os.path.join(work, "metadata"),
        "RESTINU_CHAIN__WALLETS__SEAL_KEY": "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=",
        "RESTINU_CHAIN__INVESTMENTS__POLL": "100ms",
    }
    services = ("user", "property", "blockchain", "payment", "sandbox")
    with Stack(binary, work, services, lambda: free_port(root), chain_env) as stack:
        provider_key = "sk_test_chain_" + os.urandom(8).hex()
        webhook_secret = "whsec_chain_" + os.urandom(8).hex()
        stack.env.update({
            "RESTINU_CHAIN__PAYMENT_URLS": f"http://127.0.0.1:{stack.ports['payment']}",
            "RESTINU_PAYMENT__CHAIN_URLS": f"http://127.0.0.1:{stack.ports['blockchain']}",
            "RESTINU_PAYMENT__PROPERTY_URLS": f"http://127.0.0.1:{stack.ports['property']}",
            "RESTINU_PAYMENT__PROVIDER__URL": f"http://127.0.0.1:{stack.ports['sandbox']}",
            "RESTINU_PAYMENT__PROVIDER__SECRET_KEY": provider_key,
            "RESTINU_PAYMENT__PROVIDER__WEBHOOK_SECRET": webhook_secret,
            "RESTINU_PAYMENT__PROVIDER__SEARCH_LAG": "0s",
            "RESTINU_PAYMENT__SAGA__POLL": "50ms",
            "RESTINU_PAYMENT__SAGA__WAIT": "200ms",
        })
        stack.migrate()
        # A fresh chain database for this run: the operator's transactions start here.
        subprocess.run(["psql", stack.env["RESTINU_PG__URL"] + " dbname=postgres", "-qc",
                        "DROP DATABASE IF EXISTS chain_db WITH (FORCE)"], check=True)
        subprocess.run([binary, "migrate", "blockchain", "--create-database"], env=stack.env,
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deploy = subprocess.run([binary, "blockchain", "deploy"], env=stack.env,
                                capture_output=True, text=True)
        check("restinu blockchain deploy deploys the platform", deploy.returncode == 0 and
              "DEFAULT_ADMIN_ROLE of every contract" in deploy.stdout, deploy.stderr[-500:])
        stack.start("sandbox", {
            "RESTINU_SANDBOX__SECRET_KEY": provider_key,
            "RESTINU_SANDBOX__WEBHOOK_SECRET": webhook_secret,
            "RESTINU_SANDBOX__WEBHOOK_URL":
                f"http://127.0.0.1:{stack.ports['gateway']}/api/v1/payments/webhooks/provider"})
        stack.start("user")
        stack.start("property")
        stack.start("payment")
        stack.start("blockchain", {"RESTINU_CHAIN__FAILPOINT": "after-send"})
        stack.start_gateway()
        for n in ("user", "property", "payment", "sandbox", "blockchain", "gateway"):
            check(f"{n} becomes ready", wait_ready(stack.ports[n]))
        gw = Client(stack.ports["gateway"])
        people = People(gw, binary, stack.env, "a chain e2e passphrase")
        admin = people.admin()
        agent = people.register("agent")
        st, _, _ = gw.req("PATCH", f"/api/v1/admin/users/{agent['id']}", {"role": "agent"},
                          token=admin["token"])
        agent["token"] = people.login(agent["email"])
        listing = {}

        def create():
            st, _, b = gw.req("POST", "/api/v1/properties", {
                "title": "Tokenized villa", "description": "Shares for everyone.",
                "property_type": "villa", "status": "active",
                "price": {"amount": 9_000_000_000, "currency": "INR"},
                "bedrooms": 4, "bathrooms": 4, "area_sqft": 3000,
                "address": {"line": "2 Chain Road", "locality": "Baner", "city": "Pune",
                            "state": "Maharashtra", "postal_code": "411045", "country": "IN"},
                "location": {"lat": 18.56, "lng": 73.78}}, token=agent["token"])
            if st == 201:
                listing.update(b)
            return st == 201
        check("the agent lists a villa", wait_for(create, 30, 0.2))
        path = f"/api/v1/properties/{listing['id']}/tokenize"
        body = {"total_shares": 1000, "price_per_share": {"amount": 9_000_000, "currency": "INR"}}
        answer = {}

        def tokenize():  # the listing reaches the blockchain service by event
            st, _, b = gw.req("POST", path, body, token=admin["token"])
            answer.update({"status": st, "body": b})
            return st != 404
        wait_for(tokenize, 30, 0.2)
        check("the admin's tokenize through the gateway is accepted", answer["status"] == 202,
              answer)

        # --- killed after sending, before recording; then before sending; then free ----------
        proc = stack.procs["blockchain"]
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            pass
        check("the blockchain process dies right after sending (failpoint after-send)",
              proc.returncode == -9, proc.returncode)
        stack.start("blockchain", {"RESTINU_CHAIN__FAILPOINT": "before-send"})
        proc = stack.procs["blockchain"]
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            pass
        check("restarted, it dies again before sending (failpoint before-send)",
              proc.returncode == -9, proc.returncode)
        stack.start("blockchain", {"RESTINU_CHAIN__FAILPOINT": ""})
        check("restarted without a failpoint it becomes ready", wait_ready(stack.ports["blockchain"]))

        def listed():
            st, _, b = gw.req("GET", path)
            return st == 200 and b.get("state") == "listed" and b
        done = wait_for(listed, 60, 0.3)
        check("the tokenization ends listed", bool(done), gw.req("GET", path)[2])

        # The chain may have seen this account before (an earlier run on the same anvil): count
        # from the first nonce this database used.
        stored = int(sql(stack.env, f"SELECT count(*) FROM chain_transactions WHERE signer = '{OPERATOR}'"))
        first = int(sql(stack.env, f"SELECT coalesce(min(nonce), 0) FROM chain_transactions WHERE signer = '{OPERATOR}'"))
        open_rows = sql(stack.env, "SELECT count(*) FROM chain_transactions WHERE state <> 'confirmed'")
        nonce = int(rpc("eth_getTransactionCount", [OPERATOR, "latest"]), 16)
        check(f"the node's nonce ({nonce}) is the first ({first}) plus the transactions stored "
              f"({stored}): no gap, no duplicate", nonce == first + stored and stored > 0)
        check("every transaction is confirmed", open_rows == "0", open_rows)
        nonces = sql(stack.env, f"SELECT string_agg(nonce::text, ',' ORDER BY nonce) FROM chain_transactions WHERE signer = '{OPERATOR}'")
        check("their nonces follow each other", nonces == ",".join(str(first + i) for i in range(stored)), nonces)
        deploys = sql(stack.env, "SELECT count(*) FROM chain_transactions WHERE purpose = 'shares.deploy'")
        check("the shares contract was deployed once", deploys == "1", deploys)

        # --- shares bought, rent paid and claimed, the deed sold (invest_flow.py) -----------------
        if done:
            shareholders = invest_flow.run(stack, gw, people, admin, agent, listing, done, rpc,
                                           stack.env["RESTINU_PG__URL"])

        # --- rent through the gateway -----------------------------------------------------------
        if done:
            rent = {"amount": {"amount": 500_000, "currency": "INR"}, "period": "2026-11"}
            st, _, b = gw.req("POST", f"/api/v1/properties/{listing['id']}/rent", rent,
                              token=agent["token"])
            check("the listing's owner pays a month's rent", st == 202, (st, b))
            shares = done["shares_contract"]
            deposited = wait_for(lambda: sql(stack.env, f"SELECT coalesce(sum(amount), 0)::text FROM chain_rent_deposits WHERE contract = '{shares.lower()}'") == "1000003", 30, 0.3)
            check("the deposit reaches the shares contract and the indexer", deposited)
            st, _, again = gw.req("POST", f"/api/v1/properties/{listing['id']}/rent", rent,
                                  token=agent["token"])
            check("the same month again deposits nothing more", st == 200 and
                  again.get("deposit_tx_id") == b.get("deposit_tx_id"), (st, again))
            invest_flow.buy_property(shareholders, gw, agent, listing, done,
                                     stack.env["RESTINU_PG__URL"])
    if purchase_test.failures:
        print(f"{purchase_test.failures} check(s) failed; logs in {work}")
        sys.exit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()
