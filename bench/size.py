"""Deployment size after `sam build`: the core layer (with a per-package breakdown) and each
function package, unzipped, in MB."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.common import ROOT

BUILD = ROOT / ".aws-sam" / "build"
MB = 1024 * 1024


def tree_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def measure() -> dict[str, Any]:
    layer = BUILD / "CoreLayer" / "python"
    if not layer.is_dir():
        raise RuntimeError("no .aws-sam/build: run `make sam-build` first")
    packages: dict[str, int] = {}
    for entry in layer.iterdir():
        name = entry.name.split("-")[0].split(".")[0]
        size = tree_size(entry) if entry.is_dir() else entry.stat().st_size
        packages[name] = packages.get(name, 0) + size
    functions = {
        d.name: round(tree_size(d) / MB, 3)
        for d in sorted(BUILD.iterdir())
        if d.is_dir() and d.name.endswith("Function")
    }
    total = tree_size(layer)
    return {
        "core_layer_mb": round(total / MB, 2),
        "core_layer_packages_mb": {
            name: round(size / MB, 3)
            for name, size in sorted(packages.items(), key=lambda x: -x[1])
        },
        "pydantic_bundled": any(name.startswith("pydantic") for name in packages),
        "functions_mb": functions,
        "target_mb": 5.0,
    }
