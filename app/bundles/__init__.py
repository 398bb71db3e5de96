"""Bundles of approved materials, their publications, deliveries to units and the feed change log.

Importing the package registers the units' activation hook (a unit created or re-activated later
receives the live bundles it matches), so every entry point that loads the models has it.
"""

from app.bundles import delivery as _delivery  # noqa: F401
