"""The README's VietQR walkthrough, run by bash against the local runtime. Only the port,
API key and state folder of this test's runtime are substituted for the defaults."""

from __future__ import annotations

import re
import subprocess

from .conftest import API_KEY, ROOT, Runtime

MARKERS = re.compile(
    r"<!-- walkthrough:start -->\s*```bash\n(.*?)```\s*<!-- walkthrough:end -->", re.S
)


def walkthrough() -> str:
    found = MARKERS.search((ROOT / "README.md").read_text(encoding="utf-8"))
    assert found, "README.md lost its walkthrough markers"
    return found.group(1)


def test_readme_walkthrough_works(runtime: Runtime) -> None:
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
    events_file = runtime.state_dir / "events.jsonl"
    assert result.returncode == 0, (result.stdout, result.stderr, events_file.read_text()[-3000:])
    lines = result.stdout.splitlines()
    assert '"status":"requires_action"' in lines[0]
    assert '"status":"succeeded"' in lines[2]
    events = [line for line in lines[3:] if '"type":"payment.status_changed"' in line]
    assert [re.search(r'"status":"(\w+)"', e).group(1) for e in events] == [  # type: ignore[union-attr]
        "created",
        "requires_action",
        "succeeded",
    ]
