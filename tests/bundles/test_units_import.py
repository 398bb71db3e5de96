"""`ttdn import-units`: per-row errors with row numbers, good rows land, parents first; the demo
units; and units imported later receive the live bundles they match."""

import io

from sqlalchemy import func, select
from typer.testing import CliRunner

from app.cli import cli
from app.units import demo, importer
from app.units.models import Unit
from tests.bundles.kit import feed_ids
from tests.factories import count_rows

CSV = """code,name,type,province,border_routes,parent_code
IMP-CHILD,Đồn con,border_guard_post,Lạng Sơn,VN-CN,IMP-PARENT
IMP-PARENT,Bộ chỉ huy,provincial_department,lang son,Trung Quốc,
IMP-BAD-TYPE,Đơn vị sai loại,army,Lạng Sơn,VN-CN,
IMP-BAD-PROVINCE,Đơn vị sai tỉnh,police,Atlantis,,
IMP-ORPHAN,Đơn vị mồ côi,commune,,VN-LA,NO-SUCH-PARENT
IMP-PARENT,Trùng mã,other,,,
,Không mã,other,,,
IMP-LAO,Đồn tuyến Lào,border_guard_post,Nghệ An,VN-LA;lao,
"""


def test_good_rows_land_and_every_bad_row_is_reported_by_number(session):
    report = importer.import_units(session, io.StringIO(CSV))
    session.flush()
    created = {unit.code: unit for unit in report.created}
    assert set(created) == {"IMP-PARENT", "IMP-CHILD", "IMP-LAO"}
    assert created["IMP-CHILD"].parent_id == created["IMP-PARENT"].id  # the parent came later in the file
    assert created["IMP-LAO"].border_routes == ["VN-LA"] and created["IMP-PARENT"].border_routes == ["VN-CN"]
    errors = dict(report.errors)
    assert sorted(errors) == [4, 5, 6, 7, 8]
    assert "type" in errors[4] and "Atlantis" in errors[5] and "NO-SUCH-PARENT" in errors[6]
    assert "exists already" in errors[7] and "code" in errors[8]


def test_a_child_of_a_failed_row_says_so(session):
    text = "code,name,type,province,border_routes,parent_code\nKID,Con,other,,,DAD\nDAD,Cha,army,,,\n"
    report = importer.import_units(session, io.StringIO(text))
    assert report.created == [] and dict(report.errors)[2] == "parent_code: DAD: row 3 (its parent) failed."


def test_a_file_without_the_required_columns_is_refused(session):
    report = importer.import_units(session, io.StringIO("ma,ten\nX,Y\n"))
    assert report.created == [] and report.errors[0][0] == 1 and "code" in report.errors[0][1]


def test_imported_units_receive_live_bundles_they_match(client, session, publish, auth):
    bundle = publish({"border_routes": ["VN-LA"]})
    report = importer.import_units(session, io.StringIO(CSV))
    session.commit()
    lao = next(unit for unit in report.created if unit.code == "IMP-LAO")
    key = client.post(f"/api/v1/units/{lao.id}/keys", headers=auth("admin")).json()["key"]
    unit = type("U", (), {"headers": {"Authorization": f"Bearer {key}"}})()
    assert feed_ids(client, unit) == [bundle["id"]]


def test_demo_units_cover_every_route_and_load_only_into_an_empty_register(session):
    assert session.scalar(select(func.count()).select_from(Unit)) == 0
    added = demo.load_demo_units(session)
    units = list(session.scalars(select(Unit)))
    assert added == len(units) >= 6
    assert all(unit.name.startswith("[Demo]") and unit.is_demo and unit.code.startswith("DEMO-") for unit in units)
    assert {route for unit in units for route in unit.border_routes} == {"VN-CN", "VN-LA", "VN-KH"}
    assert any(unit.parent_id for unit in units)
    assert demo.load_demo_units(session) == 0


def test_import_units_command_reports_rows_and_exits_2(scratch):
    runner = CliRunner()
    assert runner.invoke(cli, ["migrate"]).exit_code == 0
    assert runner.invoke(cli, ["seed"]).exit_code == 0
    path = scratch / "units.csv"
    path.write_text(CSV, encoding="utf-8-sig")
    result = runner.invoke(cli, ["import-units", str(path)])
    assert result.exit_code == 2, result.output
    assert "imported 3 units, 5 rows skipped" in result.output
    assert "row 4:" in result.output and "row 8:" in result.output
    assert count_rows(Unit, scratch) == 3


def test_a_units_file_that_is_not_utf8_is_refused_whole_with_its_line(scratch):
    runner = CliRunner()
    assert runner.invoke(cli, ["migrate"]).exit_code == 0
    assert runner.invoke(cli, ["seed"]).exit_code == 0
    path = scratch / "units.csv"
    # Saved in a legacy code page: "Đồn" is not UTF-8 on the third line.
    path.write_bytes(b"code,name,type\nOK-1,Don mot,police\nBAD-1,\xd0\xf4n hai,police\n")
    result = runner.invoke(cli, ["import-units", str(path)])
    assert result.exit_code == 1
    assert result.output == f"error: {path} is not UTF-8 text (line 3: byte 0xd0); nothing was imported\n"
    assert count_rows(Unit, scratch) == 0


def test_seed_demo_if_empty_loads_the_demo_units_once(scratch):
    runner = CliRunner()
    runner.invoke(cli, ["migrate"])
    first = runner.invoke(cli, ["seed", "--demo-if-empty"])
    assert first.exit_code == 0 and "units (marked is_demo)" in first.output
    loaded = count_rows(Unit, scratch)
    assert loaded >= 6
    assert "units" not in runner.invoke(cli, ["seed", "--demo-if-empty"]).output
    assert count_rows(Unit, scratch) == loaded
