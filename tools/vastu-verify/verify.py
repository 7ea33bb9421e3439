#!/usr/bin/env python3
"""Checks a REST-iN-U Vastu certificate offline, with no code of ours in the signature check.

    verify.py certificate.json public-key.pem

certificate.json is the body of GET /api/v1/vastu/certificates/{id}; public-key.pem is the
"pem" of GET /api/v1/vastu/public-key (that whole JSON body is accepted too). The Ed25519
signature is checked over the exact signed bytes (the base64url "payload") by
`openssl pkeyutl -verify -rawin`, or by PyNaCl when there is no openssl. Then the signed JSON
must equal the "certificate" shown beside it.

Prints "valid" and exits 0, or prints "INVALID: <why>" and exits 1; exits 2 when it cannot
check at all (unreadable files, no openssl and no PyNaCl). Needs only Debian's python3 and
openssl (or python3-nacl).
"""

import base64
import binascii
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

FORMAT = "restinu.vastu.certificate.v1"
# DER of an Ed25519 SubjectPublicKeyInfo before the 32 key bytes (RFC 8410).
SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")


class Invalid(Exception):
    pass


def b64url_decode(text, what):
    if not isinstance(text, str):
        raise Invalid(f"{what} is not a string")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as e:
        raise Invalid(f"{what} is not base64url: {e}") from None


def read_public_key(path):
    """The 32 raw key bytes and a PEM for openssl, from a PEM file or the public-key JSON."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if text.lstrip().startswith("{"):
        text = json.loads(text)["pem"]
    lines = [l.strip() for l in text.strip().splitlines()]
    if (not lines or lines[0] != "-----BEGIN PUBLIC KEY-----"
            or lines[-1] != "-----END PUBLIC KEY-----"):
        raise ValueError(f"{path}: not a PEM public key")
    der = base64.b64decode("".join(lines[1:-1]), validate=True)
    if len(der) != 44 or not der.startswith(SPKI_PREFIX):
        raise ValueError(f"{path}: not an Ed25519 public key")
    return der[len(SPKI_PREFIX):], text.strip() + "\n"


def openssl_verifies(pem, payload, signature):
    with tempfile.TemporaryDirectory(prefix="vastu-verify-") as tmp:
        files = {"pub.pem": pem.encode(), "payload": payload, "sig": signature}
        for name, data in files.items():
            with open(os.path.join(tmp, name), "wb") as f:
                f.write(data)
        run = subprocess.run(
            ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", os.path.join(tmp, "pub.pem"),
             "-rawin", "-in", os.path.join(tmp, "payload"), "-sigfile", os.path.join(tmp, "sig")],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
        return run.returncode == 0


def nacl_verifies(raw_key, payload, signature):
    import nacl.exceptions  # pylint: disable=import-outside-toplevel
    import nacl.signing  # pylint: disable=import-outside-toplevel

    try:
        nacl.signing.VerifyKey(raw_key).verify(payload, signature)
        return True
    except nacl.exceptions.BadSignatureError:
        return False


def signature_verifies(raw_key, pem, payload, signature):
    if shutil.which("openssl"):
        return openssl_verifies(pem, payload, signature)
    try:
        return nacl_verifies(raw_key, payload, signature)
    except ImportError:
        print("cannot verify: neither openssl nor PyNaCl (python3-nacl) is installed",
              file=sys.stderr)
        sys.exit(2)


def check(doc, raw_key, pem):
    """Returns the signed certificate, or raises Invalid."""
    if not isinstance(doc, dict):
        raise Invalid("the certificate file is not a JSON object")
    if doc.get("algorithm", "Ed25519") != "Ed25519":
        raise Invalid(f"unknown algorithm {doc.get('algorithm')!r}")
    payload = b64url_decode(doc.get("payload"), "payload")
    signature = b64url_decode(doc.get("signature"), "signature")
    if len(signature) != 64:
        raise Invalid(f"the signature has {len(signature)} bytes, not 64")
    if not signature_verifies(raw_key, pem, payload, signature):
        key_id = hashlib.sha256(raw_key).hexdigest()[:16]
        if doc.get("key_id") not in (None, key_id):
            raise Invalid(f"signed by key {doc.get('key_id')}, and this public key is {key_id}")
        raise Invalid("the signature does not match the payload and this public key")
    try:
        signed = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise Invalid(f"the signed payload is not JSON: {e}") from None
    if not isinstance(signed, dict) or signed.get("format") != FORMAT:
        raise Invalid(f"the signed payload is not a {FORMAT} document")
    if "certificate" in doc and doc["certificate"] != signed:
        raise Invalid('"certificate" differs from the signed payload')
    if "key_id" in doc and doc["key_id"] != signed.get("key_id"):
        raise Invalid('"key_id" differs from the signed payload')
    return signed


def main(argv):
    if len(argv) != 3:
        print(f"usage: {argv[0]} certificate.json public-key.pem", file=sys.stderr)
        return 2
    try:
        raw_key, pem = read_public_key(argv[2])
        with open(argv[1], encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError, KeyError, TypeError) as e:
        print(f"cannot verify: {e}", file=sys.stderr)
        return 2
    try:
        signed = check(doc, raw_key, pem)
    except Invalid as e:
        print(f"INVALID: {e}")
        return 1
    print("valid")
    print(f"  certificate {signed.get('certificate_id')} for property "
          f"{signed.get('property_id')}: score {signed.get('score')} ({signed.get('grade')}), "
          f"rules {signed.get('rules_version')}, issued {signed.get('issued_at')}, "
          f"key {signed.get('key_id')}")
    if doc.get("status") == "superseded":
        # Not signed: the service's current view, fetched with the certificate.
        print(f"  note: the service reports it superseded by {doc.get('superseded_by')} "
              "(a later layout); the signed statement above still holds for the layout it names")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
