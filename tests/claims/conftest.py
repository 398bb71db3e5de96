from collections.abc import Callable
from typing import Any

import pytest

from tests.bundles.kit import FeedUnit, approved, make_bundle, make_unit, publish  # noqa: F401

LAND = {
    "summary": "Tin đồn nhà nước sẽ thu hồi toàn bộ đất rừng của đồng bào Mông ở Điện Biên",
    "excerpt": "Bài đăng kêu gọi bà con không nhận hỗ trợ vì sắp bị thu hồi đất rừng.",
    "urls": ["https://www.facebook.com/groups/123/posts/456?utm_source=share&fbclid=abc"],
    "platform": "facebook",
    "language": "vi",
    "ethnic_groups": ["Mông"],
    "border_routes": ["VN-LA"],
    "provinces": ["Điện Biên"],
}


@pytest.fixture
def report(client) -> Callable[..., Any]:
    """report(headers, **fields) -> the response of POST /claim-reports (LAND unless overridden)."""

    def make(headers: dict[str, str], **fields: Any):
        return client.post("/api/v1/claim-reports", json={**LAND, **fields}, headers=headers)

    return make


@pytest.fixture
def claim_from(client, auth) -> Callable[..., dict]:
    """claim_from(report_ids, **fields) -> a claim opened by the editor from those reports."""

    def make(report_ids: list[str], **fields: Any) -> dict:
        body = {"title": "Tin đồn thu hồi đất rừng của đồng bào Mông", "report_ids": report_ids, **fields}
        created = client.post("/api/v1/claims", json=body, headers=auth("editor"))
        assert created.status_code == 201, created.text
        return created.json()

    return make


@pytest.fixture
def border_unit(make_unit) -> FeedUnit:  # noqa: F811
    return make_unit("DB-DON1", province="Điện Biên", border_routes=["VN-LA"])
