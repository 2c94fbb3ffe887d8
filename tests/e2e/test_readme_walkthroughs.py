"""The README's walkthroughs, run by bash against the local runtime. Only the port, API key
and state folder of this test's runtime are substituted for the defaults."""

from __future__ import annotations

import json
import re
import subprocess

from .conftest import API_KEY, ROOT, Runtime


def run_walkthrough(runtime: Runtime, name: str) -> list[str]:
    """The lines printed by the README block between `<!-- {name}:start/end -->`."""
    markers = re.compile(rf"<!-- {name}:start -->\s*```bash\n(.*?)```\s*<!-- {name}:end -->", re.S)
    found = markers.search((ROOT / "README.md").read_text(encoding="utf-8"))
    assert found, f"README.md lost its {name} markers"
    events_file = runtime.state_dir / "events.jsonl"
    script = (
        found.group(1)
        .replace("http://127.0.0.1:3000", runtime.api_url)
        .replace("local-dev-key", API_KEY)
        .replace(".paygate/events.jsonl", str(events_file))
    )
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, (result.stdout, result.stderr, events_file.read_text()[-3000:])
    return result.stdout.splitlines()


def test_vietqr_walkthrough_works(runtime: Runtime) -> None:
    lines = run_walkthrough(runtime, "walkthrough")
    assert json.loads(lines[0])["status"] == "requires_action"
    assert json.loads(lines[2])["status"] == "succeeded"
    events = [json.loads(line) for line in lines[3:]]
    assert [e["status"] for e in events] == ["created", "requires_action", "succeeded"]


def test_smartglocal_walkthrough_works(runtime: Runtime) -> None:
    lines = run_walkthrough(runtime, "walkthrough-smartglocal")
    answers = [json.loads(line) for line in lines[:5]]
    assert [a.get("status") for a in answers] == [
        "pending",  # created
        "requires_confirmation",  # ready_to_confirm arrived
        "requires_confirmation",  # confirm answered; action_required follows
        None,  # the sandbox's pay answer (the payment_finished webhook it delivered)
        "succeeded",
    ]
    assert answers[3]["type"] == "payment_finished" and answers[3]["delivered"] is True
    events = [json.loads(line)["status"] for line in lines[5:]]
    assert events == [
        "created",
        "pending",
        "requires_confirmation",
        "requires_action",
        "succeeded",
    ]


def test_atm_walkthrough_works(runtime: Runtime) -> None:
    lines = run_walkthrough(runtime, "walkthrough-atm")
    created = json.loads(lines[0])
    assert created["status"] == "pending"
    assert lines[1].startswith("http://127.0.0.1:")  # the bank page
    assert json.loads(lines[2])["delivered"] is True
    assert json.loads(lines[3])["status"] == "succeeded"
    events = [json.loads(line)["status"] for line in lines[4:]]
    assert events == ["created", "pending", "requires_action", "succeeded"]


def test_nganluong_walkthrough_works(runtime: Runtime) -> None:
    lines = run_walkthrough(runtime, "walkthrough-nganluong")
    assert json.loads(lines[0])["status"] == "requires_action"
    assert json.loads(lines[2])["status"] == "succeeded"
    events = [json.loads(line)["status"] for line in lines[3:]]
    assert events == ["created", "requires_action", "succeeded"]


def test_monetix_walkthrough_works(runtime: Runtime) -> None:
    lines = run_walkthrough(runtime, "walkthrough-monetix")
    assert json.loads(lines[0])["status"] == "pending"
    waiting = json.loads(lines[1])
    assert waiting["next_action"]["type"] == "bank_transfer_instructions"
    assert json.loads(lines[3])["status"] == "succeeded"
    events = [json.loads(line)["status"] for line in lines[4:]]
    assert events == ["created", "pending", "requires_action", "succeeded"]


def test_payouts_walkthrough_works(runtime: Runtime) -> None:
    lines = run_walkthrough(runtime, "walkthrough-payouts")
    answers = [json.loads(line) for line in lines]
    created = [a for a in answers if str(a.get("id", "")).startswith("po_") and "version" in a]
    assert [a["status"] for a in created[:3]] == ["processing"] * 3
    assert "4242424242424242" not in "".join(lines)
    assert created[0]["destination"]["card"] == "424242******4242"
    assert answers[-4]["available"] > 0  # the balance
    assert [a["status"] for a in answers[-3:]] == ["succeeded", "failed", "succeeded"]
    assert answers[-2]["failure"]["provider_code"] == "3104"


def test_operations_walkthrough_finds_order_1001_and_resolves_a_review(runtime: Runtime) -> None:
    vietqr = json.loads(run_walkthrough(runtime, "walkthrough")[0])
    lines = run_walkthrough(runtime, "walkthrough-operations")
    found = json.loads(lines[0])
    assert vietqr["id"] in [p["id"] for p in found["data"]]
    assert {p["merchant_reference"] for p in found["data"]} == {"order-1001"}
    waiting = json.loads(lines[1])["data"]
    timeline = json.loads(lines[2])
    payment_id = timeline["payment_id"]
    assert payment_id in [p["id"] for p in waiting]
    changes = [e["to"] for e in timeline["entries"] if e["type"] == "status_change"]
    assert changes == ["created", "pending", "requires_action", "needs_review"]
    assert any(e["type"] == "callback" for e in timeline["entries"])
    reviewed = json.loads(lines[3])
    assert (reviewed["status"], reviewed["review"]["decision"]) == ("succeeded", "accept")
    events = [json.loads(line) for line in lines[4:]]
    assert [e["status"] for e in events] == [
        "created", "pending", "requires_action", "needs_review", "succeeded",
    ]  # fmt: skip
    assert events[-1]["cause"] == "merchant_action"
