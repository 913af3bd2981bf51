"""Delivering a key file once: as JSON, as a download, or as a QR code (PNG) a phone app scans.

The key file holds the key's secret, so these forms exist only in the answer to its creation; nothing here
stores or logs it.
"""

import io
import json
from typing import Any

import segno

from cloud.errors import Invalid

QR_SCALE = 4  # pixels per module: about 700 px wide for the largest key a QR code holds
QR_BORDER = 4  # the quiet zone the QR standard asks for, in modules


def key_file_bytes(keyfile: dict[str, Any]) -> bytes:
    """The key file as compact JSON (ASCII)."""
    return json.dumps(keyfile, separators=(",", ":"), sort_keys=True).encode()


def key_file_qr_png(keyfile: dict[str, Any]) -> bytes:
    """The key file in a QR code (byte mode, error correction L), as PNG; Invalid when it does not fit."""
    try:
        code = segno.make(key_file_bytes(keyfile), error="l", micro=False, boost_error=False)
    except segno.DataOverflowError:
        raise Invalid(
            "format", "this key is too large for a QR code (too many doors): download the file"
        ) from None
    out = io.BytesIO()
    code.save(out, kind="png", scale=QR_SCALE, border=QR_BORDER)
    return out.getvalue()
