"""The local runtime's settings, read from the environment once (`LocalConfig.from_env`).

PAYGATE_HOST                  127.0.0.1 (every server binds here)
PAYGATE_PORT                  3000: the API, checkout page, docs and `GET /`
PAYGATE_API_KEY               local-dev-key
PAYGATE_MOTO_PORT             4566
PAYGATE_PAYPRO_PORT           3101
PAYGATE_SMARTGLOCAL_PORT      0 (any free port), as are
PAYGATE_ECOMMPAY_PORT, PAYGATE_MONETIX_PORT
PAYGATE_ECOMMPAY_ATM_CHANNEL  2 (the local ecommpay project's NAPAS ATM channel)
PAYGATE_STATE_DIR             .paygate (events and handler logs)
PAYGATE_SECRETS_FILE          local/aws/dev_secrets.json (the dev-only provider secrets)
PAYGATE_SCHEDULE_SECONDS      unset: the template's schedule rates
PAYGATE_CLOCK                 real (time follows the wall clock) or manual (it moves only by
                              `POST /_local/clock`: what the e2e tests use)
PAYGATE_AWS_CALLS_FILE        unset; else every function's AWS calls are appended there
                              (the tests' IAM check, tests/iam/)
POWERTOOLS_LOG_LEVEL          INFO (the functions' log level)
PAYGATE_WEBSOCKET_PORT        0 (any free port): the status push's WebSocket API and its
                              management API (local/aws/websocket.py)
PAYGATE_VIEWER_PASSWORD       local-viewer-pass: the console's local operator
                              viewer@paygate.local (group viewer)
PAYGATE_REVIEWER_PASSWORD     local-reviewer-pass: reviewer@paygate.local (group reviewer)
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from local.aws.clock import Mode, mode_from_env

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SECRETS_FILE = ROOT / "local" / "aws" / "dev_secrets.json"
AtmChannel = Literal[1, 2]


def _port(environ: Mapping[str, str], name: str, default: int) -> int:
    text = environ.get(name, "").strip()
    if not text:
        return default
    try:
        port = int(text)
    except ValueError:
        raise ValueError(f"{name} must be a port number, not {text!r}") from None
    if not 0 <= port <= 65535:
        raise ValueError(f"{name} must be between 0 and 65535, not {port}")
    return port


def _atm_channel(environ: Mapping[str, str]) -> AtmChannel:
    text = environ.get("PAYGATE_ECOMMPAY_ATM_CHANNEL", "2").strip()
    if text not in ("1", "2"):
        raise ValueError(f"PAYGATE_ECOMMPAY_ATM_CHANNEL must be 1 or 2, not {text!r}")
    return 1 if text == "1" else 2


def _seconds(environ: Mapping[str, str], name: str) -> float | None:
    text = environ.get(name, "").strip()
    if not text:
        return None
    seconds = float(text)
    if not seconds > 0:
        raise ValueError(f"{name} must be a positive number of seconds, not {text!r}")
    return seconds


@dataclass(frozen=True)
class LocalOperator:
    """A user of the local operators' pool (local/aws/cognito.py): its sign-in name (an
    email, as the pool's usernames are), password and groups."""

    email: str
    password: str
    groups: tuple[str, ...]

    @property
    def user_id(self) -> str:
        """Stable across restarts (a Cognito `sub` is a UUID too)."""
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"paygate-local-operator:{self.email}"))


def _operators(environ: Mapping[str, str]) -> tuple[LocalOperator, ...]:
    return (
        LocalOperator(
            "viewer@paygate.local",
            environ.get("PAYGATE_VIEWER_PASSWORD") or "local-viewer-pass",
            ("viewer",),
        ),
        LocalOperator(
            "reviewer@paygate.local",
            environ.get("PAYGATE_REVIEWER_PASSWORD") or "local-reviewer-pass",
            ("reviewer",),
        ),
    )


@dataclass(frozen=True)
class SandboxPorts:
    """Where each provider sandbox listens (0: any free port)."""

    paypro: int = 3101
    smartglocal: int = 0
    ecommpay: int = 0
    monetix: int = 0


@dataclass(frozen=True)
class LocalConfig:
    host: str = "127.0.0.1"
    port: int = 3000
    api_key: str = "local-dev-key"
    moto_port: int = 4566
    sandbox_ports: SandboxPorts = SandboxPorts()
    atm_channel: AtmChannel = 2
    state_dir: Path = Path(".paygate")
    secrets_file: Path = DEFAULT_SECRETS_FILE
    schedule_seconds: float | None = None
    clock_mode: Mode = "real"
    aws_calls_file: Path | None = None
    log_level: str = "INFO"
    # API Gateway's stage throttle, "<rate>,<burst>" (empty: off; local/aws/throttle.py).
    throttle: str = ""
    # The status push's WebSocket API (local/aws/websocket.py); 0: any free port.
    websocket_port: int = 0
    # The console's local operators (local/aws/cognito.py).
    operators: tuple[LocalOperator, ...] = _operators({})

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> LocalConfig:
        """The settings from `environ` (default: this process's environment); a malformed
        value is a ValueError naming its variable."""
        env = os.environ if environ is None else environ
        calls = env.get("PAYGATE_AWS_CALLS_FILE", "").strip()
        return cls(
            host=env.get("PAYGATE_HOST", "127.0.0.1"),
            port=_port(env, "PAYGATE_PORT", 3000),
            api_key=env.get("PAYGATE_API_KEY", "local-dev-key"),
            moto_port=_port(env, "PAYGATE_MOTO_PORT", 4566),
            sandbox_ports=SandboxPorts(
                paypro=_port(env, "PAYGATE_PAYPRO_PORT", 3101),
                smartglocal=_port(env, "PAYGATE_SMARTGLOCAL_PORT", 0),
                ecommpay=_port(env, "PAYGATE_ECOMMPAY_PORT", 0),
                monetix=_port(env, "PAYGATE_MONETIX_PORT", 0),
            ),
            atm_channel=_atm_channel(env),
            state_dir=Path(env.get("PAYGATE_STATE_DIR", ".paygate")),
            secrets_file=Path(env.get("PAYGATE_SECRETS_FILE", str(DEFAULT_SECRETS_FILE))),
            schedule_seconds=_seconds(env, "PAYGATE_SCHEDULE_SECONDS"),
            clock_mode=mode_from_env(env.get("PAYGATE_CLOCK")),
            aws_calls_file=Path(calls) if calls else None,
            log_level=env.get("POWERTOOLS_LOG_LEVEL", "INFO"),
            throttle=env.get("PAYGATE_THROTTLE", ""),
            websocket_port=_port(env, "PAYGATE_WEBSOCKET_PORT", 0),
            operators=_operators(env),
        )

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def moto_url(self) -> str:
        return f"http://{self.host}:{self.moto_port}"

    @property
    def events_file(self) -> Path:
        return self.state_dir / "events.jsonl"

    @property
    def log_file(self) -> Path:
        return self.state_dir / "lambda.log"
