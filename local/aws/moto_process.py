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
    """One AWS call at a time: moto's models are not thread-safe (a transaction's writes and
    its rollback, or a scan beside a put, on the same dictionaries would race: "dictionary
    changed size during iteration", lost writes)."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    lock = threading.Lock()
    call = DomainDispatcherApplication.__call__

    def serialized(self: Any, environ: Any, start_response: Any) -> Any:
        with lock:
            return call(self, environ, start_response)

    DomainDispatcherApplication.__call__ = serialized  # type: ignore[method-assign]


def _cache_service_list() -> None:
    """moto lists its own package folder (os.listdir, a stat per entry) on every request to
    find the request's service: once is enough."""
    import functools

    from moto import backends

    backends.list_of_moto_modules = functools.cache(
        lambda listed=backends.list_of_moto_modules: tuple(listed())
    )


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
    _cache_service_list()
    from local.aws import moto_dynamodb

    moto_dynamodb.install()  # memory per payment flat and bounded: see its docstring
    from local.aws import item_writes

    item_writes.install_from_environment()  # PAYGATE_ITEM_WRITES_FILE: for pricing
    threading.Thread(target=_exit_with_parent, args=(arguments.parent,), daemon=True).start()
    server = ThreadedMotoServer(ip_address=arguments.host, port=arguments.port, verbose=False)
    server.start()
    threading.Event().wait()


if __name__ == "__main__":
    main()
