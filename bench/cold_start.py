"""Cold init per function as whole fresh processes in the Lambda-like environment
(bench/lambda_env.py: the clean .venv-bench, the `sam build` artifact as task root, the
layer's build), including the AWS clients the first invocation creates. Beside them, in
the same run and interleaved so drift hits every subject alike: the peer (bench/peer/app.py,
a plain Powertools handler with the same features) and bare `boto3.client("dynamodb")`.

Each process ends without the interpreter's finalization (bench/lambda_child.py): Lambda
discards an environment, it never shuts one down, so teardown is no part of a cold start.

Each run starts the handler at one of `DEPTHS` extra stack frames. CPython 3.13.0 (this
machine's) frees a frame-stack chunk as soon as it empties and maps a new one on the next
call, so code that keeps calling across a chunk's edge pays a page fault per call
(python/cpython gh-142183; 3.13's fix, one cached chunk, was merged on 2026-03-18, and
Lambda's python3.13 runtime follows the 3.13 patch releases). Where that edge falls depends on
the depth the import starts at, not on the code being measured: at an unlucky depth the
same import costs 20-30 ms more CPU and about 3,000 more minor page faults. A subject's
figure is therefore the median of its runs at the depth where it faulted least."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import lambda_env, warm

RUNS = 12
DEPTHS = (0, 11, 23)  # extra frames under the handler's import, a run each in turn
NEUTRAL = Path("/")  # not a task root: sys.path[0] of `python -c` is the working folder
PEER = "PeerFunction"
PEER_FIRST = "PeerFunction (first invocation)"
PEER_UNTRACED_FIRST = "PeerFunction without Tracer (first invocation)"
REFERENCES = (PEER, PEER_FIRST, PEER_UNTRACED_FIRST, "bare_boto3", "empty_interpreter")
WEBHOOK_BREAKDOWN = "PayproWebhookFunction"


def first_invocation_clients(variables: dict[str, str]) -> str:
    """The clients a function's first invocation creates, from what its environment names:
    the payments table (the repository's DynamoDB client), a provider secret (Powertools'
    Secrets Manager provider), a provider URL (the pooled httpx client, made on the first
    outbound call), the status topic (the publisher's SNS client). The
    idempotency table's client is made at import by Powertools' persistence layer."""
    clients = []
    if "PAYMENTS_TABLE" in variables:
        clients.append("dynamodb")
    if any(key.endswith("_SECRET_ID") for key in variables):
        clients.append("secrets")
    if any(key.endswith(("_BASE_URL", "_GATE_URL")) for key in variables):
        clients.append("http")
    if "STATUS_TOPIC_ARN" in variables:
        clients.append("sns")
    return ",".join(clients)


def run_timed(command: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, int]:
    """Wall seconds, the CPU seconds (user + system) the process used, and its minor page
    faults: on a shared machine the wall time also counts the wait for a core, the CPU
    time does not."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise subprocess.CalledProcessError(process.returncode, command)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_minflt


def least_faulting(samples: list[tuple[int, float, float, int]]) -> dict[str, float]:
    """Medians of wall and CPU at the depth whose runs faulted least (median minor faults),
    beside the median over every run and that depth's fault excess."""
    by_depth: dict[int, list[tuple[float, float, int]]] = {}
    for depth, wall, cpu, faults in samples:
        by_depth.setdefault(depth, []).append((wall, cpu, faults))
    faults_at = {d: statistics.median(f for _, _, f in runs) for d, runs in by_depth.items()}
    best = min(faults_at, key=lambda depth: faults_at[depth])
    chosen = by_depth[best]
    return {
        "depth": best,
        "wall": statistics.median(w for w, _, _ in chosen),
        "cpu": statistics.median(c for _, c, _ in chosen),
        "cpu_all_runs": statistics.median(c for _, _, c, _ in samples),
        "extra_faults_worst_depth": max(faults_at.values()) - faults_at[best],
    }


def import_breakdown(env: dict[str, str], cwd: Path, depth: int) -> dict[str, float]:
    """Milliseconds spent executing each top-level package's modules while importing the
    handler (the self times of `python -X importtime`, summed per package), largest first;
    imported through the bench child at the depth its figure was taken at."""
    command = lambda_env.child("cold", "")
    command.insert(1, "-X")
    command.insert(2, "importtime")
    env = {**env, "BENCH_STACK_DEPTH": str(depth)}
    answer = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, check=True)
    totals: dict[str, float] = {}
    for line in answer.stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) != 3 or not parts[0].strip().isdigit():
            continue
        root = parts[2].strip().split(".")[0]
        totals[root] = totals.get(root, 0.0) + int(parts[0]) / 1000
    ranked = sorted(totals.items(), key=lambda item: -item[1])
    return {name: round(ms, 1) for name, ms in ranked[:12]}


def write_spec(folder: Path, name: str, event: dict[str, Any], secrets: dict[str, str]) -> str:
    path = folder / f"{name}.json"
    path.write_text(json.dumps({"event": event, "secrets": secrets}), encoding="utf-8")
    return str(path)


def measure() -> dict[str, Any]:
    from local.aws.provision import load_dev_secrets, offline_environment
    from local.aws.template import load_template

    template = load_template()
    dev_secrets = load_dev_secrets()
    events, secrets = warm.events(dev_secrets), warm.secret_strings(dev_secrets)
    folder = Path(tempfile.mkdtemp(prefix="paygate-bench-"))
    subjects: dict[str, tuple[list[str], dict[str, str], Path]] = {}
    kinds: dict[str, str] = {}
    for function in template.functions():
        name = function.logical_id
        task = lambda_env.task_root(name)
        variables = offline_environment(template, function)
        env = lambda_env.environment(task, variables, name)
        if name in events:  # a webhook: its first invocation calls no provider
            command = lambda_env.child("first", write_spec(folder, name, events[name], secrets))
            kinds[name] = "first invocation"
        else:
            command = lambda_env.child("cold", first_invocation_clients(variables))
            kinds[name] = "import + clients"
        subjects[name] = (command, env, NEUTRAL)
    peer_env = warm.peer_environment(template)
    peer_spec = write_spec(folder, PEER, events[PEER], secrets)
    subjects[PEER_FIRST] = (lambda_env.child("first", peer_spec), peer_env, NEUTRAL)
    subjects[PEER] = (lambda_env.child("cold", ""), peer_env, NEUTRAL)  # client made at import
    untraced_env = {**peer_env, "PYTHONPATH": str(lambda_env.PEER_UNTRACED)}
    subjects[PEER_UNTRACED_FIRST] = (lambda_env.child("first", peer_spec), untraced_env, NEUTRAL)
    plain = lambda_env.environment(lambda_env.PEER, {}, "bare")
    plain["PYTHONPATH"] = ""
    subjects["bare_boto3"] = (lambda_env.child("bare"), plain, NEUTRAL)
    subjects["empty_interpreter"] = (lambda_env.child("empty"), plain, NEUTRAL)
    samples: dict[str, list[tuple[int, float, float, int]]] = {name: [] for name in subjects}
    for command, env, cwd in subjects.values():  # one unmeasured round: caches warm alike
        run_timed(command, env, cwd)
    for run in range(RUNS):  # interleaved, so drift hits every subject alike
        depth = DEPTHS[run % len(DEPTHS)]
        for name, (command, env, cwd) in subjects.items():
            at_depth = {**env, "BENCH_STACK_DEPTH": str(depth)}
            seconds, used, faults = run_timed(command, at_depth, cwd)
            samples[name].append((depth, seconds, used, faults))
    figures = {name: least_faulting(runs) for name, runs in samples.items()}
    walls = {name: figure["wall"] for name, figure in figures.items()}
    cpus = {name: figure["cpu"] for name, figure in figures.items()}
    rows = {}
    for function in template.functions():
        name = function.logical_id
        peer = PEER_FIRST if kinds[name] == "first invocation" else PEER
        rows[name] = {
            "measured": kinds[name],
            "cpu_vs_peer": round(cpus[name] / cpus[peer], 2),
            "cpu_vs_bare_boto3": round(cpus[name] / cpus["bare_boto3"], 2),
            "wall_vs_peer": round(walls[name] / walls[peer], 2),
            "wall_vs_bare_boto3": round(walls[name] / walls["bare_boto3"], 2),
            "cpu_ms": round(cpus[name] * 1000, 1),
            "wall_ms": round(walls[name] * 1000, 1),
            "cpu_vs_peer_all_runs": round(
                figures[name]["cpu_all_runs"] / figures[peer]["cpu_all_runs"], 2
            ),
            "depth": figures[name]["depth"],
            "extra_faults_worst_depth": figures[name]["extra_faults_worst_depth"],
            "peer_target": 0.8 if name.endswith("WebhookFunction") else 1.0,
        }
    _, breakdown_env, _ = subjects[WEBHOOK_BREAKDOWN]
    return {
        "runs": RUNS,
        "depths": list(DEPTHS),
        "reference_depth": {name: figures[name]["depth"] for name in REFERENCES},
        "reference_extra_faults_worst_depth": {
            name: figures[name]["extra_faults_worst_depth"] for name in REFERENCES
        },
        "environment": lambda_env.check_clean(),
        "reference_cpu_ms": {name: round(cpus[name] * 1000, 1) for name in REFERENCES},
        "reference_wall_ms": {name: round(walls[name] * 1000, 1) for name in REFERENCES},
        "peer_cpu_vs_bare_boto3": round(cpus[PEER] / cpus["bare_boto3"], 2),
        "peer_first_cpu_vs_bare_boto3": round(cpus[PEER_FIRST] / cpus["bare_boto3"], 2),
        "untraced_peer_vs_peer": round(cpus[PEER_UNTRACED_FIRST] / cpus[PEER_FIRST], 2),
        "functions": rows,
        "bare_target": 1.5,
        "breakdown_function": WEBHOOK_BREAKDOWN,
        "breakdown_ms": import_breakdown(
            breakdown_env, NEUTRAL, int(figures[WEBHOOK_BREAKDOWN]["depth"])
        ),
        "peer_breakdown_ms": import_breakdown(peer_env, NEUTRAL, int(figures[PEER_FIRST]["depth"])),
    }
