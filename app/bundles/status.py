"""Delivery status for staff: per bundle, and urgent bundles not acknowledged in time."""

import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import Select, and_, func, select, tuple_
from sqlalchemy.orm import Session

from app.bundles.models import Bundle, BundlePublication, Delivery
from app.bundles.schemas import (
    DeliveryRead,
    OverdueDelivery,
    OverduePage,
    OverdueProvince,
    ProvinceRef,
    UnitRef,
)
from app.db import utcnow
from app.pagination import decode_id_cursor, decode_uuid_pair, encode_id_cursor, encode_values, page_size, split_page
from app.taxonomy import service as taxonomy_service
from app.units.models import Unit


def list_deliveries(
    session: Session, bundle_id: uuid.UUID, status: Sequence[str], limit: int, cursor: str | None
) -> tuple[list[DeliveryRead], str | None]:
    """The bundle's current deliveries (withdrawn ones left out), by unit id."""
    query = (
        select(Delivery, Unit.code, Unit.name)
        .join(Unit, Unit.id == Delivery.unit_id)
        .where(Delivery.bundle_id == bundle_id, Delivery.withdrawn_at.is_(None))
        .order_by(Delivery.unit_id)
        .limit(page_size(limit))
    )
    if status:
        query = query.where(Delivery.status.in_(status))
    if cursor:
        query = query.where(Delivery.unit_id > decode_id_cursor(cursor, Delivery))
    rows, next_cursor = split_page(
        session.execute(query).all(), limit, lambda row: encode_id_cursor(row[0].unit_id, Delivery)
    )
    items = [
        DeliveryRead(
            unit=UnitRef(id=d.unit_id, code=code, name=name),
            status=d.status,
            version=d.version,
            fetched_at=d.fetched_at,
            acknowledged_at=d.acknowledged_at,
            acknowledged_version=d.acknowledged_version,
            manifest_sha256=d.manifest_sha256,
        )
        for d, code, name in rows
    ]
    return items, next_cursor


def _overdue_select(hours: float, *columns: Any) -> Select[Any]:
    """Deliveries of urgent publications released more than `hours` ago, still live and not
    acknowledged, to active units."""
    return (
        select(*columns)
        .select_from(Delivery)
        .join(Unit, Unit.id == Delivery.unit_id)
        .join(Bundle, Bundle.id == Delivery.bundle_id)
        .join(
            BundlePublication,
            and_(BundlePublication.bundle_id == Delivery.bundle_id, BundlePublication.version == Delivery.version),
        )
        .where(
            Bundle.status == "published",
            Unit.active.is_(True),
            Delivery.status != "acknowledged",
            Delivery.withdrawn_at.is_(None),
            BundlePublication.priority == "urgent",
            BundlePublication.released_at.isnot(None),
            BundlePublication.expired_at.is_(None),
            BundlePublication.release_at <= utcnow() - timedelta(hours=hours),
        )
    )


def _by_province(session: Session, hours: float) -> list[OverdueProvince]:
    columns = (Unit.province, func.count(func.distinct(Unit.id)), func.count())
    rows = session.execute(_overdue_select(hours, *columns).group_by(Unit.province)).all()
    names = taxonomy_service.province_names(session)
    out = [
        OverdueProvince(
            province=ProvinceRef(id=province, name=names.get(str(province), "")) if province else None,
            units=units,
            deliveries=deliveries,
        )
        for province, units, deliveries in rows
    ]
    return sorted(out, key=lambda p: (-p.deliveries, p.province.name if p.province else ""))


def overdue(session: Session, hours: float, limit: int, cursor: str | None) -> OverduePage:
    """Deliveries of urgent bundles released more than `hours` ago and not yet acknowledged, by
    bundle then unit; and how many there are per province (the unit's province)."""
    query = (
        _overdue_select(hours, Delivery, BundlePublication, Unit)
        .order_by(Delivery.bundle_id, Delivery.unit_id)
        .limit(page_size(limit))
    )
    if cursor:
        query = query.where(tuple_(Delivery.bundle_id, Delivery.unit_id) > tuple_(*decode_uuid_pair(cursor)))
    rows, next_cursor = split_page(
        session.execute(query).all(), limit, lambda row: encode_values([str(row[0].bundle_id), str(row[0].unit_id)])
    )
    names = taxonomy_service.province_names(session)
    items = [
        OverdueDelivery(
            bundle_id=d.bundle_id,
            title=p.title,
            version=d.version,
            published_at=p.release_at,
            unit=UnitRef(id=u.id, code=u.code, name=u.name),
            province=ProvinceRef(id=u.province, name=names.get(str(u.province), "")) if u.province else None,
            status=d.status,
            fetched_at=d.fetched_at,
        )
        for d, p, u in rows
    ]
    return OverduePage(hours=hours, items=items, provinces=_by_province(session, hours), next_cursor=next_cursor)
