"""Loading the reference data: counts, idempotency, hidden names, provinces and their succession."""

import unicodedata
from datetime import date

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.taxonomy import seed
from app.taxonomy.models import BorderRoute, EthnicGroup, Province, ProvinceSuccession, Topic

NO_CHANGES = {"ethnic_groups": 0, "border_routes": 0, "topics": 0, "provinces": 0, "province_successions": 0}
# 25 border provinces + thành phố Huế (2025) + 10 non-border constituents of the merger; 22 after it.
PRE_MERGER_PROVINCES, POST_MERGER_PROVINCES = 36, 22


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model))


def province(session: Session, name: str, *, post: bool) -> Province:
    rows = session.scalars(select(Province).where(Province.name == name)).all()
    return next(p for p in rows if (p.valid_from == date(2025, 7, 1)) == post)


def test_reference_data_counts(session: Session) -> None:
    assert count(session, EthnicGroup) == 54
    assert count(session, BorderRoute) == 3
    assert count(session, Topic) == 10
    assert count(session, Province) == PRE_MERGER_PROVINCES + POST_MERGER_PROVINCES
    post = session.scalar(select(func.count()).where(Province.valid_from == date(2025, 7, 1)))
    assert post == POST_MERGER_PROVINCES
    # Every pre-merger unit has one successor (35 via merged_from, Thừa Thiên Huế via thành phố Huế).
    assert count(session, ProvinceSuccession) == PRE_MERGER_PROVINCES


def test_second_load_changes_nothing_and_keeps_ids(session: Session) -> None:
    ids_before = {(p.code, p.name, p.valid_from): p.id for p in session.scalars(select(Province))}

    assert seed.load_reference(session) == NO_CHANGES

    ids_after = {(p.code, p.name, p.valid_from): p.id for p in session.scalars(select(Province))}
    assert ids_after == ids_before


def test_load_into_empty_tables_then_again(session: Session) -> None:
    for model in (ProvinceSuccession, Province, EthnicGroup, BorderRoute, Topic):
        session.execute(delete(model))

    first = seed.load_reference(session)
    second = seed.load_reference(session)

    assert first == {
        "ethnic_groups": 54,
        "border_routes": 3,
        "topics": 10,
        "provinces": PRE_MERGER_PROVINCES + POST_MERGER_PROVINCES,
        "province_successions": PRE_MERGER_PROVINCES,
    }
    assert second == NO_CHANGES
    assert count(session, Province) == PRE_MERGER_PROVINCES + POST_MERGER_PROVINCES


def test_a_changed_row_is_put_back(session: Session) -> None:
    session.get(EthnicGroup, "08").name = "Meo"
    session.flush()

    changes = seed.load_reference(session)

    assert changes == {**NO_CHANGES, "ethnic_groups": 1}
    assert session.get(EthnicGroup, "08").name == "Mông"


def test_derogatory_exonyms_are_hidden_not_dropped(session: Session) -> None:
    hidden = {g.code: g.hidden_names for g in session.scalars(select(EthnicGroup)) if g.hidden_names}

    assert hidden == {
        "03": ["Mán Thanh"],
        "04": ["Mọi", "Mọi Bi"],
        "08": ["Mèo", "Mẹo", "Mèo Xanh", "Mèo Đỏ", "Mèo Đen", "Mán Trắng"],
        "09": ["Mán"],
        "13": ["Mán Cao Lan"],
        "17": ["Mán"],
    }
    mong = session.get(EthnicGroup, "08")
    assert mong.other_names == ["Hoa", "Ná Mẻo", "Na Miẻo", "Miếu Ha"]
    assert mong.spelling_variants == ["H'mông", "H'Mông", "HMông", "Hmong"]


def test_both_code_lists_are_kept(session: Session) -> None:
    muong = session.get(EthnicGroup, "04")
    assert (muong.name, muong.code_1979) == ("Mường", "06")
    assert session.get(EthnicGroup, "54").name == "Ơ Đu"
    assert session.get(EthnicGroup, "01").is_minority is False


def test_text_is_stored_in_nfc(session: Session) -> None:
    texts = [g.name for g in session.scalars(select(EthnicGroup))]
    texts += [name for g in session.scalars(select(EthnicGroup)) for name in g.other_names + g.hidden_names]
    texts += [p.name for p in session.scalars(select(Province))] + [t.name for t in session.scalars(select(Topic))]
    assert all(unicodedata.is_normalized("NFC", text) for text in texts)


def test_a_province_on_two_routes_is_one_row(session: Session) -> None:
    assert province(session, "Điện Biên", post=True).border_routes == ["VN-CN", "VN-LA"]
    assert province(session, "Quảng Ngãi", post=True).border_routes == ["VN-LA", "VN-KH"]
    assert province(session, "Kon Tum", post=False).border_routes == ["VN-LA", "VN-KH"]


def test_non_border_constituents_of_the_merger_exist(session: Session) -> None:
    yen_bai = province(session, "Yên Bái", post=False)
    da_nang = province(session, "Đà Nẵng", post=False)

    assert (yen_bai.code, yen_bai.name_ascii, yen_bai.unit_type) == ("15", "Yen Bai", "tỉnh")
    assert (yen_bai.border_routes, yen_bai.valid_until) == ([], date(2025, 6, 30))
    assert (da_nang.code, da_nang.unit_type) == ("48", "thành phố trực thuộc trung ương")


def successors_of(session: Session, province_id: object) -> set[str]:
    rows = session.scalars(select(ProvinceSuccession).where(ProvinceSuccession.predecessor_id == province_id))
    return {session.get(Province, row.successor_id).name for row in rows}


def test_succession_follows_merged_from_and_the_hue_city_change(session: Session) -> None:
    new_lam_dong = province(session, "Lâm Đồng", post=True)
    predecessors = session.scalars(
        select(ProvinceSuccession.predecessor_id).where(ProvinceSuccession.successor_id == new_lam_dong.id)
    )
    assert {session.get(Province, pid).name for pid in predecessors} == {"Đắk Nông", "Bình Thuận", "Lâm Đồng"}

    thua_thien_hue = session.scalars(select(Province).where(Province.name == "Thừa Thiên Huế")).one()
    hue_city = province(session, "Huế", post=False)
    assert hue_city.valid_from == date(2025, 1, 1)
    assert successors_of(session, thua_thien_hue.id) == {"Huế"}
    assert successors_of(session, hue_city.id) == {"Huế"}
    assert successors_of(session, province(session, "Quảng Ninh", post=False).id) == {"Quảng Ninh"}
