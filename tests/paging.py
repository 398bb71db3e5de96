"""Walking a list the way a client does: follow `next_cursor` until it is null."""

from typing import Any


def pages(client: Any, url: str, headers: dict[str, str], **params: Any) -> list[list[Any]]:
    """The items of every page of GET `url` with `params`, page by page."""
    found: list[list[Any]] = []
    cursor = None
    while True:
        response = client.get(url, params={**params, **({"cursor": cursor} if cursor else {})}, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        found.append(body["items"])
        if (cursor := body["next_cursor"]) is None:
            return found
        assert len(found) < 100, "the cursors never end"
