"""One-off A/B, not part of `make bench`: the Paypro webhook's warm handler from the sources of
two trees (BEFORE_COMMIT checked out with `git archive`, and this one), each beside the peer,
interleaved, in the clean environment of bench/warm.py (`python -m bench.warm_before_after`,
writes bench/results/warm_before_after.json).
Separates what issue 15 added to the hot path (the history entry, the index attributes of the
generated UpdateExpression) from this machine's drift between two `make bench` runs.

Both trees run from source (task root `functions/paypro_webhook`, then the tree's
`layers/core`, then the layer build for third-party packages): the same for both."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import lambda_env
from bench.common import RESULTS, ROOT, use_repo_paths
from bench.write_cost import BEFORE_COMMIT

ROUNDS = 5
FUNCTION = "PayproWebhookFunction"


def _tree_environment(tree: Path, template: Any) -> dict[str, str]:
    from local.aws.provision import offline_environment

    function = next(f for f in template.functions() if f.logical_id == FUNCTION)
    task = tree / "functions" / "paypro_webhook"
    env = lambda_env.environment(task, offline_environment(template, function), FUNCTION)
    env["PYTHONPATH"] = f"{task}:{tree / 'layers' / 'core'}:{lambda_env.LAYER_BUILD}"
    return env


def main() -> None:
    use_repo_paths()
    from bench import warm
    from local.aws.provision import load_dev_secrets
    from local.aws.template import load_template

    template = load_template()
    secrets = load_dev_secrets()
    deliveries = warm.events(secrets)
    strings = warm.secret_strings(secrets)
    peer_env = warm.peer_environment(template)
    rows: dict[str, list[float]] = {"before": [], "after": []}
    when = datetime.now(UTC).isoformat(timespec="seconds")
    with tempfile.TemporaryDirectory() as folder:
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", BEFORE_COMMIT], capture_output=True, check=True
        )
        subprocess.run(["tar", "-x", "-C", folder], input=archive.stdout, check=True)
        trees = {"before": Path(folder), "after": ROOT}
        for _ in range(ROUNDS):
            for label, tree in trees.items():
                peer = warm._time(warm.PEER, deliveries[warm.PEER], peer_env, warm.NEUTRAL, strings)
                env = _tree_environment(tree, template)
                mine = warm._time(FUNCTION, deliveries[FUNCTION], env, warm.NEUTRAL, strings)
                assert mine["answer"].startswith("200"), mine
                rows[label].append(mine["p50_us"] / peer["p50_us"])
    result = {
        label: {
            "ratio_p50_median": round(statistics.median(r), 2),
            "ratios": [round(x, 2) for x in r],
        }
        for label, r in rows.items()
    }
    document = {"when": when, "before_commit": BEFORE_COMMIT, "rounds": ROUNDS, **result}
    text = json.dumps(document, indent=2) + "\n"
    (RESULTS / "warm_before_after.json").write_text(text, encoding="utf-8")
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
