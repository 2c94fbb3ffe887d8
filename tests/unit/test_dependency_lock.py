"""uv.lock is the only source of versions: the requirements.txt files that `sam build`
installs are generated from it, the public Powertools layer the template deploys is the
release the lock pins (and the tests run), and this environment is what the lock says."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from local.aws.template import load_template

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "uv.lock"
PYPROJECT = ROOT / "pyproject.toml"
UV = Path(sys.executable).parent / "uv"  # the lock's uv, installed by `make` (group dev)
LAYER_REQUIREMENTS = ROOT / "layers" / "core" / "requirements.txt"
SIGNING_REQUIREMENTS = sorted((ROOT / "functions").glob("*/requirements.txt"))
POWERTOOLS_SSM = re.compile(
    r"/aws/service/powertools/python/(?P<arch>[a-z0-9_]+)/(?P<python>python3\.\d+)/(?P<version>[\w.]+)"
)


@cache
def lock() -> dict[str, Any]:
    with LOCK.open("rb") as handle:
        return tomllib.load(handle)


def locked_version(group: str, name: str) -> str:
    """The version of `name` that the lock installs for dependency group `group`."""
    name = canonicalize_name(name)
    root = next(p for p in lock()["package"] if p["name"] == "paygate")
    entry = next((d for d in root["dev-dependencies"][group] if d["name"] == name), {})
    if "version" in entry:
        return str(entry["version"])
    (only,) = {p["version"] for p in lock()["package"] if p["name"] == name}  # one resolution
    return str(only)


def uv_export(group: str) -> str:
    result = subprocess.run(
        [
            str(UV),
            "export",
            "--frozen",
            "--no-header",
            "--no-default-groups",
            "--only-group",
            group,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return result.stdout


def pins(text: str) -> dict[str, str]:
    found = {}
    for line in text.splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==([^\s;\\]+)", line)
        if match:
            found[match.group(1).lower()] = match.group(2)
    return found


@pytest.mark.parametrize(
    ("path", "group"),
    [(LAYER_REQUIREMENTS, "layer")] + [(path, "signing") for path in SIGNING_REQUIREMENTS],
    ids=lambda value: str(value.relative_to(ROOT)) if isinstance(value, Path) else value,
)
def test_requirements_files_are_generated_from_the_lock(path: Path, group: str) -> None:
    header, _, body = path.read_text(encoding="utf-8").partition("\n")
    assert header == f"# Generated from uv.lock by make lock (group {group}). Do not edit."
    assert body == uv_export(group), f"{path.relative_to(ROOT)} drifted from uv.lock: make lock"


def test_layer_pins_its_transitive_packages_with_hashes() -> None:
    text = LAYER_REQUIREMENTS.read_text(encoding="utf-8")
    pinned = pins(text)
    for name in ("httpx", "httpcore", "anyio", "certifi", "h11", "idna"):
        locked = {p["version"] for p in lock()["package"] if p["name"] == name}
        assert pinned.get(name) in locked, (name, pinned.get(name), locked)
    assert text.count("--hash=sha256:") >= len(pinned)
    # What Lambda provides must not be shipped again (it would shadow the tested versions).
    assert not {"boto3", "botocore", "aws-lambda-powertools", "pydantic"} & pinned.keys()


def test_pyproject_pins_are_the_locked_versions() -> None:
    with PYPROJECT.open("rb") as handle:
        groups = tomllib.load(handle)["dependency-groups"]
    for group, requirements in groups.items():
        for item in requirements:
            if isinstance(item, dict):
                continue  # include-group
            requirement = Requirement(item)
            (specifier,) = requirement.specifier
            assert specifier.operator == "==", f"{item}: pin exact versions"
            assert locked_version(group, requirement.name) == specifier.version, item


def test_powertools_layer_is_the_locked_release() -> None:
    template = load_template()
    parameter = template.document["Parameters"]["PowertoolsLayerArn"]
    assert parameter["Type"] == "AWS::SSM::Parameter::Value<String>"
    path = POWERTOOLS_SSM.fullmatch(parameter["Default"])
    assert path, parameter["Default"]
    function_globals = template.document["Globals"]["Function"]
    _, with_otel, without = function_globals["Layers"]["Fn::If"]
    assert {"Ref": "PowertoolsLayerArn"} in with_otel
    assert {"Ref": "PowertoolsLayerArn"} in without
    assert path["version"] == locked_version("lambda", "aws-lambda-powertools"), (
        f"template deploys Powertools {path['version']}, "
        f"uv.lock pins {locked_version('lambda', 'aws-lambda-powertools')}"
    )
    assert path["arch"] == function_globals["Architectures"][0]
    assert path["python"] == function_globals["Runtime"]


def test_layers_and_functions_build_for_the_global_runtime() -> None:
    template = load_template()
    function_globals = template.document["Globals"]["Function"]
    runtime, (arch,) = function_globals["Runtime"], function_globals["Architectures"]
    with PYPROJECT.open("rb") as handle:
        requires_python = tomllib.load(handle)["project"]["requires-python"]
    assert requires_python == f">={runtime.removeprefix('python')},<3.{int(runtime[-2:]) + 1}"
    assert sys.version_info[:2] == (3, int(runtime.removeprefix("python3.")))
    for logical_id, spec in template.of_type("AWS::Serverless::LayerVersion").items():
        props, metadata = spec["Properties"], spec["Metadata"]
        assert props["CompatibleRuntimes"] == [runtime], logical_id
        assert props["CompatibleArchitectures"] == [arch], logical_id
        assert (metadata["BuildMethod"], metadata["BuildArchitecture"]) == (runtime, arch)
    for logical_id, spec in template.of_type("AWS::Serverless::Function").items():
        assert "Runtime" not in spec["Properties"], f"{logical_id}: the runtime is global"
        assert "Architectures" not in spec["Properties"], f"{logical_id}: arm64 is global"


@pytest.mark.parametrize(
    ("group", "name"),
    [
        ("lambda", "aws-lambda-powertools"),
        ("lambda", "pydantic"),
        ("lambda", "boto3"),
        ("run", "botocore"),
        ("layer", "httpx"),
        ("signing", "cryptography"),
    ],
)
def test_this_environment_is_the_lock(group: str, name: str) -> None:
    assert importlib.metadata.version(name) == locked_version(group, name)


def test_locked_boto3_meets_what_powertools_requires_of_the_runtime() -> None:
    """boto3 comes from the python3.13 runtime in Lambda (its version varies by region and
    date); the lock's is the one tested, and it must satisfy what the locked Powertools asks
    of the SDK it finds in the runtime."""
    wanted = [
        Requirement(r)
        for r in importlib.metadata.requires("aws-lambda-powertools") or []
        if Requirement(r).name == "boto3"
    ]
    assert wanted, "aws-lambda-powertools declares no boto3 requirement"
    boto3_version = locked_version("lambda", "boto3")
    assert all(r.specifier.contains(boto3_version) for r in wanted), (boto3_version, wanted)


def test_makefile_installs_the_locked_uv() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    match = re.search(r"^UV_VERSION := (\S+)$", makefile, re.M)
    assert match and match.group(1) == locked_version("dev", "uv")
