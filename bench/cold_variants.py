"""One-off A/B of cold init, not part of `make bench` (`python -m bench.cold_variants`, writes
bench/results/cold_variants.json): each case runs a function as bench/cold_start.py does
(clean environment, `sam build` artifact, interleaved, the three starting depths, the figure
at the depth that faulted least) once as built and once changed by a few lines run before
the bench child, to measure one lever at a time:

- the interpreter's finalization counted (what `make bench` measured before this change);
- the garbage collector left on during the import (paygate pauses it inside Lambda);
- the request bodies built (`paygate.api_requests`, which a read function does not import);
- the signing secret handed in without Secrets Manager (no second AWS client);
- the REST resolver's validation turned off;
- with `--otel DIR`, in-process tracing as `InProcessTracing=opentelemetry` deploys it,
  started as the layer's `otel-instrument` wrapper starts a function. DIR is made the way
  the ADOT layer's Dockerfile makes the layer: `uv pip install --target DIR
  aws-opentelemetry-distro==0.21.0`; remove from DIR the OTLP gRPC exporter (and grpc),
  the system-metrics and aws-lambda instrumentations (and psutil), and the packages the
  lock's Lambda set already has (urllib3, wrapt, typing_extensions, dateutil); then
  `python -m compileall --invalidation-mode unchecked-hash DIR` with .venv-bench's Python.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import cold_start, lambda_env
from bench.common import RESULTS, use_repo_paths

RUNS = 15
SECRET_HANDED_IN = """
import json
from aws_lambda_powertools.utilities import parameters
import paygate.credentials as credentials
with open({spec!r}, encoding="utf-8") as handle:
    documents = json.load(handle)["secrets"]
parameters.get_secret = lambda name, **_: json.loads(documents[name])
credentials.secrets_provider = lambda: None
"""
VALIDATION_OFF = """
from aws_lambda_powertools.event_handler import api_gateway
built = api_gateway.APIGatewayRestResolver.__init__
def without_validation(self, *args, **kwargs):
    kwargs["enable_validation"] = False
    built(self, *args, **kwargs)
api_gateway.APIGatewayRestResolver.__init__ = without_validation
"""
GC_ON = "import gc, paygate; gc.enable(); paygate._paused_at_import = False\n"
REQUEST_BODIES = "import paygate.api_requests\n"
# case: (function, what is changed, code run before the child, extra environment)
CASES: dict[str, tuple[str, str, str, dict[str, str]]] = {
    "finalization, peer": (cold_start.PEER, "finalization counted", "", {"BENCH_FINALIZE": "1"}),
    "finalization, Paypro webhook": (
        "PayproWebhookFunction",
        "finalization counted",
        "",
        {"BENCH_FINALIZE": "1"},
    ),
    "collector pause": ("PayproWebhookFunction", "collector on while importing", GC_ON, {}),
    "request bodies": ("GetPaymentFunction", "request bodies built", REQUEST_BODIES, {}),
    "second AWS client": ("PayproWebhookFunction", "secret handed in", SECRET_HANDED_IN, {}),
    "resolver validation": ("PayproWebhookFunction", "validation off", VALIDATION_OFF, {}),
}


def otel_case(overlay: Path) -> tuple[str, str, str, dict[str, str]]:
    """The Paypro webhook started as ADOT's `otel-instrument` wrapper starts it with this
    template's settings: OpenTelemetry's `sitecustomize` first on the path (what
    `opentelemetry-instrument` adds), the variables the wrapper exports when Application
    Signals is off, and the template's list of disabled instrumentations."""
    from local.aws.template import load_template

    variables = load_template().document["Globals"]["Function"]["Environment"]["Variables"]
    _, disabled, _ = variables["OTEL_PYTHON_DISABLED_INSTRUMENTATIONS"]["Fn::If"]
    name = "PayproWebhookFunction"
    task = lambda_env.task_root(name)
    auto = overlay / "opentelemetry" / "instrumentation" / "auto_instrumentation"
    return (
        name,
        "OpenTelemetry instrumentation",
        "",
        {
            "PYTHONPATH": f"{auto}:{task}:{lambda_env.LAYER_BUILD}:{overlay}",
            "OTEL_SERVICE_NAME": name,
            "OTEL_PROPAGATORS": "baggage,xray,tracecontext",
            "OTEL_AWS_APPLICATION_SIGNALS_RUNTIME_ENABLED": "false",
            "OTEL_AWS_APPLICATION_SIGNALS_ENABLED": "false",
            "OTEL_METRICS_EXPORTER": "none",
            "OTEL_LOGS_EXPORTER": "none",
            "OTEL_RESOURCE_ATTRIBUTES": f"cloud.provider=aws,faas.name={name}",
            "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": f"{disabled},aws-lambda",
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318",  # never reached
        },
    )


def _commands(
    folder: Path, cases: dict[str, tuple[str, str, str, dict[str, str]]]
) -> dict[str, tuple[list[str], dict[str, str]]]:
    """Both sides of every case: (command, environment), keyed `case: as built|changed`."""
    from bench import warm
    from local.aws.provision import load_dev_secrets, offline_environment
    from local.aws.template import load_template

    template = load_template()
    dev_secrets = load_dev_secrets()
    events, secrets = warm.events(dev_secrets), warm.secret_strings(dev_secrets)
    by_name = {function.logical_id: function for function in template.functions()}
    subjects = {}
    for case, (name, changed, before, extra) in cases.items():
        if name == cold_start.PEER:
            env = warm.peer_environment(template)
            spec = cold_start.write_spec(folder, name, events[name], secrets)
            mode, argument = "first", spec
        else:
            function = by_name[name]
            variables = offline_environment(template, function)
            env = lambda_env.environment(lambda_env.task_root(name), variables, name)
            if name in events:
                spec = cold_start.write_spec(folder, name, events[name], secrets)
                mode, argument = "first", spec
            else:
                mode, argument = "cold", cold_start.first_invocation_clients(variables)
        command = lambda_env.child(mode, argument)
        subjects[f"{case}: as built"] = (command, env)
        changed_code = before.format(spec=argument) + command[2]
        subjects[f"{case}: {changed}"] = ([command[0], "-c", changed_code, *command[3:]],
                                          {**env, **extra})  # fmt: skip
    return subjects


def measure(otel: Path | None = None) -> dict[str, Any]:
    use_repo_paths()
    cases = {**CASES, **({"in-process tracing": otel_case(otel)} if otel else {})}
    with tempfile.TemporaryDirectory() as folder:
        subjects = _commands(Path(folder), cases)
        samples: dict[str, list[tuple[int, float, float, int]]] = {name: [] for name in subjects}
        for command, env in subjects.values():  # one unmeasured round
            cold_start.run_timed(command, env, cold_start.NEUTRAL)
        for run in range(RUNS):
            depth = cold_start.DEPTHS[run % len(cold_start.DEPTHS)]
            for name, (command, env) in subjects.items():
                wall, cpu, faults = cold_start.run_timed(
                    command, {**env, "BENCH_STACK_DEPTH": str(depth)}, cold_start.NEUTRAL
                )
                samples[name].append((depth, wall, cpu, faults))
    figures = {name: cold_start.least_faulting(runs) for name, runs in samples.items()}
    rows = {}
    for case, (name, changed, _, _) in cases.items():
        built, other = figures[f"{case}: as built"], figures[f"{case}: {changed}"]
        rows[case] = {
            "function": name,
            "changed": changed,
            "cpu_ms_as_built": round(built["cpu"] * 1000, 1),
            "cpu_ms_changed": round(other["cpu"] * 1000, 1),
            "changed_vs_built": round(other["cpu"] / built["cpu"], 3),
        }
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "runs": RUNS,
        "depths": list(cold_start.DEPTHS),
        "cases": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--otel", type=Path, help="the OpenTelemetry packages' folder")
    options = parser.parse_args()
    result = measure(options.otel)
    text = json.dumps(result, indent=2) + "\n"
    (RESULTS / "cold_variants.json").write_text(text, encoding="utf-8")
    print(text, end="")


if __name__ == "__main__":
    main()
