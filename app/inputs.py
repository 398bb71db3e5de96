"""Input rules every route shares, checked once before any route sees the request.

API.md: JSON is UTF-8. PostgreSQL cannot store NUL, and a lone surrogate (`"\\ud800"` in JSON)
cannot be encoded to UTF-8 at all, so neither may reach a service: the same 422 on SQLite and
PostgreSQL, naming the field. A query string or form whose percent-escapes are not UTF-8 is a 400
(read leniently it would turn `q=%FF` into a search for nothing, which finds everything).
"""

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote_plus, unquote_to_bytes

from starlette.types import Message, Receive, Scope, Send

from app.errors import problem
from app.http import HttpMiddleware

# No body of this API nests deeper than a few levels; a deeper one is not ours (and deep
# enough, it would exhaust the parser's recursion).
MAX_JSON_DEPTH = 32
_BAD_CHARACTER = re.compile("[\x00\ud800-\udfff]")
_FORM = "application/x-www-form-urlencoded"


class BadInput(Exception):
    def __init__(self, status: int, loc: list[Any], msg: str) -> None:
        super().__init__(msg)
        self.status, self.loc, self.msg = status, loc, msg


def bad_character(value: str) -> str | None:
    """Why `value` cannot be stored, or None when it can."""
    found = _BAD_CHARACTER.search(value)
    if found is None:
        return None
    if found.group() == "\x00":
        return "contains a NUL character (U+0000), which text may not contain"
    return "contains a lone surrogate (invalid Unicode), which text may not contain"


def check_pairs(raw: bytes, where: str) -> None:
    """A query string or an urlencoded form: UTF-8 after percent-decoding, no NUL."""
    for pair in raw.split(b"&"):
        if not pair:
            continue
        name_raw, _, value_raw = pair.partition(b"=")
        name = unquote_plus(name_raw.decode("latin-1"), errors="replace")
        for part in (name_raw, value_raw):
            try:
                text = unquote_to_bytes(part.replace(b"+", b" ")).decode("utf-8")
            except UnicodeDecodeError:
                raise BadInput(400, [where, name], "is not valid UTF-8 after percent-decoding") from None
            if reason := bad_character(text):
                raise BadInput(422, [where, name], reason)


def check_json(raw: bytes) -> None:
    """A JSON body: UTF-8 (RFC 8259), no NUL or lone surrogate in any key or string, not too
    deep. Text that is not JSON at all is left to the route's own parsing (its usual 422)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput(400, ["body"], "JSON must be sent in UTF-8 (RFC 8259)") from None
    try:
        value = json.loads(text)
    except RecursionError:
        raise BadInput(422, ["body"], f"nests deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError:
        return
    for loc, item in _walk(value, ["body"]):
        if len(loc) > MAX_JSON_DEPTH:
            raise BadInput(422, loc, f"nests deeper than {MAX_JSON_DEPTH} levels")
        if isinstance(item, str) and (reason := bad_character(item)):
            raise BadInput(422, loc, reason)


def _walk(value: Any, loc: list[Any]) -> Iterator[tuple[list[Any], Any]]:
    """Every key and value with its location, without recursion."""
    stack = [(loc, value)]
    while stack:
        here, item = stack.pop()
        yield here, item
        if isinstance(item, dict):
            for key, child in item.items():
                yield [*here, key], key
                stack.append(([*here, key], child))
        elif isinstance(item, list):
            stack.extend(([*here, index], child) for index, child in enumerate(item))


def _content_type(scope: Scope) -> str:
    raw = dict(scope["headers"]).get(b"content-type", b"").decode("latin-1")
    return raw.split(";")[0].strip().lower()


def _is_json(media_type: str) -> bool:
    return media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json"))


class InputCheckMiddleware(HttpMiddleware):
    """Refuses, with a problem naming the field, what no route could store or read correctly.

    Sits inside the body limit, so a JSON or form body it reads whole is already bounded;
    multipart uploads are not read here."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        media_type = _content_type(scope)
        try:
            check_pairs(scope.get("query_string", b""), "query")
            if "\x00" in scope["path"]:
                raise BadInput(422, ["path"], "contains a NUL character (U+0000)")
            if _is_json(media_type) or media_type == _FORM:
                body, receive = await _buffered(receive)
                if body and media_type == _FORM:
                    check_pairs(body, "body")
                elif body:
                    check_json(body)
        except BadInput as exc:
            field = ".".join(str(part) for part in exc.loc)
            error = {"loc": exc.loc, "msg": exc.msg}
            await problem(exc.status, f"Invalid input: {field} {exc.msg}.", errors=[error])(scope, receive, send)
            return
        await self.app(scope, receive, send)


async def _buffered(receive: Receive) -> tuple[bytes, Receive]:
    """The whole body, and a `receive` that hands it to the app as if it arrived now."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"", receive
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    return body, replay
