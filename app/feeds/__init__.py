"""A border unit's feed: delta sync, Atom and JSON Feed, bundles as published, signed packages."""
