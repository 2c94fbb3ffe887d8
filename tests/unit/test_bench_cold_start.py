"""bench/cold_start.py's choice of figure per subject, bench/lambda_child.py's ending and
stack depth, and the untraced peer, without timing anything."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.cold_start import DEPTHS, RUNS, least_faulting
from bench.lambda_env import PEER_SOURCE, untraced

ROOT = Path(__file__).resolve().parents[2]
CHILD = ROOT / "bench" / "lambda_child.py"


def test_the_figure_is_the_median_at_the_depth_that_faulted_least() -> None:
    samples = [
        (0, 0.30, 0.25, 13_000),
        (23, 0.34, 0.28, 16_000),  # the depth where the frame-stack edge thrashes
        (0, 0.31, 0.26, 13_100),
        (23, 0.35, 0.29, 16_200),
        (0, 0.29, 0.24, 12_900),
        (23, 0.33, 0.27, 15_900),
    ]
    figure = least_faulting(samples)
    assert figure["depth"] == 0
    assert (figure["wall"], figure["cpu"]) == (0.30, 0.25)
    assert figure["cpu_all_runs"] == (0.26 + 0.27) / 2
    assert figure["extra_faults_worst_depth"] == 16_000 - 13_000


def test_every_depth_gets_the_same_number_of_runs() -> None:
    assert len(set(DEPTHS)) == len(DEPTHS) > 1 and RUNS % len(DEPTHS) == 0


@pytest.mark.parametrize(("finalize", "finalized"), [("", False), ("1", True)])
def test_a_timed_child_ends_without_finalization_unless_asked(
    tmp_path: Path, finalize: str, finalized: bool
) -> None:
    """An atexit hook (run by finalization) never runs in a timed mode: the process ends
    with os._exit, as a discarded Lambda environment does; `BENCH_FINALIZE=1` (what
    bench/cold_variants.py compares) ends it normally."""
    marker = tmp_path / "finalized"
    hook = f"import atexit, pathlib; atexit.register(pathlib.Path({str(marker)!r}).touch)"
    (tmp_path / "sitecustomize.py").write_text(hook + "\n", encoding="utf-8")
    runner = f"import runpy; runpy.run_path({str(CHILD)!r}, run_name='__main__')"
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "BENCH_FINALIZE": finalize}
    subprocess.run([sys.executable, "-c", runner, "empty"], env=env, check=True)
    assert marker.exists() is finalized


def test_the_depth_variable_puts_the_work_that_many_frames_deeper(tmp_path: Path) -> None:
    probe = tmp_path / "app.py"
    out = tmp_path / "depth.json"
    probe.write_text(
        "import inspect, json, pathlib\n"
        f"pathlib.Path({str(out)!r}).write_text(json.dumps(len(inspect.stack(0))))\n"
        "def lambda_handler(event, context):\n    return None\n",
        encoding="utf-8",
    )
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"event": {}, "secrets": {}}), encoding="utf-8")
    depths = []
    for depth in (0, 11):
        env_path = f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"
        runner = f"import runpy; runpy.run_path({str(CHILD)!r}, run_name='__main__')"
        env = {**os.environ, "BENCH_STACK_DEPTH": str(depth), "PYTHONPATH": env_path}
        subprocess.run([sys.executable, "-c", runner, "first", str(spec)], env=env, check=True)
        depths.append(json.loads(out.read_text(encoding="utf-8")))
    assert depths[1] - depths[0] == 11


def test_the_untraced_peer_is_the_peer_without_its_tracer_only() -> None:
    source = PEER_SOURCE.read_text(encoding="utf-8")
    code = untraced(source)
    compile(code, "app.py", "exec")
    assert "Tracer" in source and "@tracer." in source
    assert "from aws_lambda_powertools import Logger, Metrics\n" in code
    assert "tracer = " not in code and "@tracer." not in code
    dropped = set(source.splitlines()) - set(code.splitlines())
    assert all("racer" in line for line in dropped)


def test_a_peer_using_its_tracer_another_way_is_refused() -> None:
    source = PEER_SOURCE.read_text(encoding="utf-8")
    with pytest.raises(RuntimeError, match="Tracer"):
        untraced(source + "\ntracer.put_annotation(key='k', value='v')\n")


def test_each_cold_variant_changes_one_thing_of_a_function_the_template_has() -> None:
    from bench.cold_variants import CASES
    from local.aws.template import load_template

    names = {function.logical_id for function in load_template().functions()} | {"PeerFunction"}
    for function, changed, before, extra in CASES.values():
        assert function in names and changed
        assert bool(before) != bool(extra)  # code run first, or an environment, never both
        if before:
            compile(before.format(spec="spec.json"), "before", "exec")


@pytest.mark.parametrize(
    ("ms", "words"),
    [(-7.2, "7 ms of CPU less"), (3.4, "3 ms of CPU more"), (0.3, "the same CPU")],
)
def test_the_untraced_peer_difference_reads_the_right_way_round(ms: float, words: str) -> None:
    from bench.report import _difference

    assert _difference(ms) == words
