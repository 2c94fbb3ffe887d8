"""QR codes for the checkout page, drawn by segno (a maintained QR encoder, ISO/IEC 18004) as
SVG: `GET /merchant/qr.svg?data=<text>` answers the code for `text` (a payment link or a
VietQR payload), so the page carries no encoder of its own."""

from __future__ import annotations

import io
from urllib.parse import parse_qs

import segno

PATH = "/merchant/qr.svg"
MAX_DATA_BYTES = 2048  # a payment link or an EMV payload is a few hundred bytes at most
ERROR_CORRECTION = "m"  # 15% of the symbol may be damaged: what banking apps' codes use
QUIET_ZONE = 4  # modules of light border, as ISO/IEC 18004 requires


class QrRequestError(ValueError):
    """A request the QR route refuses: `status` and `code` for the error answer."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def data_of(query: str) -> str:
    """The one `data` parameter of the query string (UTF-8, at most MAX_DATA_BYTES)."""
    try:
        values = parse_qs(query, keep_blank_values=True, strict_parsing=False, errors="strict")
    except UnicodeDecodeError:
        raise QrRequestError(400, "malformed_request", "data is not UTF-8") from None
    given = values.get("data", [])
    if len(given) != 1 or not given[0]:
        raise QrRequestError(400, "malformed_request", "give the text as one data parameter")
    if len(given[0].encode()) > MAX_DATA_BYTES:
        raise QrRequestError(
            422, "data_too_long", f"data is longer than {MAX_DATA_BYTES} bytes (UTF-8)"
        )
    return given[0]


def make(text: str) -> segno.QRCode:
    """The smallest QR code (not a Micro QR) that holds `text` at level M."""
    return segno.make_qr(text, error=ERROR_CORRECTION, boost_error=False)


def svg(text: str) -> bytes:
    """`text`'s QR code as a standalone SVG that scales (a viewBox, no fixed size): dark
    modules on a white background, one module per user unit."""
    out = io.BytesIO()
    make(text).save(
        out,
        kind="svg",
        xmldecl=False,
        omitsize=True,
        border=QUIET_ZONE,
        dark="#000",
        light="#fff",
        svgclass=None,
        lineclass=None,
    )
    return out.getvalue()
