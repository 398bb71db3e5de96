"""What a user's value names: API.md's five resolution levels, ties, unknowns, province periods."""

import csv
import uuid
from datetime import date

import pytest
from sqlalchemy.orm import Session

from app.errors import ValidationFailed
from app.taxonomy import service
from app.taxonomy.models import Province
from app.taxonomy.seed import SEED_DIR

LOC = ["query", "ethnic_group"]
BEFORE_MERGER = date(2025, 6, 30)


@pytest.mark.parametrize(
    ("value", "code"),
    [
        # API.md's examples.
        ("08", "08"),
        ("Mông", "08"),
        ("mong", "08"),
        ("H'Mông", "08"),
        ("tay", "02"),  # the name Tày (level 3), not the Thái local group "Tay" (level 4)
        ("tho", "21"),  # the name Thổ (level 3), not Tày's other name "Thổ" (level 4)
        # (1) code, also without its leading zero.
        ("8", "08"),
        # (2) name or spelling variant, exactly, beating an other name: Mông is also called "Hoa".
        ("Hoa", "06"),
        ("  khơ-me ", "05"),
        ("HMông", "08"),
        # (3) without diacritics, hyphens or apostrophes.
        ("hmong", "08"),
        ("H-Mông", "08"),
        ("e de", "11"),
        ("bru van kieu", "24"),
        ("Bru–Vân Kiều", "24"),  # an en dash
        ("H’Mông", "08"),  # a typographic apostrophe
        # (4) other name, exactly: "Xá" is Dao's; "Xa" is Giáy's.
        ("Xá", "09"),
        ("xa", "26"),
        ("Việt", "01"),
        # (5) other name without diacritics.
        ("chau ma", "28"),
        ("ra de", "11"),
    ],
)
def test_ethnic_group_resolution_levels(session: Session, value: str, code: str) -> None:
    assert service.resolve_ethnic_groups(session, [value], LOC)[0] == code


@pytest.mark.parametrize(("value", "code"), [("Mèo", "08"), ("meo xanh", "08"), ("Mọi", "04"), ("Mán Cao Lan", "13")])
def test_derogatory_names_still_resolve(session: Session, value: str, code: str) -> None:
    assert service.resolve_ethnic_groups(session, [value], LOC)[0] == code


@pytest.mark.parametrize(
    ("value", "listed"),
    [
        ("Xá Lá Vàng", "21 Thổ, 44 Chứt, 46 Mảng"),
        ("xa la vang", "21 Thổ, 44 Chứt, 46 Mảng"),
        ("Trại", "09 Dao, 17 Sán Dìu"),
        ("Mán", "09 Dao, 17 Sán Dìu"),
        ("Xá Khao", "37 Kháng, 40 La Ha"),
    ],
)
def test_an_other_name_of_several_groups_is_a_tie(session: Session, value: str, listed: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        service.resolve_ethnic_groups(session, [value], LOC)

    assert caught.value.status == 422
    assert f"'{value}'" in caught.value.detail and listed in caught.value.detail
    assert caught.value.errors == [{"loc": LOC, "msg": caught.value.detail}]


@pytest.mark.parametrize("value", ["Klingon", "99", "   "])
def test_an_unknown_value_is_named(session: Session, value: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        service.resolve_ethnic_groups(session, ["Mông", value], LOC)

    assert caught.value.errors[0]["loc"] == LOC
    assert value.strip() in caught.value.detail


def test_resolve_many_deduplicates_in_input_order(session: Session) -> None:
    assert service.resolve_ethnic_groups(session, ["tày", "mong", "08", "H'Mông", "02"], LOC) == ["02", "08"]
    assert service.resolve_ethnic_groups(session, [], LOC) == []


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("VN-LA", "VN-LA"),
        ("vn-la", "VN-LA"),
        ("Lào", "VN-LA"),
        ("lao", "VN-LA"),
        ("Laos", "VN-LA"),
        ("Việt Nam - Lào", "VN-LA"),
        ("Việt Nam – Lào", "VN-LA"),  # an en dash, as word processors write it
        ("Việt Nam—Lào", "VN-LA"),
        ("viet nam trung quoc", "VN-CN"),
        ("China", "VN-CN"),
        ("Trung Quốc", "VN-CN"),
        ("Campuchia", "VN-KH"),
        ("cambodia", "VN-KH"),
    ],
)
def test_border_route_resolution(session: Session, value: str, code: str) -> None:
    assert service.resolve_border_routes(session, [value], ["query", "border_route"])[0] == code


def test_border_routes_unknown_and_many(session: Session) -> None:
    assert service.resolve_border_routes(session, ["lao", "VN-CN", "Laos"], ["q"]) == ["VN-LA", "VN-CN"]
    with pytest.raises(ValidationFailed, match="Thái Lan"):
        service.resolve_border_routes(session, ["Thái Lan"], ["query", "border_route"])


def test_topic_resolution(session: Session) -> None:
    values = ["ethnic-policy", "Chuyển đổi số", "chuyen doi so", "Cyberspace safety", "legal education"]
    assert service.resolve_topics(session, values, ["query", "topic"]) == [
        "ethnic-policy",
        "digital-transformation",
        "cyber-safety",
        "legal-education",
    ]
    assert service.resolve_topics(session, ["phan bac thong tin sai su that"], ["t"])[0] == "rebuttal-false-information"
    with pytest.raises(ValidationFailed, match="gardening"):
        service.resolve_topics(session, ["gardening"], ["query", "topic"])


def test_a_bare_province_code_means_its_holder_on_the_day(session: Session) -> None:
    loc = ["query", "province"]
    assert service.resolve_province(session, "44", loc).name == "Quảng Trị"
    assert service.resolve_province(session, "44", loc, on=BEFORE_MERGER).name == "Quảng Bình"
    assert service.resolve_province(session, "46", loc, on=date(2024, 6, 1)).name == "Thừa Thiên Huế"
    assert service.resolve_province(session, "46", loc, on=date(2025, 3, 1)).valid_from == date(2025, 1, 1)
    with pytest.raises(ValidationFailed, match="'10'"):
        service.resolve_province(session, "10", loc)  # Lào Cai's old code, unused since the merger


def test_a_name_shared_within_one_line_is_not_a_tie(session: Session) -> None:
    today = service.resolve_province(session, "Lào Cai", ["p"])
    before = service.resolve_province(session, "lao cai", ["p"], on=BEFORE_MERGER)

    assert (today.code, today.valid_from) == ("15", date(2025, 7, 1))
    assert (before.code, before.valid_until) == ("10", BEFORE_MERGER)
    assert service.resolve_province(session, "Hue", ["p"]).valid_from == date(2025, 7, 1)
    # No longer valid: the latest of its line.
    assert service.resolve_province(session, "Quảng Bình", ["p"]).valid_until == BEFORE_MERGER


def test_a_name_shared_by_two_lines_is_a_tie(session: Session) -> None:
    session.add(Province(code="99", name="Lào Cai", name_ascii="Lao Cai", unit_type="tỉnh", border_routes=[]))
    session.flush()

    with pytest.raises(ValidationFailed, match="'Lào Cai' is ambiguous") as caught:
        service.resolve_province(session, "Lào Cai", ["query", "province"])
    assert "15 Lào Cai" in caught.value.detail and "99 Lào Cai" in caught.value.detail


def test_provinces_by_id_and_unknown(session: Session) -> None:
    quang_tri = service.resolve_province(session, "Quảng Trị", ["p"])
    assert service.resolve_provinces(session, [str(quang_tri.id), "44", "quang tri"], ["p"]) == [quang_tri.id]
    for value in (str(uuid.uuid4()), "Xứ Sở Thần Tiên"):
        with pytest.raises(ValidationFailed, match=value):
            service.resolve_province(session, value, ["query", "province"])


def line_names(session: Session, province: Province) -> list[tuple[str, str]]:
    linked = [session.get(Province, uuid.UUID(i)) for i in service.province_line_ids(session, [province.id])]
    return sorted((p.name, p.code) for p in linked)


def test_a_province_line_is_its_ancestors_and_descendants_not_siblings(session: Session) -> None:
    new_quang_tri = service.resolve_province(session, "Quảng Trị", ["p"])
    old_quang_tri = service.resolve_province(session, "Quảng Trị", ["p"], on=BEFORE_MERGER)
    old_quang_binh = service.resolve_province(session, "Quảng Bình", ["p"])

    assert line_names(session, new_quang_tri) == [("Quảng Bình", "44"), ("Quảng Trị", "44"), ("Quảng Trị", "45")]
    assert line_names(session, old_quang_tri) == [("Quảng Trị", "44"), ("Quảng Trị", "45")]
    assert line_names(session, old_quang_binh) == [("Quảng Bình", "44"), ("Quảng Trị", "44")]
    thua_thien_hue = service.resolve_province(session, "Thừa Thiên Huế", ["p"])
    assert len(service.province_line_ids(session, [thua_thien_hue.id])) == 3  # tỉnh, city 2025, city since 07-2025
    both = service.province_line_ids(session, [old_quang_tri.id, old_quang_binh.id])
    assert sorted(both) == sorted(service.province_line_ids(session, [new_quang_tri.id]))


def route_counts() -> dict[str, tuple[int, int]]:
    with (SEED_DIR / "border_routes.csv").open(encoding="utf-8") as handle:
        return {
            row["code"]: (int(row["vn_provinces_before_2025_07_01"]), int(row["vn_provinces_from_2025_07_01"]))
            for row in csv.DictReader(handle)
        }


def test_provinces_on_a_day_per_route(session: Session) -> None:
    today = service.today()
    assert len(service.provinces_on(session, today)) == 22
    assert len(service.provinces_on(session, BEFORE_MERGER)) == 35  # 36 units, Thừa Thiên Huế ended in 2024
    for code, (before, after) in route_counts().items():
        assert len(service.provinces_on(session, BEFORE_MERGER, [code])) == before
        assert len(service.provinces_on(session, today, [code])) == after


def test_name_lookups(session: Session) -> None:
    assert service.ethnic_group_names(session)["08"] == "Mông"
    assert service.border_route_names(session) == {
        "VN-CN": "Việt Nam - Trung Quốc",
        "VN-KH": "Việt Nam - Campuchia",
        "VN-LA": "Việt Nam - Lào",
    }
    assert len(service.province_names(session)) == 58
    assert service.topic_names(session)["reading-culture"] == "Văn hóa đọc"


@pytest.mark.parametrize(
    ("value", "name"),
    [
        ("Tỉnh Tây Ninh", "Tây Ninh"),
        ("tinh tay ninh", "Tây Ninh"),
        ("Thành phố Huế", "Huế"),
        ("TP. Huế", "Huế"),
        ("tp huế", "Huế"),
    ],
)
def test_a_province_named_with_its_kind_resolves(session: Session, value: str, name: str) -> None:
    assert service.resolve_province(session, value, ["query", "province"]).name == name


def test_a_kind_alone_or_before_an_unknown_name_is_unknown(session: Session) -> None:
    for value in ("Tỉnh", "Thành phố Gotham", "tp"):
        with pytest.raises(ValidationFailed, match="Unknown province"):
            service.resolve_province(session, value, ["query", "province"])


def test_names_written_as_one_word_are_what_search_finds_them_as(session: Session) -> None:
    spellings = service.reference_data(session).spellings
    assert spellings["hmong"] == (("mong",),)  # H'Mông: the letter before the apostrophe is optional
    assert spellings["ede"] == (("e", "de"),)  # Ê Đê, Ê-đê
    assert spellings["giarai"] == (("gia", "rai"),)
    assert spellings["bana"] == (("ba", "na"),)
    assert spellings["colao"] == (("co", "lao"),)
    # One-word names are only themselves; the list holds words, never a name's own spelling.
    assert "tay" not in spellings and "mong" not in spellings
    assert all(len(form) >= 1 and (joined,) != form for joined, forms in spellings.items() for form in forms)


def test_a_word_two_groups_would_spell_names_neither() -> None:
    spellings = service.spelled_names([("01", ["Ba Na", "Ba-na"]), ("02", ["Ban A"]), ("03", ["Xơ Đăng"])])
    assert spellings == {"xodang": (("xo", "dang"),)}
