"""The README's Smart Glocal walkthrough, run by bash against the local runtime. Only the
port, API key and state folder of this test's runtime are substituted for the defaults."""

from __future__ import annotations

import json
import re
import subprocess

from .conftest import API_KEY, ROOT, Runtime

MARKERS = re.compile(
    r"<!-- walkthrough-smartglocal:start -->\s*```bash\n(.*?)```\s*"
    r"<!-- walkthrough-smartglocal:end -->",
    re.S,
)


def walkthrough() -> str:
    found = MARKERS.search((ROOT / "README.md").read_text(encoding="utf-8"))
    assert found, "README.md lost its Smart Glocal walkthrough markers"
    return found.group(1)


def test_smartglocal_walkthrough_works(runtime: Runtime) -> None:
    script = (
        walkthrough()
        .replace("http://127.0.0.1:3000", runtime.api_url)
        .replace("local-dev-key", API_KEY)
        .replace(".paygate/events.jsonl", str(runtime.state_dir / "events.jsonl"))
    )
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, (result.stdout, result.stderr)
    lines = result.stdout.splitlines()
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
