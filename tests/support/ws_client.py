"""A minimal WebSocket client (RFC 6455: handshake, masked text frames, close) for the tests
of the local WebSocket API (local/aws/websocket.py): what a browser does, without one."""

from __future__ import annotations

import base64
import os
import socket
import struct
from dataclasses import dataclass
from typing import BinaryIO
from urllib.parse import urlsplit

from local.aws.websocket import OP_CLOSE, OP_TEXT, accept_key, read_frame


@dataclass
class Opened:
    """The handshake's answer: 101 and a socket, or the refusal's status and body."""

    status: int
    body: bytes
    sock: socket.socket | None = None
    stream: BinaryIO | None = None

    def receive(self, timeout: float = 5.0) -> str | None:
        """The next text message, None when the server closed the connection."""
        assert self.sock is not None and self.stream is not None
        self.sock.settimeout(timeout)
        while (received := read_frame(self.stream)) is not None:
            opcode, payload = received
            if opcode == OP_TEXT:
                return payload.decode()
            if opcode == OP_CLOSE:
                return None
        return None

    def send(self, text: str) -> None:
        """One masked text frame (a client's)."""
        assert self.sock is not None
        payload, mask = text.encode(), os.urandom(4)
        length = len(payload)
        head = (
            struct.pack("!BB", 0x80 | OP_TEXT, 0x80 | length)
            if length < 126
            else struct.pack("!BBH", 0x80 | OP_TEXT, 0x80 | 126, length)
        )
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def close(self) -> None:
        assert self.sock is not None
        mask = os.urandom(4)
        payload = struct.pack("!H", 1000)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(struct.pack("!BB", 0x80 | OP_CLOSE, 0x80 | len(payload)) + mask + masked)
        self.receive()  # the server's answer to the close (or the end of the socket)
        self.sock.close()


def connect(url: str, timeout: float = 5.0) -> Opened:
    """Open `url` (ws://host:port/path?query)."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout)
    key = base64.b64encode(os.urandom(16)).decode()
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    request = (
        f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    sock.sendall(request.encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)
        if not chunk:
            break
        head += chunk
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {
        name.strip().lower(): value.strip()
        for name, _, value in (line.partition(":") for line in lines[1:] if line)
    }
    if status != 101:
        length = int(headers.get("content-length", "0"))
        body = b""
        while len(body) < length and (chunk := sock.recv(length - len(body))):
            body += chunk
        sock.close()
        return Opened(status, body)
    assert headers.get("sec-websocket-accept") == accept_key(key)
    return Opened(101, b"", sock, sock.makefile("rb"))
