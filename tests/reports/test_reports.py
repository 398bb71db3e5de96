"""The monitoring reports (coverage, distribution, production) and the yearly review's JSON,
CSV and XLSX, against data built through the services and the API."""

import csv
import io
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook

from app.organisations.models import Organisation
from tests.factories import make_material

YEAR = datetime.now(UTC).year
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def corpus(session, users, client, auth, make_unit):
    """Mông: a Vietnamese material and its published Hmong translation (untagged); Khmer: one in
    Khmer; Tày: only a draft. One unit on VN-LA receives a bundle; one on VN-CN gets nothing."""
    editor = users["editor"]
    mong = make_material(
        session,
        editor,
        status="published",
        language="vi",
        ethnic_groups=["Mông"],
        border_routes=["VN-LA"],
        topics=["ethnic-policy"],
        kind="leaflet",
    )
    make_material(session, editor, status="published", language="hnj", translation_of=mong.id, kind="leaflet")
    make_material(session, editor, status="published", language="km", ethnic_groups=["Khmer"], kind="video")
    make_material(session, editor, status="draft", language="vi", ethnic_groups=["Tày"])
    session.commit()
    receiving = make_unit("RP-LA", province="Nghệ An", border_routes=["VN-LA"])
    make_unit("RP-CN", province="Lạng Sơn", border_routes=["VN-CN"])
    body = {"title": "Gói báo cáo", "items": [{"material_id": str(mong.id)}], "targets": {"units": [receiving.id]}}
    bundle = client.post("/api/v1/bundles", json=body, headers=auth("editor")).json()
    assert client.post(f"/api/v1/bundles/{bundle['id']}/publish", headers=auth("reviewer")).status_code == 200
    assert client.get(f"/api/v1/feed/bundles/{bundle['id']}", headers=receiving.headers).status_code == 200
    return {"mong": mong, "unit": receiving}


def get(client, auth, path, **params):
    response = client.get(f"/api/v1/reports/{path}", params=params, headers=auth("analyst"))
    assert response.status_code == 200, response.text
    return response.json()


def rows_by(table, key):
    return {row[key]: row for row in table["rows"]}


def test_coverage_lists_every_group_and_counts_translations_for_their_own_language(client, auth, corpus):
    tables = get(client, auth, "coverage")["tables"]
    groups = rows_by(tables["by_group"], "code")
    assert len(groups) == 54
    mong, khmer, tay = groups["08"], groups["05"], groups["02"]
    assert mong["materials"] == 2 and mong["in_own_language"] == 1 and mong["served_in_own_language"] is True
    assert "hnj" in mong["own_languages"]
    assert khmer["materials"] == 1 and khmer["served_in_own_language"] is True
    assert tay["materials"] == 0 and tay["per_100k"] == 0 and tay["served_in_own_language"] is False
    assert mong["per_100k"] == pytest.approx(2 * 100000 / mong["population_2019"], abs=0.01)
    assert groups["17"]["served_in_own_language"] is None  # Sán Dìu: no language code to count
    languages = {(r["code"], r["language"]): r["materials"] for r in tables["by_group_language"]["rows"]}
    assert languages == {("08", "vi"): 1, ("08", "hnj"): 1, ("05", "km"): 1}
    assert {(r["code"], r["border_route"]) for r in tables["by_group_border_route"]["rows"]} == {("08", "VN-LA")}
    assert tables["summary"]["rows"][0] == {"materials": 3, "languages": 3, "groups_served": 2, "groups": 54}


def test_coverage_gaps_are_ranked_groups_first_then_places(client, auth, corpus):
    gaps = get(client, auth, "coverage")["tables"]["gaps"]["rows"]
    assert [g["rank"] for g in gaps] == list(range(1, len(gaps) + 1))
    kinds = [g["gap"] for g in gaps]
    assert kinds == sorted(
        kinds,
        key=[
            "group_without_materials",
            "group_without_own_language",
            "province_units_without_deliveries",
            "route_units_without_deliveries",
        ].index,
    )
    empty = [g["code"] for g in gaps if g["gap"] == "group_without_materials"]
    assert "02" in empty and "08" not in empty and "01" not in empty  # Kinh is not a minority
    assert empty[0] == "02"  # Tày, the largest minority with nothing
    places = {(g["gap"], g["name"]) for g in gaps if g["gap"].endswith("without_deliveries")}
    assert ("route_units_without_deliveries", "Việt Nam – Trung Quốc") in places or any(
        g["code"] == "VN-CN" for g in gaps
    )
    assert not any(g["code"] == "VN-LA" for g in gaps)


def test_coverage_filters_by_route_and_refuses_a_period_backwards(client, auth, corpus):
    tables = get(client, auth, "coverage", border_route="Lào")["tables"]
    assert rows_by(tables["by_group"], "code")["05"]["materials"] == 0
    assert rows_by(tables["by_group"], "code")["08"]["materials"] == 2
    backwards = client.get(
        "/api/v1/reports/coverage", params={"from": f"{YEAR}-05-01", "to": f"{YEAR}-04-01"}, headers=auth("admin")
    )
    assert backwards.status_code == 422 and backwards.json()["errors"][0]["loc"] == ["query", "from"]
    # Only `to` given, and out of range: the error is on `to` (`from` is taken from it).
    for params, loc in (({"to": "9999-12-31"}, "to"), ({"from": "1999-12-31", "to": f"{YEAR}-01-01"}, "from")):
        bad = client.get("/api/v1/reports/coverage", params=params, headers=auth("admin"))
        assert bad.status_code == 422 and bad.json()["errors"][0]["loc"] == ["query", loc], bad.text
    unknown = client.get("/api/v1/reports/coverage", params={"border_route": "Mars"}, headers=auth("admin"))
    assert unknown.status_code == 422


def test_distribution_counts_fetches_and_lists_silent_units(client, auth, corpus):
    report = get(client, auth, "distribution", silent_days=1)
    tables = report["tables"]
    summary = tables["summary"]["rows"][0]
    assert summary["bundles_published"] == 1 and summary["deliveries"] == 1 and summary["fetched"] == 1
    assert summary["share_fetched"] == 1.0 and summary["acknowledged"] == 0 and summary["share_acknowledged"] == 0
    assert summary["median_hours_to_fetch"] is not None and summary["median_hours_to_acknowledge"] is None
    assert [r["province"] for r in tables["by_province"]["rows"]] == ["Nghệ An"]
    assert [r["border_route"] for r in tables["by_border_route"]["rows"]] == ["VN-LA"]
    assert [r["unit_type"] for r in tables["by_unit_type"]["rows"]] == ["border_guard_post"]
    silent = [r["code"] for r in tables["silent_units"]["rows"]]
    assert "RP-CN" in silent and "RP-LA" not in silent


def test_production_counts_per_month_and_workflow_percentiles(client, auth, corpus):
    tables = get(client, auth, "production")["tables"]
    month = datetime.now(UTC).strftime("%Y-%m")
    assert tables["monthly"]["rows"] == [{"month": month, "created": 4, "published": 3}]
    kinds = {r["kind"]: r for r in tables["monthly_by_kind"]["rows"]}
    assert kinds["leaflet"]["published"] == 2 and kinds["video"]["created"] == 1
    assert {r["topic"] for r in tables["monthly_by_topic"]["rows"]} == {"ethnic-policy"}
    workflow = rows_by(tables["workflow_hours"], "kind")
    assert workflow["*"]["materials"] == 3 and workflow["leaflet"]["materials"] == 2
    assert workflow["*"]["p50"] is not None and workflow["*"]["p50"] <= workflow["*"]["p90"]


def test_percentiles_use_nearest_rank(session):
    from sqlalchemy import literal, select, union_all

    from app.reports.sql import percentiles

    values = union_all(*[select(literal("a").label("k"), literal(v).label("v")) for v in (5, 1, 4, 2, 3, 10)])
    row = session.execute(percentiles(select(values.subquery()), ["k"], "v")).one()
    assert (row.p50, row.p90) == (3, 10)
    # PostgreSQL's percentile_disc (what the reports use there) gives the same nearest rank, ten values too.
    if session.get_bind().dialect.name == "postgresql":
        for data, expected in (((5, 1, 4, 2, 3, 10), (3, 10)), (tuple(range(1, 11)), (5, 9))):
            values = union_all(*[select(literal("a").label("k"), literal(v).label("v")) for v in data])
            for form in (False, True):
                row = session.execute(percentiles(select(values.subquery()), ["k"], "v", postgresql=form)).one()
                assert (row.p50, row.p90) == expected


def test_yearly_json_has_both_years_and_csv_xlsx_formats(client, auth, corpus):
    review = get(client, auth, "yearly", year=YEAR)
    assert review["year"] == YEAR and review["previous_year"] == YEAR - 1
    assert set(review["sections"]["coverage"]) == {"title", str(YEAR), str(YEAR - 1)}
    summary = {r["indicator"]: r for r in review["tables"]["summary"]["rows"]}
    assert summary["materials"]["current"] == 3 and summary["materials"]["previous"] == 0
    assert summary["groups_served_in_own_language"]["change"] == 2
    by_group = review["tables"]["coverage.by_group"]["rows"]
    assert len(by_group) == 108 and {r["year"] for r in by_group} == {YEAR, YEAR - 1}

    headers = {**auth("analyst"), "Accept": "text/csv"}
    response = client.get(
        "/api/v1/reports/yearly", params={"year": YEAR, "table": "coverage.by_group"}, headers=headers
    )
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 108 and rows[0]["year"] == str(YEAR - 1)
    disposition = response.headers["content-disposition"]
    assert disposition == f'attachment; filename="bao-cao-nam-{YEAR}-coverage.by_group.csv"'  # one name per table
    flags = {value for row in rows for key, value in row.items() if isinstance(by_group[0].get(key), bool)}
    assert flags & {"true", "false"} and flags <= {"true", "false", ""}  # as JSON says it, not True/False

    response = client.get("/api/v1/reports/yearly", params={"year": YEAR}, headers={**auth("admin"), "Accept": XLSX})
    assert response.status_code == 200 and response.headers["content-type"] == XLSX
    workbook = load_workbook(io.BytesIO(response.content))
    assert len(workbook.sheetnames) == len(review["tables"]) and "coverage by_group" in workbook.sheetnames
    assert workbook["coverage by_group"]["A2"].value == "Năm"


@pytest.mark.parametrize(
    "params, accept, loc",
    [
        ({"year": YEAR, "table": "nope"}, "text/csv", ["query", "table"]),
        ({"year": YEAR}, "text/csv", ["query", "table"]),
        ({"year": 1850}, "application/json", ["query", "year"]),
    ],
)
def test_yearly_bad_parameters_are_clear_422s(client, auth, params, accept, loc):
    response = client.get("/api/v1/reports/yearly", params=params, headers={**auth("analyst"), "Accept": accept})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["loc"] == loc
    if params.get("table") == "nope":
        assert "coverage.by_group" in response.json()["detail"]


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        ("text/html;q=0.5, application/json", "application/json"),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "text/html"),
        ("application/json;q=0.1, application/*", XLSX),
    ],
)
def test_yearly_honours_the_accept_header_preferences(client, auth, accept, media_type):
    headers = {**auth("analyst"), "Accept": accept}
    response = client.get("/api/v1/reports/yearly", params={"year": YEAR}, headers=headers)
    assert response.status_code == 200 and response.headers["content-type"].split(";")[0] == media_type
    assert response.headers["Vary"] == "Accept"  # one URL, several representations: caches keep them apart


def test_yearly_in_a_format_it_does_not_offer_is_a_406(client, auth):
    headers = {**auth("analyst"), "Accept": "application/xml"}
    response = client.get("/api/v1/reports/yearly", params={"year": YEAR}, headers=headers)
    assert response.status_code == 406
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "text/csv" in response.json()["detail"]


@pytest.mark.parametrize("path", ["coverage", "distribution", "production", "yearly?year=2026"])
def test_units_and_other_staff_are_refused(client, auth, corpus, path):
    for headers in (corpus["unit"].headers, auth("editor"), auth("reviewer")):
        assert client.get(f"/api/v1/reports/{path}", headers=headers).status_code == 403


def test_yearly_html_is_one_self_contained_vietnamese_page_with_svg_charts(client, auth, corpus):
    response = client.get(
        "/api/v1/reports/yearly", params={"year": YEAR}, headers={**auth("analyst"), "Accept": "text/html"}
    )
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    page = response.text
    assert '<html lang="vi">' in page and f"Báo cáo tổng kết năm {YEAR}" in page
    assert page.count("<svg") == 3 and "@media print" in page
    assert "Mông" in page and "Dân tộc không có tài liệu nào" in page
    # The summary names each figure for a reader; its machine key is for CSV, XLSX and JSON only.
    assert "Số dân tộc có tài liệu bằng tiếng của mình" in page and "groups_served_in_own_language" not in page
    assert "<th>Chỉ số</th>" not in page
    # Namespaces and RDF metadata in the SVG name URIs but load nothing; these would load something.
    for loads in ('src="http', "src='http", 'href="http', "url(http", "@import", "<link", "<script", "<img"):
        assert loads not in page
    # The page's policy lets its own inline styles (the <style> element and the charts' style
    # attributes) apply, and nothing else: the strict default would leave it unstyled.
    policy = dict(part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";"))
    assert policy["default-src"] == "'none'" and policy["style-src"] == "'unsafe-inline'"
    assert "script-src" not in policy and 'style="' in page and "<style>" in page
    assert len(response.content) < 2 * 1024 * 1024


def test_production_counts_by_the_authors_organisation(client, auth, corpus, session, users):
    department = Organisation(code="SO-LS", name="Sở Dân tộc và Tôn giáo Lạng Sơn", kind="provincial_department")
    session.add(department)
    session.flush()
    users["editor"].organisation_id = department.id
    session.commit()
    rows = get(client, auth, "production")["tables"]["monthly_by_organisation"]["rows"]
    assert {r["organisation"] for r in rows} == {"Sở Dân tộc và Tôn giáo Lạng Sơn"}
    assert sum(r["created"] for r in rows) == 4 and sum(r["published"] for r in rows) == 3


def test_one_statement_keeps_zeros_duplicates_and_lines_of_succession(client, auth, session, users, make_unit):
    """The reports are built in one statement each: a translation tagged like its source still
    counts once per group and topic, groups with nothing keep their zeros, and a unit still
    filed under Hà Giang (merged into Tuyên Quang in 2025) counts with Tuyên Quang's."""
    from datetime import date

    from app.taxonomy import service as taxonomy_service
    from app.units.models import Unit

    editor = users["editor"]
    source = make_material(
        session, editor, status="published", language="vi", ethnic_groups=["Mông"], topics=["ethnic-policy"]
    )
    make_material(
        session,
        editor,
        status="published",
        language="hnj",
        translation_of=source.id,
        ethnic_groups=["Mông"],
        topics=["ethnic-policy"],
    )
    session.commit()
    tables = get(client, auth, "coverage")["tables"]
    groups = rows_by(tables["by_group"], "code")
    assert groups["08"]["materials"] == 2 and groups["08"]["in_own_language"] == 1
    assert groups["02"]["materials"] == 0 and groups["02"]["in_own_language"] == 0
    assert groups["02"]["served_in_own_language"] is False and groups["17"]["in_own_language"] is None
    assert [(r["code"], r["topic"], r["materials"]) for r in tables["by_group_topic"]["rows"]] == [
        ("08", "ethnic-policy", 2)
    ]
    assert tables["summary"]["rows"][0]["groups_served"] == 1

    old, new = make_unit("RP-HG", province="Tuyên Quang"), make_unit("RP-TQ", province="Tuyên Quang")
    ha_giang = taxonomy_service.resolve_province(session, "Hà Giang", ["p"], on=date(2024, 1, 1))
    session.get(Unit, old.id).province = ha_giang.id
    session.commit()
    body = {"title": "Gói", "items": [{"material_id": str(source.id)}], "targets": {"units": [old.id, new.id]}}
    bundle = client.post("/api/v1/bundles", json=body, headers=auth("editor")).json()
    assert client.post(f"/api/v1/bundles/{bundle['id']}/publish", headers=auth("reviewer")).status_code == 200
    assert client.get(f"/api/v1/feed/bundles/{bundle['id']}", headers=old.headers).status_code == 200
    provinces = get(client, auth, "distribution")["tables"]["by_province"]["rows"]
    assert [(r["province"], r["units"], r["deliveries"], r["fetched"]) for r in provinces] == [("Tuyên Quang", 2, 2, 1)]
    assert provinces[0]["share_fetched"] == 0.5 and provinces[0]["median_hours_to_acknowledge"] is None
