"""Imports every domain's ORM models so that Base.metadata knows every table (Alembic, tests)."""

from app.accounts import models as accounts_models  # noqa: F401
from app.audit import models as audit_models  # noqa: F401
from app.bundles import models as bundles_models  # noqa: F401
from app.claims import models as claims_models  # noqa: F401
from app.materials import models as materials_models  # noqa: F401
from app.organisations import models as organisations_models  # noqa: F401
from app.search import database_tables as search_tables  # noqa: F401
from app.search import outbox as search_outbox  # noqa: F401
from app.taxonomy import models as taxonomy_models  # noqa: F401
from app.units import models as units_models  # noqa: F401
from app.webhooks import models as webhooks_models  # noqa: F401
