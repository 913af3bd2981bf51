# TLS towards the broker: the broker's CA is pinned from a file on the lock's flash (config broker_ca, DER or
# PEM); certificates are always verified (CERT_REQUIRED) against it and the broker's name (server_hostname).
# There is no "insecure" switch and no fallback to plain text: a lock configured for TLS that cannot build
# its context does not connect at all.
import binascii
import os

_PEM_BEGIN = b"-----BEGIN CERTIFICATE-----"
_PEM_END = b"-----END CERTIFICATE-----"
MAX_CA_BYTES = 8192  # one CA certificate; a bundle of many is not what pinning means


class TLSConfigError(ValueError):
    """The CA file is missing or not a certificate; str() names the file and the problem."""


def ca_der(data):
    """A DER certificate from DER or PEM bytes (the first certificate of a PEM file)."""
    start = data.find(_PEM_BEGIN)
    if start >= 0:
        end = data.find(_PEM_END, start)
        if end < 0:
            raise TLSConfigError("PEM certificate without its END line")
        body = data[start + len(_PEM_BEGIN) : end]
        try:
            data = binascii.a2b_base64(body.replace(b"\r", b"").replace(b"\n", b""))
        except ValueError:
            raise TLSConfigError("PEM certificate is not valid base64")
    # DER: a SEQUENCE (0x30) with a long-form length; anything else is not a certificate.
    if len(data) < 64 or data[0] != 0x30 or data[1] & 0x80 == 0:
        raise TLSConfigError("not a DER or PEM certificate")
    return data


def load_ca(path):
    """The pinned CA as DER bytes from the file at path."""
    try:
        size = os.stat(path)[6]
        if size > MAX_CA_BYTES:
            raise TLSConfigError("broker_ca: %s is larger than %d bytes" % (path, MAX_CA_BYTES))
        with open(path, "rb") as f:
            data = f.read(size)  # exactly the file: a fixed 8 KB read buffer would be allocated whole
    except OSError:
        raise TLSConfigError("broker_ca: cannot read %s" % path)
    try:
        return ca_der(data)
    except TLSConfigError as exc:
        raise TLSConfigError("broker_ca: %s: %s" % (path, exc))


def client_context(ca):
    """An SSLContext that trusts only `ca` (DER bytes) and requires the server's certificate."""
    try:
        import tls
    except ImportError:  # ports that only have the older name
        import ssl as tls
    context = tls.SSLContext(tls.PROTOCOL_TLS_CLIENT)
    context.verify_mode = tls.CERT_REQUIRED
    try:
        context.load_verify_locations(ca)
    except ValueError as exc:
        raise TLSConfigError("broker_ca: mbedTLS refused the certificate (%s)" % exc)
    return context
