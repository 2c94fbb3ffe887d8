"""The docs stay readable: the README is short and keeps the two commands CI runs, and every
page under docs/ is in the site's nav (mkdocs.yml), every nav entry a page that exists."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from tools import docs_hooks

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
MKDOCS = ROOT / "mkdocs.yml"
MAX_README_LINES = 150


class _Loader(yaml.SafeLoader):
    """mkdocs.yml's `!!python/name:` tags (Mermaid's fence) read as plain text."""


_Loader.add_multi_constructor(
    "tag:yaml.org,2002:python/", lambda loader, suffix, node: f"python/{suffix}"
)


def readme_problems(text: str) -> list[str]:
    problems = []
    lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    if lines > MAX_README_LINES:
        problems.append(
            f"README.md has {lines} lines (at most {MAX_README_LINES}: move text to docs/)"
        )
    commands = re.search(r"## The two commands\n+```bash\n(.*?)```", text, re.S)
    if not commands:
        problems.append("README.md lost its 'The two commands' block")
    else:
        for command in ("make run", "make test"):
            if not re.search(rf"^{command}\b", commands.group(1), re.M):
                problems.append(f"README.md's two commands lack `{command}`")
    return problems


def nav_pages(nav: list[Any]) -> list[str]:
    pages: list[str] = []
    for entry in nav:
        values = entry.values() if isinstance(entry, dict) else [entry]
        for value in values:
            pages.extend(nav_pages(value) if isinstance(value, list) else [str(value)])
    return pages


def nav_problems(config: dict[str, Any], docs: Path) -> list[str]:
    listed = nav_pages(config["nav"])
    present = sorted(str(p.relative_to(docs)) for p in docs.rglob("*.md"))
    problems = [f"docs/{page} is not in mkdocs.yml's nav" for page in present if page not in listed]
    problems += [f"mkdocs.yml's nav names a missing page: {page}" for page in listed
                 if page not in present]  # fmt: skip
    problems += [f"mkdocs.yml's nav lists {page} twice" for page in set(listed)
                 if listed.count(page) > 1]  # fmt: skip
    return problems


def mkdocs_config() -> dict[str, Any]:
    config: dict[str, Any] = yaml.load(MKDOCS.read_text(encoding="utf-8"), Loader=_Loader)
    return config


def test_the_readme_is_short_and_keeps_the_two_commands() -> None:
    assert readme_problems(README.read_text(encoding="utf-8")) == []


def test_the_readme_check_catches_a_long_readme_and_a_lost_command() -> None:
    text = README.read_text(encoding="utf-8")
    grown = text + "more\n" * (MAX_README_LINES + 1 - text.count("\n"))
    (problem,) = readme_problems(grown)
    assert problem.startswith(f"README.md has {MAX_README_LINES + 1} lines")
    assert readme_problems(text.replace("\nmake test ", "\nmake tests ")) == [
        "README.md's two commands lack `make test`"
    ]


def test_ci_runs_the_readme_s_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^make test$", ci, re.M)
    assert re.search(r"^CHECKS := .*\bdocs\b", (ROOT / "Makefile").read_text(), re.M), (
        "make test builds the docs (Makefile CHECKS)"
    )


def test_every_docs_page_is_in_the_nav() -> None:
    config = mkdocs_config()
    assert (config["docs_dir"], config["theme"]["font"]) == ("docs", False)
    assert nav_problems(config, ROOT / "docs") == []


def test_the_nav_check_catches_a_missing_and_a_stale_page(tmp_path: Path) -> None:
    (tmp_path / "guide").mkdir()
    (tmp_path / "index.md").write_text("# a\n")
    (tmp_path / "guide" / "new.md").write_text("# b\n")
    config = {"nav": [{"Home": "index.md"}, {"Old": [{"Gone": "old.md"}]}]}
    assert nav_problems(config, tmp_path) == [
        "docs/guide/new.md is not in mkdocs.yml's nav",
        "mkdocs.yml's nav names a missing page: old.md",
    ]


def test_the_api_page_renders_every_operation_and_model_of_openapi_json() -> None:
    document = json.loads((ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))
    page = docs_hooks.on_page_markdown(f"# API\n\n{docs_hooks.MARKER}\n")
    assert docs_hooks.MARKER not in page
    for path, item in document["paths"].items():
        for method in item:
            assert f"| `{method.upper()} {path}` |" in page, (method, path)
    for name in document["components"]["schemas"]:
        assert f"\n### {name}\n" in page, name
    assert docs_hooks.on_page_markdown("# Other\n") == "# Other\n"
    assert docs_hooks.MARKER in (ROOT / "docs" / "api.md").read_text(encoding="utf-8")


def test_make_bench_writes_the_performance_page_the_nav_lists() -> None:
    from bench import run

    page = run.DOC.relative_to(ROOT / "docs").as_posix()
    assert page in nav_pages(mkdocs_config()["nav"])
    assert run.START in run.DOC.read_text(encoding="utf-8")
