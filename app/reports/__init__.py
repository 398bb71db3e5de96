"""Reports for monitoring and the yearly review: read-only SQL over every other domain."""
