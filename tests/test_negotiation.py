"""Content negotiation (app.negotiation): q-values, specificity, ties, and 406."""

import pytest

from app.errors import NotAcceptable
from app.negotiation import choose

OFFERED = ("application/json", "text/html", "text/csv", "application/vnd.ms-excel")


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        (None, "application/json"),
        ("", "application/json"),
        ("*/*", "application/json"),
        ("text/html", "text/html"),
        ("TEXT/HTML; charset=utf-8", "text/html"),
        # What a browser sends: html at q=1 beats anything under */*.
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "text/html"),
        ("text/html;q=0.5, application/json", "application/json"),
        ("text/csv;q=0.2, text/html;q=0.3", "text/html"),
        ("text/*", "text/html"),  # a tie under the range goes to the earlier offer
        ("text/*, text/html;q=0.1", "text/csv"),  # the specific range wins for text/html
        ("application/xml, */*;q=0.1", "application/json"),
        ("application/vnd.ms-excel", "application/vnd.ms-excel"),
        ("text/html;q=abc, text/csv", "text/csv"),  # a q that is not a number accepts nothing
        ("text/html;q=2, text/csv;q=0.5", "text/csv"),  # nor one out of 0..1
        ("garbage, text/csv", "text/csv"),
    ],
)
def test_the_preferred_offer_is_chosen(accept, chosen):
    assert choose(accept, OFFERED) == chosen


@pytest.mark.parametrize("accept", ["application/xml", "image/*", "text/html;q=0, application/json;q=0", "garbage"])
def test_an_accept_that_allows_none_of_the_offers_is_a_406_listing_them(accept):
    with pytest.raises(NotAcceptable) as refused:
        choose(accept, OFFERED)
    assert refused.value.status == 406 and "application/json, text/html" in refused.value.detail
