"""The one place where domains are connected to each other and background work is declared.

Lower domains expose hook lists (materials' deletion checks, units' activation hooks) so that
they never import the domains above them; this module fills them. `create_app` and the `ttdn`
command both call `register_hooks()`, so behaviour never depends on which modules happen to be
imported. `background_workers()` lists every worker a server process runs.
"""

from sqlalchemy.orm import Session, sessionmaker

from app.bundles import delivery as bundles_delivery
from app.bundles import service as bundles_service
from app.bundles.release import BackgroundReleaser
from app.config import Settings
from app.materials import service as materials_service
from app.search.backend import SearchBackend
from app.search.indexer import BackgroundIndexer
from app.units import service as units_service
from app.worker import PeriodicWorker


def _register(hooks: list, hook: object) -> None:
    if hook not in hooks:
        hooks.append(hook)


def register_hooks() -> None:
    """Connect the domains; idempotent (tests and the CLI may build several apps)."""
    # A material that a bundle holds (or held in a publication) cannot be deleted.
    _register(materials_service.deletion_checks, bundles_service.refuse_deleting_bundled_material)
    # A unit created active or re-activated receives the live bundles addressed to it.
    _register(units_service.unit_activated_hooks, bundles_delivery.deliver_live_bundles)


def background_workers(
    session_factory: sessionmaker[Session], backend: SearchBackend, settings: Settings
) -> list[PeriodicWorker]:
    """Every periodic worker a server process runs, in start order (stopped in reverse)."""
    return [
        BackgroundIndexer(session_factory, backend, settings),
        BackgroundReleaser(session_factory, settings),
    ]
