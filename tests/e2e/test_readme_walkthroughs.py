"""The documented walkthroughs, run by bash against the local runtime: the README's own and
those on the docs pages (docs/**/*.md), each the one bash block between its
`<!-- {name}:start -->` and `<!-- {name}:end -->` markers. Only the port, API key and state
folder of this test's runtime are substituted for the defaults."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from .conftest import API_KEY, ROOT, Runtime, gate_flows

DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
BASH_BLOCK = re.compile(r"```bash\n(.*?)```", re.S)


def walkthrough_script(name: str, documents: list[Path] = DOCUMENTS) -> str:
    """The one bash block between `<!-- {name}:start/end -->`, in exactly one document."""
    markers = re.compile(
        rf"<!-- {re.escape(name)}:start -->(.*?)<!-- {re.escape(name)}:end -->", re.S
    )
    found = [
        (path, match.group(1))
        for path in documents
        for match in markers.finditer(path.read_text(encoding="utf-8"))
    ]
    assert len(found) == 1, f"the {name} markers must be in exactly one document: {found}"
    path, between = found[0]
    blocks = BASH_BLOCK.findall(between)
    assert len(blocks) == 1, f"{path.name}: {name} holds {len(blocks)} bash blocks"
    return str(blocks[0])


def run_walkthrough(runtime: Runtime, name: str) -> list[str]:
    """The lines printed by the walkthrough `name`."""
    events_file = runtime.state_dir / "events.jsonl"
    script = (
        walkthrough_script(name)
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


def test_the_vietqr_walkthrough_is_the_readme_s(tmp_path: Path) -> None:
    """The README keeps its one walkthrough; a lost, doubled or emptied block is caught."""
    assert "<!-- walkthrough:start -->" in (ROOT / "README.md").read_text(encoding="utf-8")
    assert "curl" in walkthrough_script("walkthrough")
    page = tmp_path / "page.md"
    page.write_text("<!-- x:start -->\n```bash\necho 1\n```\n<!-- x:end -->\n")
    assert walkthrough_script("x", [page]) == "echo 1\n"
    for broken in ("", "<!-- x:start -->\nno block\n<!-- x:end -->\n"):
        page.write_text(broken)
        with pytest.raises(AssertionError):
            walkthrough_script("x", [page])


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


# A Gate payment's create answers `requires_action` when the provider's first callback overtook
# it (`gate_flows`).
OPENING = ("pending", "requires_action")


def test_atm_walkthrough_works(runtime: Runtime) -> None:
    lines = run_walkthrough(runtime, "walkthrough-atm")
    created = json.loads(lines[0])
    assert created["status"] in OPENING
    assert lines[1].startswith("http://127.0.0.1:")  # the bank page
    assert json.loads(lines[2])["delivered"] is True
    assert json.loads(lines[3])["status"] == "succeeded"
    events = [json.loads(line)["status"] for line in lines[4:]]
    assert events in gate_flows("succeeded")


def test_nganluong_walkthrough_works(runtime: Runtime) -> None:
    lines = run_walkthrough(runtime, "walkthrough-nganluong")
    assert json.loads(lines[0])["status"] == "requires_action"
    assert json.loads(lines[2])["status"] == "succeeded"
    events = [json.loads(line)["status"] for line in lines[3:]]
    assert events == ["created", "requires_action", "succeeded"]


def test_monetix_walkthrough_works(runtime: Runtime) -> None:
    lines = run_walkthrough(runtime, "walkthrough-monetix")
    assert json.loads(lines[0])["status"] in OPENING
    waiting = json.loads(lines[1])
    assert waiting["next_action"]["type"] == "bank_transfer_instructions"
    assert json.loads(lines[3])["status"] == "succeeded"
    events = [json.loads(line)["status"] for line in lines[4:]]
    assert events in gate_flows("succeeded")


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
    assert changes in gate_flows("needs_review")
    assert any(e["type"] == "callback" for e in timeline["entries"])
    reviewed = json.loads(lines[3])
    assert (reviewed["status"], reviewed["review"]["decision"]) == ("succeeded", "accept")
    assert reviewed["review"]["reviewed_by_email"] == "reviewer@paygate.local"  # who signed in
    events = [json.loads(line) for line in lines[4:]]
    assert [e["status"] for e in events] in gate_flows("needs_review", "succeeded")
    assert events[-1]["cause"] == "merchant_action"
