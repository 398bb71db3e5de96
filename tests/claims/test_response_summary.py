"""The response aggregates the monitoring reports read, computed in SQL on both databases."""

from datetime import UTC, datetime, timedelta

from app.bundles.models import Bundle
from app.claims.models import Claim, ClaimRebuttal, ClaimTag
from app.claims.reports import response_summary
from tests.factories import make_material

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def _claim(session, *, route, severity="high", rebutted_after=None, delivered_after=None, material=None, at=T0):
    claim = Claim(
        title=f"Tin giả {route} {severity}",
        summary="",
        status="rebutted" if rebutted_after is not None else "new",
        severity=severity,
        first_reported_at=at,
        deadline_at=at + timedelta(days=3),
        rebutted_at=at + timedelta(hours=rebutted_after) if rebutted_after is not None else None,
        report_count=1,
        version=1,
        tags=[ClaimTag(facet="border_route", value=route, position=0)],
    )
    session.add(claim)
    session.flush()
    if delivered_after is not None:
        bundle = Bundle(title="Cải chính", status="published", published_at=T0 + timedelta(hours=delivered_after))
        session.add(bundle)
        session.flush()
        session.add(
            ClaimRebuttal(
                claim_id=claim.id, material_id=material.id, verdict="false", published_at=T0, bundle_id=bundle.id
            )
        )
    return claim


def test_percentiles_by_route_severity_and_month_with_the_overdue_list(session):
    material = make_material(session)
    for hours in (1, 2, 3, 10):
        _claim(session, route="VN-LA", rebutted_after=hours, delivered_after=hours + 1, material=material)
    _claim(session, route="VN-CN", severity="normal", rebutted_after=5)
    late = _claim(session, route="VN-CN", severity="critical")
    merged = _claim(session, route="VN-CN", severity="low", rebutted_after=100)
    merged.merged_into_id = late.id
    _claim(session, route="VN-LA", severity="low", rebutted_after=1, at=T0 - timedelta(days=60))
    session.flush()

    summary = response_summary(session, T0 - timedelta(days=1), T0 + timedelta(days=30))
    assert summary["claims_by_status"] == {"rebutted": 5, "new": 1}
    assert summary["claims_by_severity"] == {"high": 4, "normal": 1, "critical": 1}
    rebuttal = {(r["dimension"], r["value"]): r for r in summary["time_to_rebuttal_hours"]}
    assert rebuttal[("border_route", "VN-LA")] == {
        "dimension": "border_route",
        "value": "VN-LA",
        "count": 4,
        "p50": 2.0,
        "p90": 10.0,
    }
    assert rebuttal[("border_route", "VN-CN")]["p50"] == 5.0
    assert rebuttal[("severity", "high")]["count"] == 4
    assert rebuttal[("month", "2026-03")]["count"] == 5
    delivery = {(r["dimension"], r["value"]): r for r in summary["time_to_delivery_hours"]}
    assert delivery[("border_route", "VN-LA")]["p50"] == 3.0 and ("border_route", "VN-CN") not in delivery
    assert [o["claim_id"] for o in summary["overdue"]] == [str(late.id)]

    only_china = response_summary(session, T0 - timedelta(days=1), T0 + timedelta(days=30), border_route="VN-CN")
    assert only_china["claims_by_severity"] == {"normal": 1, "critical": 1}


def test_response_report_over_http_and_in_the_yearly_review(session, client, auth, users):
    """GET /reports/response turns the aggregates into tables; the yearly review carries them."""
    _claim(session, route="VN-LA", severity="critical", rebutted_after=10)
    _claim(session, route="VN-CN", severity="low")
    session.commit()
    response = client.get(
        "/api/v1/reports/response", params={"from": "2026-03-01", "to": "2026-03-31"}, headers=auth("analyst")
    )
    assert response.status_code == 200, response.text
    tables = response.json()["tables"]
    assert set(tables) == {"claims_by_status", "claims_by_severity", "time_to_rebuttal", "time_to_delivery", "overdue"}
    by_status = {row["status"]: row["claims"] for row in tables["claims_by_status"]["rows"]}
    assert by_status == {"rebutted": 1, "new": 1}
    rebuttal = {(r["dimension"], r["value"]): r for r in tables["time_to_rebuttal"]["rows"]}
    assert rebuttal[("border_route", "VN-LA")]["p50"] == 10
    assert [row["severity"] for row in tables["overdue"]["rows"]] == ["low"]
    only_laos = client.get(
        "/api/v1/reports/response",
        params={"from": "2026-03-01", "to": "2026-03-31", "border_route": "Lào"},
        headers=auth("admin"),
    ).json()["tables"]
    assert {row["status"] for row in only_laos["claims_by_status"]["rows"]} == {"rebutted"}
    assert client.get("/api/v1/reports/response", headers=auth("editor")).status_code == 403
    yearly = client.get("/api/v1/reports/yearly", params={"year": 2026}, headers=auth("analyst"))
    assert yearly.status_code == 200
    assert "response" in yearly.json()["sections"]
