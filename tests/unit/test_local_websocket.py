"""The local WebSocket API's wire format (local/aws/websocket.py, RFC 6455) and its reading of
the template's WebSocket routes."""

from __future__ import annotations

import io
import os
import struct

from hypothesis import given
from hypothesis import strategies as st

from local.aws.template import load_template
from local.aws.websocket import (
    MAX_FRAME_BYTES,
    OP_TEXT,
    accept_key,
    answered_routes,
    frame,
    read_frame,
    socket_routes,
)


def test_the_handshake_answers_rfc_6455s_example() -> None:
    assert accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def masked(opcode: int, payload: bytes) -> bytes:
    """A client's frame (masked)."""
    mask, length = os.urandom(4), len(payload)
    if length < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
    elif length < 1 << 16:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


@given(st.binary(max_size=70_000))
def test_frames_read_back_masked_or_not(payload: bytes) -> None:
    assert read_frame(io.BytesIO(frame(OP_TEXT, payload))) == (OP_TEXT, payload)
    assert read_frame(io.BytesIO(masked(OP_TEXT, payload))) == (OP_TEXT, payload)


@given(st.binary(max_size=12))
def test_a_truncated_or_oversized_frame_ends_the_stream_without_an_error(data: bytes) -> None:
    result = read_frame(io.BytesIO(data))
    assert result is None or isinstance(result[1], bytes)
    oversized = struct.pack("!BBQ", 0x80 | OP_TEXT, 127, MAX_FRAME_BYTES + 1)
    assert read_frame(io.BytesIO(oversized)) is None


def test_the_routes_come_from_the_template() -> None:
    template = load_template()
    assert socket_routes(template) == {
        "$connect": "WsConnectionFunction",
        "status": "WsConnectionFunction",
        "$disconnect": "WsConnectionFunction",
    }
    assert answered_routes(template) == {"status"}
