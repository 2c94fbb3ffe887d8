"""Tracing without the X-Ray SDK: Lambda active tracing records each invocation, nothing
traces in-process by default, and OpenTelemetry is one template option (off by default)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from local.aws.provision import offline_environment
from local.aws.template import load_template

ROOT = Path(__file__).resolve().parents[2]
# aws_lambda_powertools' own __init__ loads its Tracer class, which imports the X-Ray SDK
# only when a Tracer is made: the SDK itself must stay out.
TRACERS = ("aws_xray_sdk", "opentelemetry")


@pytest.mark.early  # one of the longest tests: it starts first (tests/conftest.py)
def test_no_function_imports_a_tracer_at_cold_start() -> None:
    template = load_template()
    assert template.functions()
    for function in template.functions():
        env = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'layers/core'}"}
        env.update(offline_environment(template, function))
        probe = (
            f"import sys, {function.module}; "
            f"print(sorted(m for m in sys.modules if m.startswith({TRACERS!r})))"
        )
        answer = subprocess.run(
            [sys.executable, "-c", probe], env=env, cwd=ROOT, capture_output=True, text=True,
            check=True,
        )  # fmt: skip
        assert answer.stdout.strip().splitlines()[-1] == "[]", (function.logical_id, answer)


def test_lambda_active_tracing_is_on_and_in_process_tracing_is_one_option() -> None:
    document = load_template().document
    function_globals = document["Globals"]["Function"]
    assert function_globals["Tracing"] == "Active"
    assert document["Parameters"]["InProcessTracing"]["Default"] == "none"
    assert document["Parameters"]["InProcessTracing"]["AllowedValues"] == ["none", "opentelemetry"]
    condition = document["Conditions"]["InProcessOpenTelemetry"]
    assert condition == {"Fn::Equals": [{"Ref": "InProcessTracing"}, "opentelemetry"]}
    wrapper = function_globals["Environment"]["Variables"]["AWS_LAMBDA_EXEC_WRAPPER"]
    assert wrapper == {
        "Fn::If": ["InProcessOpenTelemetry", "/opt/otel-instrument", {"Ref": "AWS::NoValue"}]
    }
    condition, with_otel, without = function_globals["Layers"]["Fn::If"]
    assert condition == "InProcessOpenTelemetry"
    extra = [layer for layer in with_otel if layer not in without]
    assert extra == [{"Fn::FindInMap": ["AdotPythonLayer", {"Ref": "AWS::Region"}, "Arn"]}]
    assert without == with_otel[: len(without)]
    for logical_id, spec in load_template().of_type("AWS::Serverless::Function").items():
        assert "Tracing" not in spec["Properties"], f"{logical_id}: tracing is global"


def test_the_opentelemetry_option_instruments_botocore_and_httpx() -> None:
    """ADOT's wrapper disables httpx (and most instrumentations) unless the function names
    the disabled ones itself: the template does, without httpx and botocore."""
    variables = load_template().document["Globals"]["Function"]["Environment"]["Variables"]
    condition, disabled, otherwise = variables["OTEL_PYTHON_DISABLED_INSTRUMENTATIONS"]["Fn::If"]
    assert condition == "InProcessOpenTelemetry" and otherwise == {"Ref": "AWS::NoValue"}
    names = disabled.split(",")
    assert "httpx" not in names and "botocore" not in names
    assert {"requests", "django", "sqlite3", "boto3", "logging"} <= set(names)
    assert len(names) == len(set(names)) and all(name.strip() == name and name for name in names)


def test_the_local_runtime_runs_with_in_process_tracing_off() -> None:
    for function in load_template().functions():
        assert "AWS_LAMBDA_EXEC_WRAPPER" not in function.environment, function.logical_id


def _longest(value: object) -> int:
    """The longest a variable's value can be once deployed: a literal's length, the longer
    branch of an Fn::If, 128 characters for a reference (a generated name, a secret ARN:
    about 100 with a stack name of 20)."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, dict) and "Fn::If" in value:
        return max(_longest(branch) for branch in value["Fn::If"][1:])
    return 128


def test_every_functions_environment_fits_lambdas_4_kb() -> None:
    """Lambda refuses a function whose variables (names and values) exceed 4 KB together;
    the OpenTelemetry option's list is the longest of them."""
    template = load_template()
    shared = template.document["Globals"]["Function"]["Environment"]["Variables"]
    for logical_id, spec in template.of_type("AWS::Serverless::Function").items():
        own = spec["Properties"].get("Environment", {}).get("Variables", {})
        variables = {**shared, **own}
        total = sum(len(name) + _longest(value) for name, value in variables.items())
        assert total <= 4096, (logical_id, total)
