"""Who may call what: every /api/v1 route against a table of principals.

The table is the contract. A route missing from it fails the test, so a new route cannot slip
in without someone deciding who may call it. "Allowed" means the route lets the caller through
(the answer may still be 404 or 422 for the dummy ids and empty bodies used here); a caller who
is not allowed gets 403, an anonymous one 401.
"""

import re

import pytest
from fastapi.routing import iter_route_contexts

ANYONE = {"unit", "admin", "editor", "reviewer", "analyst"}
STAFF = {"admin", "editor", "reviewer", "analyst"}
EDITORS = {"admin", "editor"}
WORKFLOW = {"admin", "editor", "reviewer"}
REVIEWERS = {"admin", "reviewer"}
ADMINS = {"admin"}
AUDIT = {"admin", "analyst"}
UNITS = {"unit"}
REPORTERS = {"unit", "admin", "editor", "reviewer"}

MATRIX: dict[tuple[str, str], set[str]] = {
    ("GET", "/api/v1/me"): ANYONE,
    ("POST", "/api/v1/me/password"): STAFF,
    ("POST", "/api/v1/users"): ADMINS,
    ("GET", "/api/v1/users"): ADMINS,
    ("GET", "/api/v1/users/{user_id}"): ADMINS,
    ("PATCH", "/api/v1/users/{user_id}"): ADMINS,
    ("GET", "/api/v1/ethnic-groups"): ANYONE,
    ("GET", "/api/v1/ethnic-groups/{code}"): ANYONE,
    ("GET", "/api/v1/border-routes"): ANYONE,
    ("GET", "/api/v1/provinces"): ANYONE,
    ("GET", "/api/v1/provinces/{province_id}"): ANYONE,
    ("GET", "/api/v1/topics"): ANYONE,
    ("POST", "/api/v1/materials"): EDITORS,
    ("GET", "/api/v1/materials"): STAFF,
    ("GET", "/api/v1/materials/{material_id}"): STAFF,
    ("PATCH", "/api/v1/materials/{material_id}"): EDITORS,
    ("DELETE", "/api/v1/materials/{material_id}"): EDITORS,
    ("POST", "/api/v1/materials/{material_id}/transitions"): WORKFLOW,
    ("GET", "/api/v1/materials/{material_id}/revisions"): STAFF,
    ("GET", "/api/v1/materials/{material_id}/translations"): STAFF,
    ("GET", "/api/v1/materials/{material_id}/ninjs"): STAFF,
    ("GET", "/api/v1/materials/{material_id}/revisions/{version}"): STAFF,
    ("POST", "/api/v1/materials/{material_id}/attachments"): EDITORS,
    ("GET", "/api/v1/attachments/{attachment_id}/content"): STAFF,
    ("GET", "/api/v1/search"): STAFF,
    ("POST", "/api/v1/units"): ADMINS,
    ("GET", "/api/v1/units"): STAFF,
    ("GET", "/api/v1/units/{unit_id}"): STAFF,
    ("PATCH", "/api/v1/units/{unit_id}"): ADMINS,
    ("DELETE", "/api/v1/units/{unit_id}"): ADMINS,
    ("POST", "/api/v1/units/{unit_id}/keys"): ADMINS,
    ("GET", "/api/v1/units/{unit_id}/keys"): ADMINS,
    ("GET", "/api/v1/units/{unit_id}/keys/{key_id}"): ADMINS,
    ("DELETE", "/api/v1/units/{unit_id}/keys/{key_id}"): ADMINS,
    ("GET", "/api/v1/audit"): AUDIT,
    ("GET", "/api/v1/reports/coverage"): AUDIT,
    ("GET", "/api/v1/reports/distribution"): AUDIT,
    ("GET", "/api/v1/reports/production"): AUDIT,
    ("GET", "/api/v1/reports/response"): AUDIT,
    ("GET", "/api/v1/reports/yearly"): AUDIT,
    ("POST", "/api/v1/bundles"): EDITORS,
    ("GET", "/api/v1/bundles"): STAFF,
    ("GET", "/api/v1/bundles/{bundle_id}"): STAFF,
    ("PATCH", "/api/v1/bundles/{bundle_id}"): EDITORS,
    ("DELETE", "/api/v1/bundles/{bundle_id}"): EDITORS,
    ("POST", "/api/v1/bundles/{bundle_id}/publish"): REVIEWERS,
    ("POST", "/api/v1/bundles/{bundle_id}/recall"): REVIEWERS,
    ("GET", "/api/v1/bundles/{bundle_id}/publications"): STAFF,
    ("GET", "/api/v1/bundles/{bundle_id}/publications/{version}"): STAFF,
    ("GET", "/api/v1/bundles/{bundle_id}/deliveries"): STAFF,
    ("GET", "/api/v1/deliveries/overdue"): STAFF,
    ("GET", "/api/v1/feed"): UNITS,
    ("GET", "/api/v1/feed.atom"): UNITS,
    ("GET", "/api/v1/feed.json"): UNITS,
    ("GET", "/api/v1/feed/signing-key"): ANYONE,
    ("GET", "/api/v1/feed/bundles/{bundle_id}"): UNITS,
    ("GET", "/api/v1/feed/bundles/{bundle_id}/package"): UNITS,
    ("GET", "/api/v1/feed/bundles/{bundle_id}/attachments/{attachment_id}"): UNITS,
    ("POST", "/api/v1/feed/bundles/{bundle_id}/ack"): UNITS,
    ("GET", "/api/v1/feed.html"): UNITS,
    ("GET", "/api/v1/feed/bundles/{bundle_id}.html"): UNITS,
    ("POST", "/api/v1/feed/bundles/{bundle_id}.html"): UNITS,
    ("POST", "/api/v1/organisations"): ADMINS,
    ("GET", "/api/v1/organisations"): STAFF,
    ("GET", "/api/v1/organisations/{organisation_id}"): STAFF,
    ("PATCH", "/api/v1/organisations/{organisation_id}"): ADMINS,
    ("DELETE", "/api/v1/organisations/{organisation_id}"): ADMINS,
    ("POST", "/api/v1/claim-reports"): REPORTERS,
    ("GET", "/api/v1/claim-reports"): ANYONE,
    ("GET", "/api/v1/claim-reports/{report_id}"): ANYONE,
    ("POST", "/api/v1/claim-reports/{report_id}/move"): WORKFLOW,
    ("POST", "/api/v1/claim-reports/{report_id}/attachments"): REPORTERS,
    ("GET", "/api/v1/claim-reports/{report_id}/attachments/{attachment_id}/content"): ANYONE,
    ("POST", "/api/v1/claims"): WORKFLOW,
    ("GET", "/api/v1/claims"): STAFF,
    ("GET", "/api/v1/claims/{claim_id}"): STAFF,
    ("PATCH", "/api/v1/claims/{claim_id}"): WORKFLOW,
    ("POST", "/api/v1/claims/{claim_id}/merge"): WORKFLOW,
    ("GET", "/api/v1/claims/{claim_id}/reports"): STAFF,
    ("GET", "/api/v1/claims/{claim_id}/comments"): STAFF,
    ("POST", "/api/v1/claims/{claim_id}/comments"): WORKFLOW,
    ("GET", "/api/v1/claims/{claim_id}/comments/{comment_id}"): STAFF,
    ("GET", "/api/v1/claims/{claim_id}/timeline"): STAFF,
    ("GET", "/api/v1/claims/{claim_id}/claimreview"): STAFF,
    ("POST", "/api/v1/webhooks"): ADMINS,
    ("GET", "/api/v1/webhooks"): ADMINS,
    ("GET", "/api/v1/webhooks/{webhook_id}"): ADMINS,
    ("PATCH", "/api/v1/webhooks/{webhook_id}"): ADMINS,
    ("DELETE", "/api/v1/webhooks/{webhook_id}"): ADMINS,
    ("GET", "/api/v1/webhooks/{webhook_id}/deliveries"): ADMINS,
}
PUBLIC = {("POST", "/api/v1/auth/token")}
DUMMY_ID = "0190d0a8-0000-7000-8000-000000000000"


def app_routes(app):
    for route in iter_route_contexts(app.routes):
        if route.path.startswith("/api/v1"):
            for method in (route.methods or set()) - {"HEAD", "OPTIONS"}:
                yield method, route.path


def test_every_route_is_in_the_table(app):
    served = set(app_routes(app)) - PUBLIC
    assert served - MATRIX.keys() == set(), "routes nobody decided on"
    assert MATRIX.keys() - served == set(), "table rows for routes that do not exist"


@pytest.fixture
def principal_headers(client, auth):
    unit = client.post(
        "/api/v1/units", json={"code": "MATRIX-UNIT", "name": "Đơn vị kiểm thử", "type": "other"}, headers=auth("admin")
    ).json()
    key = client.post(f"/api/v1/units/{unit['id']}/keys", headers=auth("admin")).json()["key"]
    headers = {role: auth(role) for role in STAFF}
    headers["unit"] = {"Authorization": f"Bearer {key}"}
    return headers


@pytest.mark.parametrize(("method", "path"), sorted(MATRIX))
def test_route_admits_exactly_its_principals(client, principal_headers, method, path):
    url = re.sub(r"\{version\}", "1", re.sub(r"\{(?!version)[^}]+\}", DUMMY_ID, path))
    for principal, headers in principal_headers.items():
        status = client.request(method, url, headers=headers).status_code
        if principal in MATRIX[(method, path)]:
            assert status not in (401, 403), f"{principal} refused on {method} {path} ({status})"
        else:
            assert status == 403, f"{principal} got {status} on {method} {path}, expected 403"
    assert client.request(method, url).status_code == 401
