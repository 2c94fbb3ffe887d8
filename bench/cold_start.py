"""Cold init per function as whole processes (median of repeated runs), against the baseline
`import boto3; boto3.client("dynamodb")` measured in the same run, interleaved."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from typing import Any

from bench.common import LAYER, ROOT

RUNS = 9
BASELINE = 'import boto3; boto3.client("dynamodb")'
EMPTY = "pass"


def lambda_like_environment(variables: dict[str, str]) -> dict[str, str]:
    """What a Lambda container has: region, credentials, the function's variables (resolved
    offline: nothing is called at import), tracing on."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "POWERTOOLS_", "PAYGATE_"))
    }
    env.update(
        {
            "AWS_DEFAULT_REGION": "ap-southeast-1",
            "AWS_REGION": "ap-southeast-1",
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_LAMBDA_FUNCTION_NAME": "bench",
            "PYTHONPATH": f"{ROOT}:{LAYER}",
        }
    )
    env.update(variables)
    return env


def time_process(code: str, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], env=env, check=True, cwd=ROOT)
    return time.perf_counter() - started


def import_breakdown(module: str, env: dict[str, str]) -> dict[str, float]:
    """Milliseconds spent executing each top-level package's modules while importing
    `module` (the self times of `python -X importtime`, summed per package), largest first."""
    answer = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        env=env, cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    totals: dict[str, float] = {}
    for line in answer.stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) != 3 or not parts[0].strip().isdigit():
            continue
        root = parts[2].strip().split(".")[0]
        totals[root] = totals.get(root, 0.0) + int(parts[0]) / 1000
    ranked = sorted(totals.items(), key=lambda item: -item[1])
    return {name: round(ms, 1) for name, ms in ranked[:10]}


def measure() -> dict[str, Any]:
    from local.provision import offline_environment
    from local.template import load_template

    template = load_template()
    functions = template.functions()
    envs = {
        f.logical_id: lambda_like_environment(offline_environment(template, f)) for f in functions
    }
    plain = lambda_like_environment({})
    samples: dict[str, list[float]] = {"baseline": [], "empty_interpreter": []}
    samples.update({f.logical_id: [] for f in functions})
    for _ in range(RUNS):  # interleaved, so drift hits every subject alike
        samples["empty_interpreter"].append(time_process(EMPTY, plain))
        samples["baseline"].append(time_process(BASELINE, plain))
        for function in functions:
            code = f"import {function.module}"
            samples[function.logical_id].append(time_process(code, envs[function.logical_id]))
    medians = {name: statistics.median(values) for name, values in samples.items()}
    empty = medians["empty_interpreter"]
    baseline = medians["baseline"]
    rows = {}
    for function in functions:
        own = medians[function.logical_id]
        rows[function.logical_id] = {
            "median_ms": round(own * 1000, 1),
            "baseline_ms": round(baseline * 1000, 1),
            "ratio": round(own / baseline, 2),
            "ratio_without_interpreter": round((own - empty) / (baseline - empty), 2),
        }
    webhook = next(f for f in functions if f.logical_id == "PayproWebhookFunction")
    return {
        "breakdown_function": webhook.logical_id,
        "breakdown_ms": import_breakdown(webhook.module, envs[webhook.logical_id]),
        "runs": RUNS,
        "empty_interpreter_ms": round(empty * 1000, 1),
        "baseline_ms": round(baseline * 1000, 1),
        "functions": rows,
        "target_ratio": 1.3,
    }
