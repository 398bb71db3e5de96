from tests.bundles.kit import approved, make_bundle, make_unit, publish  # noqa: F401
