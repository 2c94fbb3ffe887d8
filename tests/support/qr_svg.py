"""Reads a QR code's modules back out of an SVG as segno draws it (one `path` whose dark
modules are horizontal strokes: `M x y`, relative `m dx dy` and `h n`, each stroke centred on
its row), so a test can compare the SVG a page shows with segno's own matrix."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

# Payloads both QR tests draw (unit: the proxy's SVG; browser: the page's image): short,
# a sandbox link, Vietnamese text, a VietQR payload, a long deeplink, a large symbol.
QR_TEXTS = [
    "hi",
    "http://127.0.0.1:3101/pay/abc123",
    "Thanh toán đơn hàng 1001 — VietQR",
    "00020101021238570010A00000072701270006970403011300110123456780208QRIBFTTA53037045802VN",
    "https://wallet.example.vn/deeplink?session=" + "s" * 200,
    "z" * 900,
]
_SVG = "{http://www.w3.org/2000/svg}"
_COMMAND = re.compile(r"([MmHhVvZz])([^MmHhVvZz]*)")


def modules(svg: bytes, border: int = 4) -> list[list[int]]:
    """The symbol's rows (1 dark, 0 light) without the quiet zone of `border` modules."""
    root = ET.fromstring(svg)
    _, _, width, height = (float(part) for part in root.attrib["viewBox"].split())
    size = int(width) - 2 * border
    assert width == height and size > 0, root.attrib["viewBox"]
    strokes = [p for p in root.iter(f"{_SVG}path") if p.attrib.get("stroke")]
    assert len(strokes) == 1, "one stroked path of dark modules"
    rows = [[0] * size for _ in range(size)]
    x = y = 0.0
    for command, arguments in _COMMAND.findall(strokes[0].attrib["d"]):
        numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", arguments)]
        if command in "Mm":
            dx, dy = numbers
            x, y = (dx, dy) if command == "M" else (x + dx, y + dy)
        elif command == "h":
            (length,) = numbers
            row = int(y - 0.5) - border
            for column in range(int(x) - border, int(x + length) - border):
                rows[row][column] = 1
            x += length
        else:
            raise AssertionError(f"unexpected path command {command!r}")
    return rows
