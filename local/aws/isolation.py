"""Per-invocation state for functions that share this one process.

In Lambda each function has its own execution environment, so module and class state is
never seen by another function. Here every function of the template runs in one process, and
Powertools' event handler keeps the event being resolved on a class attribute
(`BaseRouter.current_event`, `BaseRouter.lambda_context`), one for every resolver in the
process: while one function's resolver validated a create, another function's invocation
could replace the event under it (a valid create then answered 422 naming a field of the
other request's body).

`install()` makes those two class attributes per invocation: backed by context variables, so
each invocation (its own thread, or a copy of its context in the threads it starts) reads the
event it set. Only the local runtime calls it; the deployed code is unchanged.
"""

from __future__ import annotations

import abc
from contextvars import ContextVar
from typing import Any

_ATTRIBUTES = ("current_event", "lambda_context")
_VARIABLES: dict[str, ContextVar[Any]] = {
    name: ContextVar(f"powertools_{name}") for name in _ATTRIBUTES
}


def _read(name: str) -> Any:
    try:
        return _VARIABLES[name].get()
    except LookupError:  # like the class attribute before any resolve set it
        raise AttributeError(name) from None


class _PerInvocation:
    """An instance attribute read from (and written to) this invocation's context."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, instance: object, owner: type | None = None) -> Any:
        return _read(self.name)

    def __set__(self, instance: object, value: Any) -> None:
        _VARIABLES[self.name].set(value)


def _class_attribute(name: str) -> property:
    """The same, for `BaseRouter.<name> = ...` and reads on the class."""

    def get(cls: type) -> Any:
        return _read(name)

    def put(cls: type, value: Any) -> None:
        _VARIABLES[name].set(value)

    return property(get, put)


class _RouterMeta(abc.ABCMeta):
    current_event = _class_attribute("current_event")
    lambda_context = _class_attribute("lambda_context")


def install() -> None:
    """Make Powertools' resolver state per invocation (idempotent)."""
    from aws_lambda_powertools.event_handler.api_gateway import BaseRouter

    if isinstance(BaseRouter, _RouterMeta):
        return
    for name in _ATTRIBUTES:
        setattr(BaseRouter, name, _PerInvocation(name))  # the instances' view
    # The class's view (`BaseRouter.current_event = ...`): its metaclass, swapped in place.
    BaseRouter.__class__ = _RouterMeta  # type: ignore[method-assign,assignment]
