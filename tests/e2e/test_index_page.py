"""`GET /` in the local runtime: a small index page (instead of the route-not-found 404)
linking to the checkout page, the operator console, the API docs, the OpenAPI document, every
provider sandbox and the local clock; every link resolves."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin

import httpx

from tools.launcher import Runtime


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.lang = ""
        self.headings = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "a" and attributes.get("href"):
            self.hrefs.append(str(attributes["href"]))
        if tag == "html":
            self.lang = attributes.get("lang") or ""
        if tag == "h1":
            self.headings += 1


def test_the_index_page_links_to_everything_that_runs(runtime: Runtime) -> None:
    answer = httpx.get(f"{runtime.api_url}/", timeout=10)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    page = _Links()
    page.feed(answer.text)
    assert page.lang == "en" and page.headings == 1
    links = {urljoin(f"{runtime.api_url}/", href) for href in page.hrefs}
    expected = {
        f"{runtime.api_url}{path}"
        for path in (
            "/checkout/",
            "/console/",
            "/docs",
            "/openapi.json",
            "/_local/clock",
            "/_local/sandboxes",
        )
    }
    expected |= {
        f"{runtime.sandbox_url(name)}/_sandbox/health"
        for name in ("paypro", "smartglocal", "ecommpay", "monetix")
    }
    assert links == expected
    for link in sorted(links):
        assert httpx.get(link, timeout=10).status_code == 200, link


def test_other_unknown_paths_still_answer_like_api_gateway(runtime: Runtime) -> None:
    # template.yaml's MISSING_AUTHENTICATION_TOKEN gateway response: 404 naming the route
    assert httpx.get(f"{runtime.api_url}/nothing-here", timeout=10).status_code == 404
    assert httpx.post(f"{runtime.api_url}/", timeout=10).status_code == 404
