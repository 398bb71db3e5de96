"""The OpenAPI document describes the errors the API really sends (issue 7, §6)."""

import uuid

from app.accounts.deps import EditorUser
from app.db import DbSession
from app.errors import PROBLEM_JSON

METHODS = {"get", "post", "put", "patch", "delete"}


def operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def test_every_error_answer_is_a_problem_and_422_lists_the_errors(app):
    document = app.openapi()
    assert "HTTPValidationError" not in document["components"]["schemas"]
    count = 0
    for path, method, operation in operations(document):
        for status, response in operation["responses"].items():
            if int(status) >= 400 and not (path == "/readyz" and status == "503"):
                count += 1
                schema = response["content"][PROBLEM_JSON]["schema"]["$ref"]
                expected = "ValidationProblem" if status == "422" else "Problem"
                assert schema == f"#/components/schemas/{expected}", (method, path, status)
    assert count > 200


def test_statuses_follow_what_each_route_depends_on(app):
    paths = app.openapi()["paths"]
    patch = paths["/api/v1/materials/{material_id}"]["patch"]["responses"]
    assert {"400", "401", "403", "404", "409", "412", "413", "422", "428", "503"} <= set(patch)
    assert {"401", "429"} <= set(paths["/api/v1/auth/token"]["post"]["responses"])
    assert "429" in paths["/api/v1/me/password"]["post"]["responses"]  # counted like a sign-in
    assert "415" in paths["/api/v1/materials/{material_id}/attachments"]["post"]["responses"]
    assert "416" in paths["/api/v1/attachments/{attachment_id}/content"]["get"]["responses"]
    assert "401" not in paths["/healthz"]["get"]["responses"]
    assert "404" not in paths["/api/v1/materials"]["get"]["responses"]
    publish = paths["/api/v1/bundles/{bundle_id}/publish"]["post"]
    assert "412" in publish["responses"] and "428" not in publish["responses"]


def test_if_match_is_required_where_api_md_requires_it(app):
    for path, method, operation in operations(app.openapi()):
        for parameter in operation.get("parameters", []):
            if parameter["name"].lower() == "if-match":
                assert parameter["required"] is (method in {"patch", "delete"}), (method, path)


def test_a_route_added_later_is_documented_without_changes(app):
    def archive_thing(thing_id: uuid.UUID, session: DbSession, actor: EditorUser) -> dict:
        return {}

    app.add_api_route("/api/v1/things/{thing_id}/archive", archive_thing, methods=["POST"], operation_id="archive")
    responses = app.openapi()["paths"]["/api/v1/things/{thing_id}/archive"]["post"]["responses"]
    assert {"400", "401", "403", "404", "409", "422", "503"} <= set(responses)


def test_every_integer_parameter_is_bounded_for_the_database(app):
    for path, method, operation in operations(app.openapi()):
        for parameter in operation.get("parameters", []):
            schema = parameter["schema"]
            if schema.get("type") == "integer":
                assert schema.get("maximum", 2**63) < 2**31, (method, path, parameter["name"])
