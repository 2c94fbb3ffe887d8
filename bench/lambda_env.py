"""What a Lambda execution environment holds, rebuilt locally for the benchmarks: the clean
virtualenv `.venv-bench` (only uv.lock's `lambda` group: Powertools and the packages the
public Powertools layer carries, and the runtime's boto3 — no test tools, no moto, no rich),
each function's `sam build` artifact as the task root (`.aws-sam/build/<LogicalId>/`, like
/var/task) and the core layer's build (`.aws-sam/build/CoreLayer/python`, like /opt/python),
and the variables the Lambda service sets."""

from __future__ import annotations

import ast
import hashlib
import json
import os
import platform
import shutil
import subprocess
from pathlib import Path
from typing import Any

from bench.common import ROOT

BUILD = ROOT / ".aws-sam" / "build"
LAYER_BUILD = BUILD / "CoreLayer" / "python"
BENCH_VENV = ROOT / ".venv-bench"
PEER_SOURCE = ROOT / "bench" / "peer" / "app.py"
# The peer's task root: a fresh copy of bench/peer/app.py, without any __pycache__ a dev run
# left beside the source (as `sam build` would package it).
PEER = BUILD.parent / "bench-peer"
# The same peer without its Tracer, to show in every run what the X-Ray SDK costs it.
PEER_UNTRACED = BUILD.parent / "bench-peer-untraced"
CHILD = ROOT / "bench" / "lambda_child.py"
# Packages a dev environment has and Lambda does not: finding one makes the run fail.
FORBIDDEN = ("rich", "moto", "pytest", "httpx", "cryptography", "yaml", "mypy")
TRACE_HEADER = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"


def python() -> Path:
    executable = BENCH_VENV / "bin" / "python"
    if not executable.exists():
        raise RuntimeError("no .venv-bench: `make bench` builds it from uv.lock (group lambda)")
    return executable


def task_root(logical_id: str) -> Path:
    root = BUILD / logical_id
    if not (root / "app.py").exists() or not LAYER_BUILD.is_dir():
        raise RuntimeError(f"no sam build artifact for {logical_id}: run `make sam-build`")
    return root


_ELF_MACHINES = {0x3E: "x86_64", 0xB7: "aarch64"}


def _foreign_binaries(task: Path) -> bool:
    """Whether any shared object in the artifact is built for another CPU (ELF e_machine)."""
    for shared in task.rglob("*.so"):
        with shared.open("rb") as handle:
            header = handle.read(20)
        machine = _ELF_MACHINES.get(int.from_bytes(header[18:20], "little"), "other")
        if header[:4] == b"\x7fELF" and machine != platform.machine():
            return True
    return False


def host_overlay(task: Path) -> Path | None:
    """`sam build` makes arm64 wheels (Lambda's architecture); a function whose artifact holds
    native code (cryptography, cffi) cannot load them on another machine. For it, the same
    locked versions (the artifact's own requirements.txt, hashes checked) are installed for
    this machine into an overlay that comes first on the import path: same code, this
    machine's binaries. Pure-Python artifacts need none."""
    requirements = task / "requirements.txt"
    if not requirements.exists() or not _foreign_binaries(task):
        return None
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()[:12]
    overlay = BUILD.parent / "bench-host" / f"{platform.machine()}-{digest}"
    if not (overlay / ".done").exists():
        uv = ROOT / ".venv-uv" / "bin" / "uv"
        subprocess.run(
            [str(uv), "pip", "install", "--quiet", "--python", str(python()), "--target",
             str(overlay), "-r", str(requirements)],
            check=True,
        )  # fmt: skip
        (overlay / ".done").write_text("")
    return overlay


def environment(task: Path, variables: dict[str, str], name: str) -> dict[str, str]:
    """The Lambda service's variables, the function's own (offline values: nothing is called
    at import), and the import path of a python runtime: task root, then the layer."""
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    env.update(
        {
            "AWS_REGION": "ap-southeast-1",
            "AWS_DEFAULT_REGION": "ap-southeast-1",
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_SESSION_TOKEN": "bench",
            "AWS_LAMBDA_FUNCTION_NAME": name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
            "LAMBDA_TASK_ROOT": str(task),
            "_HANDLER": "app.lambda_handler",
            "_X_AMZN_TRACE_ID": TRACE_HEADER,
            "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
            "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
            "PYTHONPATH": f"{task}:{LAYER_BUILD}",
            "PYTHONNOUSERSITE": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    overlay = host_overlay(task) if task.is_relative_to(BUILD) else None
    if overlay is not None:
        env["PYTHONPATH"] = f"{overlay}:{env['PYTHONPATH']}"
    env.update(variables)
    return env


def child(mode: str, *args: str) -> list[str]:
    """The command that runs bench/lambda_child.py in the clean environment. Run it from a
    neutral folder (`/`): the task root comes from PYTHONPATH, after the host overlay."""
    runner = f"import runpy; runpy.run_path({str(CHILD)!r}, run_name='__main__')"
    return [str(python()), "-c", runner, mode, *args]


def prepare_peer() -> Path:
    shutil.rmtree(PEER, ignore_errors=True)
    PEER.mkdir(parents=True)
    shutil.copy2(PEER_SOURCE, PEER / "app.py")
    shutil.rmtree(PEER_UNTRACED, ignore_errors=True)
    PEER_UNTRACED.mkdir(parents=True)
    source = PEER_SOURCE.read_text(encoding="utf-8")
    (PEER_UNTRACED / "app.py").write_text(untraced(source), encoding="utf-8")
    return PEER


def untraced(source: str) -> str:
    """The peer's code without its Tracer: the import, the instance and its decorators go,
    nothing else changes. Refuses a peer that names its tracer any other way."""
    kept = [
        line.replace(", Tracer", "")
        for line in source.splitlines()
        if not line.lstrip().startswith("@tracer.") and not line.startswith("tracer = ")
    ]
    code = "\n".join(kept) + "\n"
    tree = ast.parse(code)
    names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                for alias in node.names}  # fmt: skip
    if {"tracer", "Tracer"} & (names | imported):
        raise RuntimeError("bench/peer/app.py uses its Tracer in a way untraced() misses")
    return code


def check_clean() -> dict[str, Any]:
    """The distributions in .venv-bench, and proof that no dev-only package is importable
    there (the layer's httpx and Smart Glocal's cryptography come from the artifacts)."""
    probe = (
        "import importlib.metadata as m, importlib.util as u, json, sys;"
        f"bad=[n for n in {FORBIDDEN!r} if u.find_spec(n)];"
        "names=sorted(d.metadata['Name'] + '==' + d.version for d in m.distributions());"
        "print(json.dumps({'python': sys.version.split()[0], 'forbidden_found': bad,"
        "'distributions': names}))"
    )
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONNOUSERSITE": "1"}
    answer = subprocess.run(
        [str(python()), "-c", probe], env=env, cwd="/", capture_output=True, text=True, check=True
    )
    found: dict[str, Any] = json.loads(answer.stdout)
    if found["forbidden_found"]:
        raise RuntimeError(f".venv-bench is not clean: {found['forbidden_found']}")
    return found
