"""The unit's feed as pages in a browser: HTTP Basic, urgent first, materials rendered as in the
package, strict security headers, and an acknowledge form that another site cannot post."""

import re
import uuid

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditRecord
from app.feeds import csrf
from tests.factories import make_material
from tests.html_checks import elements, outside_references, text_of

CN = {"border_routes": ["VN-CN"]}
HOSTILE = "Đoạn *nhấn mạnh*.\n\n<script>alert(1)</script>\n\n![x](https://evil.example/p.png) [y](https://evil.example)"
ORIGIN = "http://testserver"


@pytest.fixture
def posted(client, session, users, make_unit, publish, approved):
    """Two units on VN-CN; a normal bundle, then an urgent one, then a recalled one."""
    unit = make_unit("BROWSER-POST", border_routes=["VN-CN"])
    other = make_unit("OTHER-POST", border_routes=["VN-CN"])
    material = make_material(
        session, users["editor"], status="approved", title="Người Mông ở bản biên giới", body=HOSTILE,
        ethnic_groups=["Mông"], border_routes=["VN-CN"], provinces=["Lạng Sơn"],
    )  # fmt: skip
    session.commit()
    normal = publish(CN, materials=[str(material.id)], title="Gói thường tháng này")
    urgent = publish(CN, materials=approved(1), title="Gói khẩn về tin giả", priority="urgent")
    recalled = publish(CN, materials=approved(1), title="Gói bị thu hồi")
    return unit, other, normal, urgent, recalled


def _recall(client, auth, bundle):
    assert client.post(f"/api/v1/bundles/{bundle['id']}/recall", headers=auth("reviewer")).status_code == 200


def test_only_units_with_basic_credentials(client, auth, posted):
    unit, *_ = posted
    anonymous = client.get("/api/v1/feed.html")
    assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"].startswith("Basic realm=")
    assert anonymous.headers["content-type"] == "application/problem+json"
    wrong = client.get("/api/v1/feed.html", auth=(unit.code, "ttdn_000000000000_nope"))
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"].startswith("Basic")
    staff = client.get("/api/v1/feed.html", headers=auth("admin"))
    assert staff.status_code == 403 and staff.headers["content-type"] == "application/problem+json"
    assert client.get("/api/v1/feed.html", auth=(unit.code, unit.key)).status_code == 200


def test_feed_page_lists_urgent_first_and_recalled_as_such(client, auth, posted):
    unit, _, normal, urgent, recalled = posted
    _recall(client, auth, recalled)
    page = client.get("/api/v1/feed.html", headers=unit.basic)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert outside_references(page.text) == []
    items = [li for li in elements(page.text, "li")]
    titles = [" ".join("".join(li.itertext()).split()) for li in items]
    assert "KHẨN" in titles[0] and "Gói khẩn về tin giả" in titles[0] and items[0].get("class") == "urgent"
    assert [i for i, t in enumerate(titles) if "Gói bị thu hồi" in t] and "Đã thu hồi" in text_of(page.text)
    links = [a.get("href") for a in elements(page.text, "a")]
    assert f"/api/v1/feed/bundles/{urgent['id']}.html" in links and f"/api/v1/feed/bundles/{normal['id']}.html" in links
    assert f"/api/v1/feed/bundles/{recalled['id']}.html" not in links
    assert f"/api/v1/feed/bundles/{normal['id']}/package" in links


def test_pages_carry_strict_security_headers(client, posted):
    unit, _, normal, *_ = posted
    for url in ("/api/v1/feed.html", f"/api/v1/feed/bundles/{normal['id']}.html"):
        response = client.get(url, headers=unit.basic)
        csp = response.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src" not in csp and "unsafe-inline" not in csp
        assert re.search(r"style-src 'sha256-[A-Za-z0-9+/=]+'", csp) and "frame-ancestors 'none'" in csp
        assert response.headers["x-frame-options"] == "DENY" and response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-store" and not elements(response.text, "script")


def test_bundle_page_renders_materials_as_in_the_package(client, posted):
    unit, _, normal, *_ = posted
    page = client.get(f"/api/v1/feed/bundles/{normal['id']}.html", headers=unit.basic)
    assert page.status_code == 200
    assert outside_references(page.text) == []
    assert [e.text for e in elements(page.text, "em")] == ["nhấn mạnh"] and "alert(1)" not in page.text
    text = text_of(page.text)
    assert "Mông (tên gọi khác:" in text and "Việt Nam - Trung Quốc" in text and "Lạng Sơn" in text
    assert "Mèo" not in text and "VN-CN" not in text and "Hình ảnh ngoài gói" in text
    assert "Xác nhận đã nhận gói" in text and f"/api/v1/feed/bundles/{normal['id']}/package" in page.text
    cookie = page.headers["set-cookie"]
    assert "SameSite=strict" in cookie.replace("samesite", "SameSite") and "HttpOnly" in cookie.replace(
        "httponly", "HttpOnly"
    )


def test_bundle_page_of_another_units_or_a_recalled_bundle(client, auth, make_unit, publish, posted):
    unit, _, _, _, recalled = posted
    elsewhere = make_unit("LAOS-POST", border_routes=["VN-LA"])
    assert client.get(f"/api/v1/feed/bundles/{recalled['id']}.html", headers=elsewhere.basic).status_code == 404
    _recall(client, auth, recalled)
    assert client.get(f"/api/v1/feed/bundles/{recalled['id']}.html", headers=unit.basic).status_code == 410


def _form(client, unit, bundle) -> dict[str, str]:
    page = client.get(f"/api/v1/feed/bundles/{bundle['id']}.html", headers=unit.basic)
    form = elements(page.text, "form")[0]
    fields = {i.get("name"): i.get("value") for i in form.iter("{http://www.w3.org/1999/xhtml}input")}
    assert form.get("method") == "post" and form.get("action") == f"/api/v1/feed/bundles/{bundle['id']}.html"
    return fields


def _acks(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).where(AuditRecord.action == "delivery.acknowledged"))


def _status(client, auth, bundle, unit) -> str:
    rows = client.get(f"/api/v1/bundles/{bundle['id']}/deliveries", headers=auth("admin")).json()["items"]
    return next(r["status"] for r in rows if r["unit"]["code"] == unit.code)


def test_acknowledging_from_the_page_end_to_end(client, auth, session, posted):
    unit, _, normal, *_ = posted
    fields = _form(client, unit, normal)
    url = f"/api/v1/feed/bundles/{normal['id']}.html"
    done = client.post(url, data=fields, headers={**unit.basic, "Origin": ORIGIN}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"{url}?acknowledged=1"
    assert _status(client, auth, normal, unit) == "acknowledged" and _acks(session) == 1
    after = client.get(done.headers["location"], headers=unit.basic)
    assert "Đã ghi nhận" in text_of(after.text) and not elements(after.text, "form")
    again = client.post(url, data=fields, headers={**unit.basic, "Origin": ORIGIN}, follow_redirects=False)
    assert again.status_code == 303 and _acks(session) == 1  # idempotent, like the JSON ack
    listed = client.get("/api/v1/feed.html", headers=unit.basic)
    assert "Đã xác nhận" in text_of(listed.text)


@pytest.mark.parametrize(
    "attack",
    [
        "foreign origin",
        "foreign referer",
        "cross-site fetch",
        "null origin",
        "no origin at all",
        "no token",
        "altered token",
        "no cookie",
    ],
)
def test_a_forged_post_is_refused(client, auth, session, posted, attack):
    unit, _, normal, *_ = posted
    fields = _form(client, unit, normal)
    headers = {**unit.basic, "Origin": ORIGIN}
    if attack == "foreign origin":
        headers["Origin"] = "https://evil.example"
    elif attack == "foreign referer":
        del headers["Origin"]
        headers["Referer"] = "https://evil.example/page.html"
    elif attack == "cross-site fetch":
        headers["Sec-Fetch-Site"] = "cross-site"
    elif attack == "null origin":
        headers["Origin"] = "null"
    elif attack == "no origin at all":
        del headers["Origin"]  # nor Referer, nor Sec-Fetch-Site: nothing says where it comes from
    elif attack == "no token":
        fields.pop("token")
    elif attack == "altered token":
        fields["token"] = fields["token"][:-2] + ("AA" if not fields["token"].endswith("AA") else "BB")
    elif attack == "no cookie":
        client.cookies.clear()
    refused = client.post(f"/api/v1/feed/bundles/{normal['id']}.html", data=fields, headers=headers)
    assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["detail"]
    assert _status(client, auth, normal, unit) != "acknowledged" and _acks(session) == 0


def test_a_token_for_another_bundle_unit_or_version_is_refused(client, auth, session, settings, posted):
    unit, other, normal, urgent, _ = posted
    fields = _form(client, unit, urgent)  # a real token, for the urgent bundle
    url = f"/api/v1/feed/bundles/{normal['id']}.html"
    headers = {**unit.basic, "Origin": ORIGIN}
    assert client.post(url, data=fields, headers=headers).status_code == 403
    own = _form(client, unit, normal)
    assert client.post(url, data=own, headers={**other.basic, "Origin": ORIGIN}).status_code == 403
    assert client.post(url, data={**own, "version": "2"}, headers=headers).status_code == 403
    assert _acks(session) == 0


def test_an_expired_token_is_refused(client, session, settings, posted):
    unit, _, normal, *_ = posted
    fields = _form(client, unit, normal)
    nonce = fields["token"].split(".")[1]
    binding = csrf.Binding(uuid.UUID(unit.id), uuid.UUID(normal["id"]), 1)
    fields["token"] = csrf.issue(settings.secret_key, binding, nonce, now=0)
    refused = client.post(
        f"/api/v1/feed/bundles/{normal['id']}.html", data=fields, headers={**unit.basic, "Origin": ORIGIN}
    )
    assert refused.status_code == 403 and "expired" in refused.json()["detail"] and _acks(session) == 0


BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_a_person_in_a_browser_reads_a_refusal_as_a_page(client, auth, make_unit, posted):
    unit, _, _, _, recalled = posted
    elsewhere = make_unit("PAGE-LAOS", border_routes=["VN-LA"])
    _recall(client, auth, recalled)
    cases = [
        ("/api/v1/feed.html", {}, 401),
        ("/api/v1/feed.html", auth("admin"), 403),
        (f"/api/v1/feed/bundles/{recalled['id']}.html", unit.basic, 410),
        (f"/api/v1/feed/bundles/{recalled['id']}.html", elsewhere.basic, 404),
        ("/api/v1/feed/bundles/not-an-id.html", unit.basic, 422),
    ]
    for url, headers, status in cases:
        page = client.get(url, headers={**headers, "Accept": BROWSER})
        assert page.status_code == status and page.headers["content-type"].startswith("text/html"), (url, page.text)
        assert outside_references(page.text) == [] and not elements(page.text, "script")
        assert f"Mã lỗi HTTP {status}" in text_of(page.text) and page.headers["vary"] == "Accept"
        assert "default-src 'none'" in page.headers["content-security-policy"]
        # A client that asks for JSON, or says nothing, still gets the problem as the contract says.
        for accept in ({"Accept": "application/json"}, {}):
            plain = client.get(url, headers={**headers, **accept})
            assert plain.status_code == status and plain.headers["content-type"] == "application/problem+json"
    challenged = client.get("/api/v1/feed.html", headers={"Accept": BROWSER})
    assert challenged.headers["www-authenticate"].startswith("Basic")  # the browser still asks for the key
    # Only the unit's pages: the JSON feed answers a browser with the problem.
    json_feed = client.get("/api/v1/feed", headers={"Accept": BROWSER})
    assert json_feed.status_code == 401 and json_feed.headers["content-type"] == "application/problem+json"
