"""What a function must redo after Lambda SnapStart resumes it from a snapshot.

With the template's `SnapStart=PublishedVersions`, Lambda runs each function's init once per
published version, snapshots the memory, and resumes every later execution environment from
that snapshot. Whatever init built is then shared by all of them and is as old as the
snapshot: the pseudo-random generator's state, the AWS SDK's clients (credentials resolved
then, pooled connections that no longer exist) and httpx's pooled provider connections.
`restore()` renews exactly these:

- `random` is reseeded from the OS (ids and tokens use `secrets`/`os.urandom`, which the
  kernel reseeds, but anything using `random` would repeat across environments);
- boto3's default session is dropped, so every client made after restore resolves fresh
  credentials; objects registered with `forget_on_restore` drop their cached clients and
  build new ones on next use; Powertools Parameters' cached providers (and secrets) go;
- httpx transports made by `restorable_http_transport` close their pools and open new ones;
- callbacks registered with `on_restore` run last, in registration order.

`install()` registers `restore` with the runtime's `snapshot_restore_py` (part of Lambda's
managed Python runtimes, not of PyPI installs); where that module is missing (local runtime,
tests) nothing is registered and nothing is imported. Only the standard library is imported
here, so the module costs nothing at cold start.
"""

from __future__ import annotations

import importlib
import importlib.util
import random
import sys
import threading
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    import httpx

_lock = threading.Lock()
_callbacks: list[Callable[[], None]] = []
_forget: weakref.WeakKeyDictionary[Any, tuple[str, ...]] = weakref.WeakKeyDictionary()
_transports: weakref.WeakSet[Any] = weakref.WeakSet()
_installed = False


def on_restore(callback: Callable[[], None]) -> Callable[[], None]:
    """Run `callback` after every restore (usable as a decorator)."""
    with _lock:
        _callbacks.append(callback)
    return callback


def forget_on_restore(holder: Any, *attributes: str) -> None:
    """After a restore, delete these attributes of `holder` (e.g. a `cached_property` named
    `client`), so the next access builds them again. `holder` is held weakly."""
    with _lock:
        _forget[holder] = _forget.get(holder, ()) + attributes


def restorable_http_transport(factory: Callable[[], httpx.BaseTransport]) -> httpx.BaseTransport:
    """An httpx transport that delegates to `factory()` and replaces it after a restore (the
    old pool's connections were opened before the snapshot)."""
    transport = _restorable_transport_class()(factory)
    with _lock:
        _transports.add(transport)
    return cast("httpx.BaseTransport", transport)


def fresh_boto3_client(old: Any) -> Any:
    """A new boto3 client for the same service, region and configuration as `old` (new
    credentials, new connection pool), from a new session."""
    import boto3

    return boto3.session.Session().client(
        old.meta.service_model.service_name,
        region_name=old.meta.region_name,
        config=old.meta.config,
    )


def restore() -> None:
    """Renew what a snapshot shares between execution environments (see the module doc)."""
    random.seed()
    boto3 = sys.modules.get("boto3")
    if boto3 is not None:
        setattr(boto3, "DEFAULT_SESSION", None)  # noqa: B010 (boto3 is typed as a module)
    parameters_base = sys.modules.get("aws_lambda_powertools.utilities.parameters.base")
    if parameters_base is not None:
        parameters_base.DEFAULT_PROVIDERS.clear()
    with _lock:
        forget = list(_forget.items())
        transports = list(_transports)
        callbacks = list(_callbacks)
    for holder, attributes in forget:
        for attribute in attributes:
            holder.__dict__.pop(attribute, None)
    for transport in transports:
        transport.renew()
    for callback in callbacks:
        callback()


def install() -> bool:
    """Register `restore` as an after-restore runtime hook, when the runtime has the hooks
    library; True when registered (once per process)."""
    global _installed
    if _installed:
        return True
    if importlib.util.find_spec("snapshot_restore_py") is None:
        return False
    hooks = importlib.import_module("snapshot_restore_py")
    hooks.register_after_restore(restore)
    _installed = True
    return True


_transport_class: type[Any] | None = None


def _restorable_transport_class() -> type[Any]:
    """Defined on first use: httpx is imported only by functions that call a provider."""
    global _transport_class
    if _transport_class is None:
        import httpx

        class RestorableTransport(httpx.BaseTransport):
            def __init__(self, factory: Callable[[], httpx.BaseTransport]) -> None:
                self._factory = factory
                self._inner = factory()

            def handle_request(self, request: httpx.Request) -> httpx.Response:
                return self._inner.handle_request(request)

            def renew(self) -> None:
                old, self._inner = self._inner, self._factory()
                old.close()

            def close(self) -> None:
                self._inner.close()

        _transport_class = RestorableTransport
    return _transport_class
