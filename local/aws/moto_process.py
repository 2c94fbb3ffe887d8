"""moto in server mode in a process of its own (its own interpreter lock, so AWS calls do
not queue behind the handlers), bound to 127.0.0.1, ended with the runtime that started it."""

from __future__ import annotations

import argparse
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from typing import Any

STARTUP_TIMEOUT_SECONDS = 20


class MotoProcess:
    """Starts `python -m local.aws.moto_process` and waits until it accepts connections."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [sys.executable, "-m", "local.aws.moto_process", "--host", self.host]
        command += ["--port", str(self.port), "--parent", str(os.getpid())]
        # A session of its own: Ctrl-C reaches the runtime, which stops moto last.
        self.process = subprocess.Popen(command, start_new_session=True)
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"moto exited with {self.process.returncode}")
            with socket.socket() as probe:
                if probe.connect_ex((self.host, self.port)) == 0:
                    return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"moto did not start on {self.host}:{self.port}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _exit_with_parent(parent: int) -> None:
    while True:
        if os.getppid() != parent:
            os._exit(0)
        time.sleep(1)


def _serialize_requests() -> None:
    """One AWS call at a time, as DynamoDB itself would never show: moto's transactions
    deep-copy the whole table and restore it when cancelled, which races with a concurrent
    call from another function ("dictionary changed size during iteration", lost writes)."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    lock = threading.Lock()
    call = DomainDispatcherApplication.__call__

    def serialized(self: Any, environ: Any, start_response: Any) -> Any:
        with lock:
            return call(self, environ, start_response)

    DomainDispatcherApplication.__call__ = serialized  # type: ignore[method-assign]


def keep_stream_shards_through_cancelled_transactions() -> None:
    """DynamoDB streams never show a cancelled write. moto, cancelling a transaction, puts
    back a deep copy of each table it touched, stream shard included: a shard iterator taken
    before then still reads the old shard, with the cancelled transaction's partial records,
    and the next real record reuses their sequence numbers, so a reader that saw a cancelled
    record skips the next real one (a `needs_review` status event went missing that way: its
    webhook's first transaction is always cancelled). The live shard is kept instead, without
    what the cancelled transaction added."""
    from moto.dynamodb.models import DynamoDBBackend

    transact = DynamoDBBackend.transact_write_items

    def keeping_shards(self: Any, transact_items: list[dict[str, Any]]) -> None:
        names = {next(iter(item.values())).get("TableName") for item in transact_items}
        kept = {}
        for name in names:
            shard = getattr(self.tables.get(name), "stream_shard", None)
            if shard is not None:
                kept[name] = (shard, len(shard.items))
        try:
            transact(self, transact_items)
        except Exception:
            for name, (shard, length) in kept.items():
                del shard.items[length:]
                restored = self.tables.get(name)
                if restored is not None and restored.stream_shard is not shard:
                    restored.stream_shard = shard
                    shard.table = restored
            raise

    DynamoDBBackend.transact_write_items = keeping_shards  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--parent", type=int, required=True)
    arguments = parser.parse_args()
    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access-log line per call
    # Werkzeug writes headers and body separately; without TCP_NODELAY every boto3 call
    # waits for a delayed ACK (~40 ms).
    MotoRequestHandler.disable_nagle_algorithm = True
    _serialize_requests()
    keep_stream_shards_through_cancelled_transactions()
    threading.Thread(target=_exit_with_parent, args=(arguments.parent,), daemon=True).start()
    server = ThreadedMotoServer(ip_address=arguments.host, port=arguments.port, verbose=False)
    server.start()
    threading.Event().wait()


if __name__ == "__main__":
    main()
