"""The demo organisations: the programme's two ministry focal units and two provincial
departments, marked `is_demo` and named "[Demo] ...", with a demo staff user in each.

Ministries as they stand since 1 March 2025 (Resolution 176/2025/QH15): the Ministry of Science
and Technology took over the Ministry of Information and Communications; the Ministry of Ethnic
and Religious Affairs replaced the Committee for Ethnic Minority Affairs. Provincial
departments follow the same merger (Sở Thông tin và Truyền thông into Sở Khoa học và Công nghệ).
The names of the focal units inside each ministry are left generic: they are not verified.
"""

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from app.organisations import service as organisations_service
from app.organisations.models import Organisation
from app.organisations.schemas import OrganisationCreate

DEMO_ORGANISATIONS = (
    ("DEMO-BKHCN-TTDN", "[Demo] Bộ Khoa học và Công nghệ – đơn vị đầu mối thông tin đối ngoại", "ministry_unit"),
    ("DEMO-BDTTG-TT", "[Demo] Bộ Dân tộc và Tôn giáo – đơn vị đầu mối tuyên truyền", "ministry_unit"),
    ("DEMO-SKHCN-LS", "[Demo] Sở Khoa học và Công nghệ tỉnh Lạng Sơn", "provincial_department"),
    ("DEMO-SDTTG-DB", "[Demo] Sở Dân tộc và Tôn giáo tỉnh Điện Biên", "provincial_department"),
)
# (e-mail, roles, organisation code)
DEMO_STAFF = (
    ("bientap.bkhcn@ttdn.local", ["editor"], "DEMO-BKHCN-TTDN"),
    ("duyet.bdttg@ttdn.local", ["reviewer"], "DEMO-BDTTG-TT"),
    ("bientap.langson@ttdn.local", ["editor"], "DEMO-SKHCN-LS"),
    ("duyet.dienbien@ttdn.local", ["reviewer"], "DEMO-SDTTG-DB"),
)


def load_demo_organisations(session: Session) -> list[Organisation]:
    """Add the demo organisations when there are none at all; returns those added."""
    if session.scalar(select(exists().where(Organisation.id.isnot(None)))):
        return []
    return [
        organisations_service.create_organisation(
            session, OrganisationCreate(code=code, name=name, kind=kind), None, is_demo=True
        )
        for code, name, kind in DEMO_ORGANISATIONS
    ]
