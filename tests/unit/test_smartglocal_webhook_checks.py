"""What a Smart Glocal webhook must be beyond its RSA signature: strict in every field the gateway
reads (the documented examples pass, every one-field format mutation and every unknown top-level
key is refused, Smart Glocal's additions inside the session are kept), fresh (its signed
`session.updated_at` within `max_age`, at most `MAX_CLOCK_SKEW` ahead), confirmed by
`session/status` when `SMARTGLOCAL_CONFIRM_BY_QUERY` is on; and the sandbox signs its webhooks
at the time on its clock."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, get_args

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from local.aws.clock import LocalClock
from local.sandboxes.smartglocal import SandboxConfig, SmartglocalSandbox
from paygate import wiring
from paygate.domain import (
    PAYMENT_ID_PATTERN,
    Method,
    Payment,
    PaymentStatus,
    Provider,
    ProviderUpdate,
    WebhookOutcome,
    new_payment_id,
)
from paygate.errors import MalformedRequest, ProviderError
from paygate.ledger import Ledger
from paygate.providers.smartglocal import signing
from paygate.providers.smartglocal.transformers import (
    AcquiringStatus,
    SessionStatus,
    Webhook,
    update_from_session,
)
from paygate.providers.smartglocal.webhook import SmartglocalWebhooks
from paygate.settings import SettingsError, SmartglocalSettings, load_settings
from paygate.webhooks import MAX_CLOCK_SKEW, WebhookChecks, ingest
from tests.support.memory import MemoryRepository
from tests.support.smartglocal_documents import (
    EVENTS,
    MUTATIONS,
    PAYMENT,
    PAYMENT_ID,
    PROVIDER_ADDITIONS,
    UNKNOWN_TOP_LEVEL_KEYS,
    WEBHOOKS,
    documented,
    field_name,
    mutated,
    mutation_id,
)
from tests.unit.test_smartglocal_signing import PRIVATE, PUBLIC

NOW = datetime(2026, 12, 7, 18, 0, tzinfo=UTC)
MAX_AGE = timedelta(hours=24)
FINISHED = "webhook-payment-finished.json"
SESSION_STATUSES = set(get_args(SessionStatus))
PAYMENT_STATUSES = set(get_args(AcquiringStatus))


def refused_field(document: Any) -> str:
    with pytest.raises(ValidationError) as refused:
        Webhook.model_validate(document)
    return ".".join(str(part) for part in refused.value.errors()[0]["loc"])


# -- the strict model ------------------------------------------------------------------------


@pytest.mark.parametrize("name", [*WEBHOOKS, "start-payment-response.json"])
def test_every_documented_webhook_passes_as_documented_and_as_we_receive_it(name: str) -> None:
    as_documented = json.loads((EVENTS / name).read_text(encoding="utf-8"))
    Webhook.model_validate(as_documented)
    if name in WEBHOOKS:
        assert Webhook.model_validate(documented(name)).session.our_payment_id() == PAYMENT_ID


def test_the_documented_status_sets_are_smart_glocal_s() -> None:
    """The objects reference: five session statuses (two spellings of cancelled), four
    acquiring payment statuses."""
    assert {
        "created", "in_progress", "accepted", "cancelled", "canceled", "error"
    } == SESSION_STATUSES  # fmt: skip
    assert {"in_progress", "pending", "succeeded", "failed"} == PAYMENT_STATUSES


@pytest.mark.parametrize("case", MUTATIONS, ids=[mutation_id(case) for case in MUTATIONS])
def test_every_one_field_format_mutation_is_refused_naming_the_field(
    case: tuple[tuple[str | int, ...], Any],
) -> None:
    path, value = case
    assert refused_field(mutated(documented(FINISHED), path, value)).startswith(field_name(path))


@pytest.mark.parametrize("key", UNKNOWN_TOP_LEVEL_KEYS)
def test_an_unknown_top_level_key_is_refused(key: str) -> None:
    assert refused_field({**documented(FINISHED), key: "payment:status:success"}) == key


@given(
    key=st.text(min_size=1, max_size=20).filter(lambda k: k not in {"type", "status", "session"})
)
def test_any_top_level_key_but_the_documented_three_is_refused(key: str) -> None:
    assert refused_field({**documented(FINISHED), key: None}) == key


@pytest.mark.parametrize("case", PROVIDER_ADDITIONS, ids=mutation_id)
def test_smart_glocal_s_additions_inside_the_session_are_kept(
    case: tuple[tuple[str | int, ...], Any],
) -> None:
    path, value = case
    Webhook.model_validate(mutated(documented(FINISHED), path, value))


@given(text=st.text(max_size=16) | st.sampled_from(sorted(SESSION_STATUSES | PAYMENT_STATUSES)))
def test_a_status_is_read_only_when_documented(text: str) -> None:
    for path, allowed in (
        (("session", "status"), SESSION_STATUSES),
        ((*PAYMENT, "status"), PAYMENT_STATUSES),
    ):
        document = mutated(documented(FINISHED), path, text)
        if text in allowed:
            Webhook.model_validate(document)
        else:
            assert refused_field(document) == field_name(path)


@given(value=st.integers(min_value=-(10**18), max_value=10**18) | st.floats() | st.text(max_size=8))
def test_an_amount_is_read_only_as_whole_positive_digits(value: Any) -> None:
    path = (*PAYMENT, "amount_details", "amount")
    document = mutated(documented(FINISHED), path, value)
    if isinstance(value, int) and 1 <= value <= 10**15:
        assert Webhook.model_validate(document).session.payment.amount_details.amount == value  # type: ignore[union-attr]
    else:
        assert refused_field(document) == field_name(path)


@given(text=st.text(max_size=40))
def test_our_payment_id_is_read_only_in_our_format(text: str) -> None:
    path = (*PAYMENT, "metadata", "paygate_payment_id")
    document = mutated(documented(FINISHED), path, text)
    try:
        webhook = Webhook.model_validate(document)
    except ValidationError:
        return
    assert webhook.session.our_payment_id() == text
    assert text.startswith(("pay_", "po_")) and text.isascii() and "\n" not in text


def test_the_payment_id_pattern_is_what_new_payment_id_makes() -> None:
    import re

    for _ in range(50):
        assert re.fullmatch(PAYMENT_ID_PATTERN, new_payment_id())
    assert not re.fullmatch(PAYMENT_ID_PATTERN, "pay_bench")


# -- freshness, through the one webhook flow -------------------------------------------------


def ledger_with_payment(status: PaymentStatus = PaymentStatus.REQUIRES_ACTION) -> Ledger:
    repository = MemoryRepository()
    repository.create(
        Payment(
            id=PAYMENT_ID,
            provider=Provider.SMARTGLOCAL,
            method=Method.EWALLET,
            amount=100000,
            merchant_reference="o-1",
            status=status,
            provider_reference="ps_5666",
            created_at=NOW - timedelta(days=1),
            updated_at=NOW - timedelta(days=1),
        )
    )
    return Ledger(repository, clock=lambda: NOW)  # type: ignore[arg-type]


def contract(
    ledger: Ledger, checks: WebhookChecks | None = None, query: Any = None
) -> SmartglocalWebhooks:
    return SmartglocalWebhooks(
        lambda: [PUBLIC],
        1,
        lambda payment, session: None,
        checks=checks if checks is not None else WebhookChecks(max_age=MAX_AGE),
        query=query,
    )


def signed_at(at: datetime, name: str = FINISHED) -> tuple[bytes, dict[str, str]]:
    document = documented(name)
    document["session"]["updated_at"] = at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    raw = json.dumps(document).encode()
    return raw, {"X-PARTNER-SIGN": signing.sign(raw, PRIVATE)}


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(offset=st.integers(min_value=-3 * 86_400, max_value=3_600))
def test_a_webhook_counts_only_within_its_age_and_the_clock_skew(offset: int) -> None:
    """`offset`: seconds from our clock to the signed `session.updated_at` (negative: past)."""
    ledger = ledger_with_payment()
    raw, headers = signed_at(NOW + timedelta(seconds=offset))
    fresh = -MAX_AGE.total_seconds() <= offset <= MAX_CLOCK_SKEW.total_seconds()
    if fresh:
        assert ingest(ledger, contract(ledger), raw, headers) is WebhookOutcome.APPLIED
        assert ledger.get(PAYMENT_ID).status is PaymentStatus.SUCCEEDED
        return
    with pytest.raises(MalformedRequest) as refused:
        ingest(ledger, contract(ledger), raw, headers)
    assert refused.value.field == "session.updated_at"
    assert ledger.repository.webhooks == {}  # type: ignore[attr-defined]
    assert ledger.get(PAYMENT_ID).version == 1


def test_a_webhook_far_ahead_is_refused_even_without_an_age_limit() -> None:
    ledger = ledger_with_payment()
    raw, headers = signed_at(NOW + MAX_CLOCK_SKEW + timedelta(seconds=1))
    with pytest.raises(MalformedRequest, match="ahead of the gateway's clock"):
        ingest(ledger, contract(ledger, WebhookChecks()), raw, headers)


def test_metadata_naming_two_payments_is_refused() -> None:
    ledger = ledger_with_payment()
    document = documented(FINISHED)
    document["session"]["metadata"] = {"paygate_payment_id": "pay_20261207000000abcdef0123"}
    document["session"]["updated_at"] = NOW.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    raw = json.dumps(document).encode()
    with pytest.raises(MalformedRequest) as refused:
        ingest(ledger, contract(ledger), raw, {"X-PARTNER-SIGN": signing.sign(raw, PRIVATE)})
    assert refused.value.field == "session.metadata.paygate_payment_id"


# -- confirmation by session/status ------------------------------------------------------------


class Query:
    """`session/status` as the contract sees it: `answer` mapped, or a `ProviderError`."""

    def __init__(self, answer: ProviderUpdate | None) -> None:
        self.answer = answer
        self.calls: list[tuple[str, str]] = []

    def __call__(self, payment_id: str, session_id: str) -> ProviderUpdate:
        self.calls.append((payment_id, session_id))
        if self.answer is None:
            raise ProviderError("Smart Glocal did not answer session/status")
        return self.answer


def session_update(session_status: str, payment_status: str) -> ProviderUpdate:
    document = documented(FINISHED)
    document["session"]["status"] = session_status
    document["session"]["acquiring_payments"][0]["status"] = payment_status
    return update_from_session(Webhook.model_validate(document).session)


@pytest.fixture
def confirming() -> Iterator[WebhookChecks]:
    yield WebhookChecks(max_age=MAX_AGE, confirm=True)


def test_off_the_success_counts_without_a_query(confirming: WebhookChecks) -> None:
    ledger, query = ledger_with_payment(), Query(None)
    raw, headers = signed_at(NOW)
    assert ingest(ledger, contract(ledger, query=query), raw, headers) is WebhookOutcome.APPLIED
    assert query.calls == [] and ledger.get(PAYMENT_ID).status is PaymentStatus.SUCCEEDED


def test_on_a_success_the_query_confirms_counts(confirming: WebhookChecks) -> None:
    ledger, query = ledger_with_payment(), Query(session_update("accepted", "succeeded"))
    raw, headers = signed_at(NOW)
    outcome = ingest(ledger, contract(ledger, confirming, query), raw, headers)
    assert outcome is WebhookOutcome.APPLIED
    assert query.calls == [(PAYMENT_ID, "ps_5666")]
    assert ledger.get(PAYMENT_ID).status is PaymentStatus.SUCCEEDED


def test_on_with_the_query_down_the_webhook_waits_unconfirmed(
    confirming: WebhookChecks,
) -> None:
    ledger, query = ledger_with_payment(), Query(None)
    raw, headers = signed_at(NOW)
    outcome = ingest(ledger, contract(ledger, confirming, query), raw, headers)
    assert outcome is WebhookOutcome.UNCONFIRMED
    payment = ledger.get(PAYMENT_ID)
    assert (payment.status, payment.version) == (PaymentStatus.REQUIRES_ACTION, 1)
    (stored,) = ledger.repository.webhooks.values()  # type: ignore[attr-defined]
    assert stored.outcome is WebhookOutcome.UNCONFIRMED


def test_on_the_query_s_word_wins_over_the_webhook_s(confirming: WebhookChecks) -> None:
    ledger, query = ledger_with_payment(), Query(session_update("in_progress", "pending"))
    raw, headers = signed_at(NOW)
    ingest(ledger, contract(ledger, confirming, query), raw, headers)
    assert ledger.get(PAYMENT_ID).status is PaymentStatus.REQUIRES_ACTION


def test_on_a_webhook_without_our_id_is_confirmed_for_the_payment_of_its_session(
    confirming: WebhookChecks,
) -> None:
    ledger, query = ledger_with_payment(), Query(None)
    document = json.loads((EVENTS / FINISHED).read_text(encoding="utf-8"))  # {"key": "value"}
    document["session"]["updated_at"] = NOW.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    raw = json.dumps(document).encode()
    headers = {"X-PARTNER-SIGN": signing.sign(raw, PRIVATE)}
    outcome = ingest(ledger, contract(ledger, confirming, query), raw, headers)
    assert outcome is WebhookOutcome.UNCONFIRMED and query.calls == [(PAYMENT_ID, "ps_5666")]
    assert ledger.get(PAYMENT_ID).status is PaymentStatus.REQUIRES_ACTION


def test_the_settings_reach_the_contract(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "PAYMENTS_TABLE": "t",
        "SMARTGLOCAL_SECRET_ID": "s",
        "SMARTGLOCAL_BASE_URL": "http://127.0.0.1:9",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("SMARTGLOCAL_WEBHOOK_MAX_AGE_HOURS", raising=False)
    monkeypatch.delenv("SMARTGLOCAL_CONFIRM_BY_QUERY", raising=False)
    defaults = wiring.smartglocal(load_settings(SmartglocalSettings)).webhook_contract.checks
    assert defaults == WebhookChecks(max_age=timedelta(hours=24), confirm=False)
    monkeypatch.setenv("SMARTGLOCAL_WEBHOOK_MAX_AGE_HOURS", "2")
    monkeypatch.setenv("SMARTGLOCAL_CONFIRM_BY_QUERY", "true")
    turned = wiring.smartglocal(load_settings(SmartglocalSettings)).webhook_contract.checks
    assert turned == WebhookChecks(max_age=timedelta(hours=2), confirm=True)


def test_the_age_limit_may_not_outlive_the_dedupe_records(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "PAYMENTS_TABLE": "t",
        "SMARTGLOCAL_SECRET_ID": "s",
        "SMARTGLOCAL_BASE_URL": "http://127.0.0.1:9",
        "WEBHOOK_RETENTION_DAYS": "1",
        "SMARTGLOCAL_WEBHOOK_MAX_AGE_HOURS": "24",
    }.items():
        monkeypatch.setenv(name, value)
    assert load_settings(SmartglocalSettings).smartglocal_webhook_max_age_hours == 24
    monkeypatch.setenv("SMARTGLOCAL_WEBHOOK_MAX_AGE_HOURS", "24.5")
    with pytest.raises(SettingsError, match="SMARTGLOCAL_WEBHOOK_MAX_AGE_HOURS"):
        load_settings(SmartglocalSettings)


# -- the sandbox: webhooks signed at the time on its clock -------------------------------------


def test_the_sandbox_stamps_each_webhook_with_its_clock_s_time() -> None:
    clock = LocalClock("manual")
    clock.start()
    sandbox = SmartglocalSandbox(SandboxConfig(), now=clock.now, timers=clock)
    try:
        request = json.loads((EVENTS / "start-payment-request.json").read_text(encoding="utf-8"))
        request.pop("session_id")
        headers = {"x-partner-project": "local-project"}
        answer = sandbox.call("init/payment", headers, json.dumps(request).encode())
        session_id = json.loads(answer.body)["session"]["id"]
        started = clock.now()
        clock.advance(7200)
        sandbox.call("confirm", headers, json.dumps({"session_id": session_id}).encode())
        stamps = [
            datetime.fromisoformat(json.loads(body)["session"]["updated_at"])
            for _, body, _ in sandbox.webhooks(session_id)
        ]
        assert stamps == [started, started + timedelta(hours=2)]  # ready_to_confirm, action
    finally:
        sandbox.stop()
        clock.stop()
