"""Signing webhook deliveries: HMAC-SHA256 over "<timestamp>.<body>" with the endpoint's secret.

Header (docs/INTEGRATIONS.md has a receiver's check in plain Python):

    X-Openakerun-Signature: t=1767225600,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd

t is the Unix time of the attempt (every retry is signed anew), v1 the lowercase hex HMAC-SHA256 keyed with
the secret's ASCII text (whsec_...). A receiver recomputes it over the raw body it received and refuses a t
too far from its own clock, so a recorded delivery cannot be replayed later.
"""

import base64
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
SIGNATURE_HEADER = "X-Openakerun-Signature"
KIND_HEADER = "X-Openakerun-Kind"
DELIVERY_HEADER = "X-Openakerun-Delivery"


def new_secret() -> str:
    """A signing secret: "whsec_" and 256 random bits, base64url without padding."""
    raw = secrets.token_bytes(SECRET_BYTES)
    return SECRET_PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def signature(secret: str, timestamp: int, body: bytes) -> str:
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode("ascii"), signed, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"
