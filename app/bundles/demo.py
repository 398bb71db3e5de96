"""Demo bundles, so that a first `make run` shows the whole loop: a unit's feed, its pages and a
package. Three bundles of demo materials on the Vietnam-China border (its demo units receive
them): one urgent, one normal, one published and then recalled (a tombstone in the feed).

Loaded only when the register has no bundle yet and the demo set was just added (seed
--demo-if-empty); drafted by the demo set itself (no author) and published by the first admin
through the same publishing service as the API, so every rule and audit record applies.
"""

from dataclasses import dataclass

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.accounts.principal import Principal
from app.bundles import demo_media, publishing
from app.bundles import service as bundles_service
from app.bundles.models import Bundle
from app.bundles.schemas import BundleCreate
from app.config import Settings
from app.materials.models import Material

CN = {"border_routes": ["VN-CN"]}
# The unit whose key `ttdn seed --demo-if-empty` prints on first start.
DEMO_UNIT = "DEMO-LS-DON1"


@dataclass(frozen=True)
class _DemoAuthor:
    """The demo set as the author of its bundles (the audit trail records "system")."""

    type: str = "system"
    id: None = None
    label: str = "demo set"
    roles: frozenset[str] = frozenset()
    is_staff: bool = False


BUNDLES = [
    {
        "title": "[Demo] Gói khẩn: cảnh giác với tin giả trên mạng xã hội",
        "description": "Tài liệu minh họa cần phổ biến **ngay** cho bà con ở các bản biên giới.\n\n"
        "*Nội dung minh họa của ttdn-hub, không phải tài liệu chính thức.*",
        "priority": "urgent",
        "titles": ["[Demo] Đồ họa: Cách nhận biết tin giả", "[Demo] Đồ họa: Bốn bước kiểm chứng"],
        "recall": False,
    },
    {
        "title": "[Demo] Gói tài liệu tháng này cho các đồn biên phòng tuyến Việt - Trung",
        "description": "Bài viết, tin và sách nói minh họa về đồng bào Mông, Dao, Tày, Hà Nhì.",
        "priority": "normal",
        "titles": ["[Demo] Ảnh và âm thanh", "[Demo] Hỗ trợ sinh kế", "[Demo] Người Hà Nhì", "[Demo] Sách nói"],
        "recall": False,
    },
    {
        "title": "[Demo] Gói đã thu hồi: tờ rơi bản cũ",
        "description": "Gói này đã bị thu hồi; đơn vị cần xóa bản đã tải về.",
        "priority": "normal",
        "titles": ["[Demo] Tờ rơi: Năm điều cần nhớ"],
        "recall": True,
    },
]


def _first_admin(session: Session) -> User | None:
    users = session.scalars(select(User).where(User.active.is_(True)).order_by(User.created_at))
    return next((user for user in users if "admin" in user.roles), None)


def _material_ids(session: Session, prefixes: list[str]) -> list[str]:
    rows = session.execute(
        select(Material.id, Material.title).where(Material.is_demo.is_(True), Material.status == "published")
    ).all()
    ordered = sorted(rows, key=lambda row: row[1])
    return [str(mid) for prefix in prefixes for mid, title in ordered if title.startswith(prefix)]


def load_demo_bundles(session: Session, settings: Settings) -> int:
    """Publish the demo bundles when there are none at all; returns how many were published.
    One demo material with a picture, a sound and a PDF is added for them first."""
    if session.scalar(select(exists().where(Bundle.id.isnot(None)))):
        return 0
    admin = _first_admin(session)
    if admin is None:
        return 0
    publisher = Principal(type="user", id=admin.id, label=admin.email, roles=frozenset(admin.roles))
    demo_media.add_media_material(session, settings, _DemoAuthor(), publisher)  # type: ignore[arg-type]
    made = 0
    for spec in BUNDLES:
        ids = _material_ids(session, list(spec["titles"]))  # type: ignore[arg-type]
        if not ids:
            continue
        data = BundleCreate(
            title=spec["title"],
            description=spec["description"],
            priority=spec["priority"],
            items=[{"material_id": mid, "note": ""} for mid in ids],
            targets=CN,
        )
        bundle = bundles_service.create_bundle(session, data, _DemoAuthor())  # type: ignore[arg-type]
        publishing.publish_bundle(session, bundle.id, publisher, None)
        if spec["recall"]:
            publishing.recall_bundle(session, bundle.id, publisher, None)
        made += 1
    return made
