"""docs/privacy.md is true to the code: every personal field the request, stored and event
models carry (and every key the masking treats as personal) is named in its inventory, and
the retention figures it gives are the settings' defaults."""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from types import ModuleType

from pydantic import BaseModel

from paygate import api_requests, domain, events, records
from paygate.masking import PERSONAL_KEYS, SENSITIVE_KEYS
from paygate.settings import PAYOUT_DESTINATION_RETENTION_DAYS, WEBHOOK_RETENTION_DAYS

PAGE = Path(__file__).resolve().parents[2] / "docs" / "privacy.md"
MODULES: tuple[ModuleType, ...] = (api_requests, domain, records, events)
# Models that describe a person: every field is personal.
PERSON_MODELS = frozenset({"Customer", "SmartglocalCustomer", "PayoutCustomer", "Card"})
# Any other field whose name says it may hold a person's data (or free text about one).
PERSONAL_NAME = re.compile(
    r"email|phone|name|holder|account|card|customer|ip_address|document|pan|reviewed_by|"
    r"actor|note|description|metadata|destination|next_action|body|fields|number"
)


def _inherited(model: type[BaseModel]) -> set[str]:
    """The fields `model` takes from a model it extends without declaring them again (they
    are named there)."""
    own = vars(model).get("__annotations__", {})
    return {field for field in model.model_fields if field not in own}


def personal_fields() -> set[str]:
    """`Model.field` for every personal field of the walked modules' pydantic models."""
    found: set[str] = set()
    for module in MODULES:
        for name, model in inspect.getmembers(module, inspect.isclass):
            if not issubclass(model, BaseModel) or model.__module__ != module.__name__:
                continue
            for field in model.model_fields:
                if field in _inherited(model):
                    continue
                if name in PERSON_MODELS or PERSONAL_NAME.search(field):
                    found.add(f"{name}.{field}")
    return found


def test_every_personal_field_is_in_the_inventory() -> None:
    page = PAGE.read_text(encoding="utf-8")
    missing = sorted(field for field in personal_fields() if f"`{field}`" not in page)
    assert not missing, f"docs/privacy.md does not name: {', '.join(missing)}"


def test_the_inventory_check_sees_a_new_personal_field() -> None:
    class Extra(BaseModel):
        customer_nickname: str

    assert PERSONAL_NAME.search("customer_nickname")
    assert "`Extra.customer_nickname`" not in PAGE.read_text(encoding="utf-8")
    assert len(personal_fields()) > 40


def test_every_masked_and_erased_key_is_listed() -> None:
    page = PAGE.read_text(encoding="utf-8")
    missing = sorted(key for key in PERSONAL_KEYS | SENSITIVE_KEYS if f"`{key}`" not in page)
    assert not missing, f"docs/privacy.md does not list the keys: {', '.join(missing)}"


def test_the_retention_figures_are_the_defaults() -> None:
    page = PAGE.read_text(encoding="utf-8")
    assert f"`WEBHOOK_RETENTION_DAYS` ({WEBHOOK_RETENTION_DAYS} days" in page
    assert f"`PAYOUT_DESTINATION_RETENTION_DAYS` ({PAYOUT_DESTINATION_RETENTION_DAYS} days" in page
    assert "Decree 13/2023/ND-CP" in page
