"""The one place where domains are connected to each other and background work is declared.

Lower domains expose hook lists (materials' deletion checks, units' activation hooks) so that
they never import the domains above them; this module fills them. `create_app` and the `ttdn`
command both call `register_hooks()`, so behaviour never depends on which modules happen to be
imported. `background_workers()` lists every worker a server process runs.
"""

from sqlalchemy.orm import Session, sessionmaker

from app import errors
from app.accounts import service as accounts_service
from app.bundles import delivery as bundles_delivery
from app.bundles import service as bundles_service
from app.bundles.release import BackgroundReleaser
from app.claims import documents as claims_documents
from app.claims import events as claims_events
from app.claims import intake as claims_intake
from app.claims import rebuttals as claims_rebuttals
from app.claims import service as claims_service
from app.config import Settings
from app.feeds import browser as feeds_browser
from app.materials import attachments as materials_attachments
from app.materials import service as materials_service
from app.organisations import service as organisations_service
from app.search import indexer as search_indexer
from app.search.backend import SearchBackend
from app.search.indexer import BackgroundIndexer
from app.units import service as units_service
from app.webhooks import service as webhooks_service
from app.webhooks.sender import WebhookSender
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
    # An organisation staff belong to cannot be deleted.
    _register(organisations_service.deletion_checks, accounts_service.refuse_deleting_staffed_organisation)
    # Nor one that webhook subscriptions belong to (webhooks.organisation_id is a foreign key).
    _register(organisations_service.deletion_checks, webhooks_service.refuse_deleting_subscribed_organisation)
    # Nor one that leads or works on a claim.
    _register(organisations_service.deletion_checks, claims_service.refuse_deleting_an_organisation_with_claims)
    # A rebuttal names claims that exist; publishing one rebuts them and drafts their bundle.
    _register(materials_service.rebuts_checks, claims_rebuttals.check_claims_exist)
    _register(materials_service.transition_hooks, claims_rebuttals.on_transition)
    # Claim events (created, updated, rebuttal published) go to the webhook outbox, in the
    # transaction of the change.
    _register(claims_events.listeners, webhooks_service.on_event)
    # A refusal on the unit's feed pages reads as a page in a browser.
    _register(errors.problem_pages, (feeds_browser.PAGE_PATHS, feeds_browser.problem_page))
    # Claims are indexed from the claims domain's own tables.
    _register(search_indexer.claim_sources, claims_documents)
    # Claim reports keep their files in the materials' blob store: collection must keep them.
    _register(materials_attachments.blob_reference_sources, claims_intake.referenced_blobs)


def background_workers(
    session_factory: sessionmaker[Session], backend: SearchBackend, settings: Settings
) -> list[PeriodicWorker]:
    """Every periodic worker a server process runs, in start order (stopped in reverse)."""
    return [
        BackgroundIndexer(session_factory, backend, settings),
        BackgroundReleaser(session_factory, settings),
        WebhookSender(session_factory, settings),
    ]
