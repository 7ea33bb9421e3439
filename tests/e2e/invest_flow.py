"""Shares of a tokenized listing end to end, through the gateway (run by chain_test.py once the
listing is tokenized): KYC-approved investors with custodial wallets buy shares (a payment hold,
the transfer from the treasury, the capture), the owner pays rent, the holders claim it, each
claim the exact pro-rata part; an investor whose wallet an agent removed from the identity
registry cannot receive shares: the transfer reverts and the hold is released; a buyer of the
tokenized property gets its deed on chain through the purchase saga."""
import os
import subprocess
import uuid
from concurrent.futures import ThreadPoolExecutor

from purchase_test import check, wait_for

PRICE = 9_000_000  # paise per share, as chain_test tokenizes
SUPPLY = 1000


def word(address):
    return address.lower().replace("0x", "").rjust(64, "0")


class Chain:
    def __init__(self, rpc, env):
        self.rpc = rpc
        self.env = env

    def selector(self, signature):
        return self.rpc("web3_sha3", ["0x" + signature.encode().hex()])[:10]

    def call(self, to, signature, *addresses):
        data = self.selector(signature) + "".join(word(a) for a in addresses)
        return int(self.rpc("eth_call", [{"to": to, "data": data}, "latest"]), 16)

    def call_uint(self, to, signature, number):
        data = self.selector(signature) + hex(number)[2:].rjust(64, "0")
        return self.rpc("eth_call", [{"to": to, "data": data}, "latest"])

    def unverify(self, registry, wallet):
        """Takes `wallet` out of the identity registry behind the platform's back, by writing
        the registry's storage on the development node: `_verified` is the mapping in slot 1
        (slot 0 is AccessControl's roles), so the wallet's flag is at keccak(wallet . 1). (Sending
        deleteIdentity from the operator's key here would take a nonce the service owns.)"""
        slot = self.rpc("web3_sha3", ["0x" + word(wallet) + "1".rjust(64, "0")])
        self.rpc("anvil_setStorageAt", [registry, slot, "0x" + "0" * 64])
        return self.call(registry, "isVerified(address)", wallet) == 0

    def platform(self, name):
        return subprocess.run(["psql", self.env["RESTINU_PG__URL"] + " dbname=chain_db", "-tAc",
                               f"SELECT address FROM chain_platform WHERE name = '{name}'"],
                              check=True, capture_output=True, text=True).stdout.strip()


def run(stack, gw, people, admin, agent, listing, tokenization, rpc, pg):
    chain = Chain(rpc, stack.env)
    registry = chain.platform("registry")
    rupee = chain.platform("payment_token")
    deed = chain.platform("deed")
    shares = tokenization["shares_contract"]
    pid = listing["id"]

    def custodial(who):
        st, _, b = gw.req("POST", "/api/v1/wallets/custodial", {}, token=who["token"])
        assert st in (200, 201), (st, b)
        who["wallet"] = b["address"]

    def verified(who):
        return wait_for(lambda: chain.call(registry, "isVerified(address)", who["wallet"]) == 1,
                        30, 0.2)

    def invest(who, n, key=None, method="pm_card_visa"):
        headers = {"Idempotency-Key": key or str(uuid.uuid4())}
        return gw.req("POST", "/api/v1/investments",
                      {"property_id": pid, "shares": n, "payment_method": method},
                      token=who["token"], headers=headers)

    def ended(who, inv_id):
        def done():
            st, _, b = gw.req("GET", f"/api/v1/investments/{inv_id}", token=who["token"])
            return st == 200 and b["state"] in ("completed", "failed") and b
        return wait_for(done, 60, 0.2) or {}

    def intent_status(inv_id):
        return subprocess.run(
            ["psql", pg + " dbname=payments_db", "-tAc",
             "SELECT status || ' ' || amount_captured FROM payment_intents i JOIN "
             "idempotency_keys k ON k.intent_id = i.id::text WHERE k.key = "
             f"'investment:{inv_id}:authorise'"],
            check=True, capture_output=True, text=True).stdout.strip()

    def portfolio(who):
        st, _, b = gw.req("GET", "/api/v1/users/me/portfolio", token=who["token"])
        assert st == 200, (st, b)
        return {h["property_id"]: h for h in b["holdings"]}

    alice, bob, carol = (people.register(n) for n in ("alice", "bob", "carol"))
    nobody = people.register("walletless")
    for who in (alice, bob, carol, nobody):
        people.approve_kyc(who, admin)
    for who in (alice, bob, carol):
        custodial(who)
    check("approved investors' wallets enter the identity registry",
          all(verified(w) for w in (alice, bob, carol)))

    # --- refusals before any money moves --------------------------------------------------------
    st, _, b = gw.req("POST", "/api/v1/investments",
                      {"property_id": pid, "shares": 1, "payment_method": "pm_card_visa"},
                      token=alice["token"])
    check("buying shares without an Idempotency-Key is refused at the gateway (400)",
          st == 400 and b.get("type", "").endswith("/idempotency-key-required"), (st, b))
    st, _, b = invest(nobody, 1)
    check("an investor without a wallet gets 409 wallet-required",
          st == 409 and b.get("type", "").endswith("/wallet-required"), (st, b))
    st, _, b = invest(alice, SUPPLY + 1)
    check("more shares than exist is 409 shares-unavailable",
          st == 409 and b.get("type", "").endswith("/shares-unavailable"), (st, b))
    st, _, b = invest(alice, 0)
    check("zero shares is a 422 naming the field",
          st == 422 and any(e.get("field") == "shares" for e in b.get("errors", [])), (st, b))

    st, _, d = invest(bob, 10, method="pm_card_chargeDeclined")
    check("a purchase paid with a declined card is accepted, then fails", st == 202 and
          ended(bob, d["id"]).get("state") == "failed", (st, d))
    st, _, d = gw.req("GET", f"/api/v1/investments/{d.get('id')}", token=bob["token"])
    check("its failure says the payment was not authorised, and no transfer was made",
          "not authorised" in (d.get("failure") or "") and d.get("transfer_tx") is None, d)

    # --- alice and bob buy ----------------------------------------------------------------------
    key = str(uuid.uuid4())
    st, _, a1 = invest(alice, 100, key)
    check("alice's purchase of 100 shares is accepted (202)", st == 202, (st, a1))
    st, _, a2 = invest(alice, 100, key)
    check("the same Idempotency-Key again buys nothing more", st in (200, 202) and
          a2.get("id") == a1.get("id"), (st, a2))
    st, _, b1 = invest(bob, 300)
    check("bob's purchase of 300 shares is accepted", st == 202, (st, b1))
    a = ended(alice, a1["id"])
    b = ended(bob, b1["id"])
    check("alice's purchase completes", a.get("state") == "completed", a)
    check("bob's purchase completes", b.get("state") == "completed", b)
    check("alice's hold is captured in full (100 × the price)",
          intent_status(a1["id"]) == f"captured {100 * PRICE}", intent_status(a1["id"]))
    check("the chain has alice's 100 and bob's 300 shares",
          chain.call(shares, "balanceOf(address)", alice["wallet"]) == 100 and
          chain.call(shares, "balanceOf(address)", bob["wallet"]) == 300)
    st, _, other = gw.req("GET", f"/api/v1/investments/{a1['id']}", token=bob["token"])
    check("bob cannot read alice's purchase (404)", st == 404, st)
    got = wait_for(lambda: portfolio(alice).get(pid, {}).get("shares") == 100, 30, 0.2)
    check("alice's portfolio shows her 100 shares at the issue price", got and
          portfolio(alice)[pid]["value"] == {"amount": 100 * PRICE, "currency": "INR"},
          portfolio(alice))

    # --- carol's wallet is taken out of the registry: the transfer reverts, the hold goes ------
    check("carol's wallet is out of the identity registry on chain (the platform thinks not)",
          chain.unverify(registry, carol["wallet"]))
    st, _, c1 = invest(carol, 50)
    check("carol's purchase is accepted (her KYC is approved)", st == 202, (st, c1))
    c = ended(carol, c1["id"])
    check("carol's purchase fails because the transfer reverted", c.get("state") == "failed"
          and "reverted" in (c.get("failure") or ""), c)
    check("carol's payment hold is released, nothing captured",
          intent_status(c1["id"]) == "canceled 0", intent_status(c1["id"]))
    check("carol holds no shares", chain.call(shares, "balanceOf(address)", carol["wallet"]) == 0)
    # 600 left (carol's 50 are for sale again): eight buys of 100 at once sell exactly six.
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: invest(alice, 100), range(8)))
    accepted = [b for st, _, b in answers if st == 202]
    refused = [b for st, _, b in answers if st == 409 and
               b.get("type", "").endswith("/shares-unavailable")]
    check("eight concurrent buys of 100 of the 600 left: six accepted, two refused",
          len(accepted) == 6 and len(refused) == 2, [a[0] for a in answers])
    check("and the six complete",
          all(ended(alice, b["id"]).get("state") == "completed" for b in accepted))
    st, _, b = invest(bob, 1)
    check("with every share sold, one more is 409 shares-unavailable",
          st == 409 and b.get("type", "").endswith("/shares-unavailable"), (st, b))

    # --- rent and claims: alice 700, bob 300 of 1000 ----------------------------------------------
    rent = {"amount": {"amount": 500_003, "currency": "INR"}, "period": "2026-10"}
    st, _, b = gw.req("POST", f"/api/v1/properties/{pid}/rent", rent, token=agent["token"])
    check("the owner pays October's rent", st == 202, (st, b))
    owed = {"alice": 500_003 * 700 // 1000, "bob": 500_003 * 300 // 1000}
    got = wait_for(lambda: portfolio(bob).get(pid, {}).get("claimable_rent", {}).get("amount")
                   == owed["bob"], 30, 0.2)
    check("bob's portfolio shows his pro-rata rent to claim", got, portfolio(bob))
    for name, who in (("alice", alice), ("bob", bob)):
        st, _, b = gw.req("POST", "/api/v1/users/me/dividends/claim", {"property_id": pid},
                          token=who["token"])
        check(f"{name} claims her or his rent (202)", st == 202 and
              b["claims"][0]["amount"]["amount"] == owed[name], (st, b))
    for name, who in (("alice", alice), ("bob", bob)):
        paid = wait_for(lambda: chain.call(rupee, "balanceOf(address)", who["wallet"]) ==
                        owed[name], 30, 0.2)
        check(f"{name}'s wallet receives exactly floor(rent × shares / supply)", paid,
              chain.call(rupee, "balanceOf(address)", who["wallet"]))
    left = chain.call(rupee, "balanceOf(address)", shares)
    check("the rounding remainder stays in the contract, claimable later",
          left == 500_003 - owed["alice"] - owed["bob"] and left < 2, left)
    got = wait_for(lambda: portfolio(alice)[pid]["claimed_rent"]["amount"] == owed["alice"],
                   30, 0.2)
    check("alice's portfolio shows the rent claimed, nothing left to claim", got and
          portfolio(alice)[pid]["claimable_rent"]["amount"] == 0, portfolio(alice))
    st, _, b = gw.req("POST", "/api/v1/users/me/dividends/claim", {}, token=alice["token"])
    check("claiming again is 409 nothing-to-claim",
          st == 409 and b.get("type", "").endswith("/nothing-to-claim"), (st, b))

    return {"chain": chain, "bob": bob, "deed": deed}


def buy_property(ctx, gw, agent, listing, tokenization, pg):
    """Bob buys the whole tokenized property: the purchase saga's transfer_deed step moves the
    deed to his wallet on chain."""
    chain, bob, deed, pid = ctx["chain"], ctx["bob"], ctx["deed"], listing["id"]

    def psql(db, query):
        return subprocess.run(["psql", pg + f" dbname={db}", "-tAc", query], check=True,
                              capture_output=True, text=True).stdout.strip()
    check("the payment service learns the listing is tokenized (from property events)",
          wait_for(lambda: psql("payments_db", "SELECT tokenized FROM listing_view WHERE id = "
                                f"'{pid}'") == "t", 30, 0.2))
    offer = {"listing_id": pid, "payment_method": "pm_card_visa",
             "price": {"amount": listing["price"]["amount"], "currency": "INR"}}
    st, _, o = gw.req("POST", "/api/v1/offers", offer, token=bob["token"])
    check("bob offers the asking price for the whole property", st == 201, (st, o))
    st, _, acc = gw.req("POST", f"/api/v1/offers/{o.get('id')}/accept", {}, token=agent["token"])
    check("the agent accepts", st == 201, (st, acc))

    def purchase_ended():
        st, _, p = gw.req("GET", f"/api/v1/purchases/{acc.get('purchase_id')}",
                          token=bob["token"])
        return st == 200 and p.get("state") in ("completed", "failed") and p
    p = wait_for(purchase_ended, 90, 0.2) or {}
    check("the purchase completes with transfer_deed among its steps",
          p.get("state") == "completed" and "transfer_deed" in [s["step"] for s in p["steps"]], p)
    owner = chain.call_uint(deed, "ownerOf(uint256)", int(tokenization["deed"]["token_id"]))
    check("the deed's owner on chain is bob's wallet",
          owner[-40:].lower() == bob["wallet"][2:].lower(), (owner, bob["wallet"]))
    moves = psql("chain_db", "SELECT count(*) FROM chain_transactions WHERE purpose = "
                 f"'deed.transfer' AND reference = '{acc.get('purchase_id')}'")
    check("by one registrar transfer", moves == "1", moves)
