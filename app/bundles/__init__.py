"""Bundles of approved materials, their publications, deliveries to units and the feed change log."""
