"""Where the API lives: the one place the `/api/v1` prefix is written."""

API_PREFIX = "/api/v1"


def api_path(path: str) -> str:
    """`api_path("/materials/1")` -> "/api/v1/materials/1" (links, Location headers, feeds)."""
    return API_PREFIX + path
