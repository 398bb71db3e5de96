"""/docs and /redoc work without the internet: every script, style and icon they name is served by
the service itself, and their relaxed Content-Security-Policy stays on those pages only."""

import base64
import hashlib

import pytest

from tests.html_checks import elements, outside_references

PAGES = ["/docs", "/redoc", "/docs/oauth2-redirect"]


@pytest.mark.parametrize("path", PAGES)
def test_docs_reference_only_local_assets_and_they_are_served(client, path):
    page = client.get(path)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text.replace("<redoc ", "<div ").replace("</redoc>", "</div>")  # ReDoc's custom element
    assert outside_references(html) == []
    assert "cdn." not in page.text and "fonts.googleapis" not in page.text
    local = [e.get("src") for e in elements(html, "script") if e.get("src")]
    local += [e.get("href") for e in elements(html, "link") if e.get("href")]
    for url in local:
        asset = client.get(url)
        assert asset.status_code == 200 and len(asset.content) > 1000, url
    if path != "/docs/oauth2-redirect":
        assert local, "the page names its assets"


def test_docs_csp_allows_its_own_inline_script_by_hash_and_nothing_remote(client):
    page = client.get("/docs")
    csp = page.headers["content-security-policy"]
    inline = next(e.text for e in elements(page.text, "script") if not e.get("src"))
    digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in csp and "'unsafe-eval'" not in csp
    assert "http" not in csp and "default-src 'none'" in csp and "connect-src 'self'" in csp
    assert page.headers["x-frame-options"] == "DENY"


def test_other_paths_keep_the_strict_policy(client):
    for path in ("/healthz", "/api/v1/feed", "/openapi.json"):
        assert client.get(path).headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert "/docs/assets/{path}" not in client.get("/openapi.json").json()["paths"]
