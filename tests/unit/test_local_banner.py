"""`make run`'s banner links the local copy of the docs site, built or not."""

from __future__ import annotations

from pathlib import Path

from local.config import LocalConfig
from local.run import DOCS_SITE, _banner, _docs_link


def test_the_banner_links_the_docs_site() -> None:
    banner = _banner(LocalConfig.from_env({}), {"paypro": "http://127.0.0.1:3101"})
    (line,) = [line for line in banner.splitlines() if line.strip().startswith("Docs ")]
    assert DOCS_SITE.as_uri() in line and "make docs" in line


def test_an_unbuilt_site_says_how_to_build_it(tmp_path: Path) -> None:
    site = tmp_path / "site" / "index.html"
    assert (
        _docs_link(site)
        == f"{site.as_uri()}   (not built yet: make docs; with search: make docs-serve)"
    )
    site.parent.mkdir()
    site.write_text("<html></html>")
    assert (
        _docs_link(site) == f"{site.as_uri()}   (rebuild: make docs; with search: make docs-serve)"
    )
