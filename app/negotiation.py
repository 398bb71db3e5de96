"""Content negotiation: which of the media types a route offers the request's `Accept` prefers."""

from collections.abc import Sequence

from app.errors import NotAcceptable


def _ranges(accept: str) -> list[tuple[str, float]]:
    """(media range, q) of each element of an Accept header, lower-cased; parameters other than q
    are ignored, and an element whose q is not a number from 0 to 1 accepts nothing."""
    ranges = []
    for element in accept.split(","):
        media, *parameters = element.split(";")
        media = media.strip().lower()
        if "/" not in media:
            continue
        q = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = 0.0
                if not 0.0 <= q <= 1.0:
                    q = 0.0
        ranges.append((media, q))
    return ranges


def _quality(offer: str, ranges: list[tuple[str, float]]) -> float:
    """The q of the most specific range that matches `offer` (RFC 9110, 12.5.1); 0 if none does."""
    kind = offer.split("/")[0]
    best, specificity = 0.0, -1
    for media, q in ranges:
        if media == offer:
            rank = 2
        elif media == f"{kind}/*":
            rank = 1
        elif media == "*/*":
            rank = 0
        else:
            continue
        if rank > specificity:
            best, specificity = q, rank
    return best


def choose(accept: str | None, offered: Sequence[str]) -> str:
    """The offered type `accept` prefers: the highest q, ties to the earlier offer. No header (or
    an empty one) means the first offer; one that accepts none of them is a 406 that lists them."""
    if not accept or not accept.strip():
        return offered[0]
    ranges = _ranges(accept)
    qualities = [(_quality(offer, ranges), -position, offer) for position, offer in enumerate(offered)]
    q, _, offer = max(qualities)
    if q <= 0.0:
        raise NotAcceptable(
            f"This resource is available as {', '.join(offered)}; the Accept header allows none of them."
        )
    return offer
