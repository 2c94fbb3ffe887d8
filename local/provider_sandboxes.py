"""The four provider sandboxes the local runtime starts (local/sandboxes/), each with its dev
credentials and the gateway's webhook route as its callback URL, on the shared local clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from local.aws.clock import LocalClock
from local.config import LocalConfig

PLATFORM_PROVIDERS: tuple[Literal["ecommpay", "monetix"], ...] = ("ecommpay", "monetix")


class _Sandbox(Protocol):
    @property
    def base_url(self) -> str: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...


@dataclass
class ProviderSandboxes:
    """The running sandboxes by provider name (paypro first)."""

    by_name: dict[str, _Sandbox] = field(default_factory=dict)

    @property
    def urls(self) -> dict[str, str]:
        return {name: sandbox.base_url for name, sandbox in self.by_name.items()}

    def function_environment(self, config: LocalConfig) -> dict[str, str]:
        """The functions' provider URLs pointed at the sandboxes (the template's defaults are
        the providers' real hosts)."""
        urls = self.urls
        return {
            "PAYPRO_BASE_URL": urls["paypro"],
            "SMARTGLOCAL_BASE_URL": urls["smartglocal"],
            "ECOMMPAY_GATE_URL": urls["ecommpay"],
            "ECOMMPAY_PAYMENT_PAGE_URL": f"{urls['ecommpay']}/payment",
            "ECOMMPAY_ATM_CHANNEL": str(config.atm_channel),
            "MONETIX_GATE_URL": urls["monetix"],
            "MONETIX_PAYMENT_PAGE_URL": f"{urls['monetix']}/payment",
            "WEBHOOK_BASE_URL": config.api_url,
        }

    def stop(self) -> None:
        for sandbox in self.by_name.values():
            sandbox.stop()


def start_sandboxes(
    config: LocalConfig, secrets: dict[str, Any], clock: LocalClock
) -> ProviderSandboxes:
    """Start every sandbox. Smart Glocal's key pairs are generated here and seeded into
    `secrets["SmartglocalSecret"]`: call this before provisioning writes the secrets."""
    from local.sandboxes.paypro import PayproSandbox, SandboxConfig
    from local.sandboxes.platform import PlatformSandbox, PlatformSandboxConfig
    from local.sandboxes.smartglocal import seeded_sandbox

    ports = config.sandbox_ports
    paypro_secret = secrets["PayproSecret"]
    running = ProviderSandboxes()
    running.by_name["paypro"] = PayproSandbox(
        SandboxConfig(
            merchant_no=paypro_secret["merchant_no"], app_secret=paypro_secret["app_secret"]
        ),
        host=config.host,
        port=ports.paypro,
        now=clock.now,
        timers=clock,
    )
    running.by_name["smartglocal"] = seeded_sandbox(
        secrets,
        config.host,
        ports.smartglocal,
        webhook_url=f"{config.api_url}/webhooks/smartglocal",
        now=clock.now,
        timers=clock,
    )
    for provider in PLATFORM_PROVIDERS:
        secret = secrets[f"{provider.capitalize()}Secret"]
        platform_config = PlatformSandboxConfig(
            provider=provider,
            project_id=int(secret["project_id"]),
            secret_key=secret["secret_key"],
            callback_url=f"{config.api_url}/webhooks/{provider}",
            atm_channel=config.atm_channel,
        )
        port = ports.ecommpay if provider == "ecommpay" else ports.monetix
        running.by_name[provider] = PlatformSandbox(
            platform_config, config.host, port, now=clock.now, timers=clock
        )
    for sandbox in running.by_name.values():
        sandbox.start()
    return running
