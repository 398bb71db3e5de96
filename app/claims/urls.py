"""One spelling per web page, so reports naming the same page find each other.

Ignored: the scheme (http and https), a leading `www.`, the fragment, default ports, a trailing
slash, the order of query parameters, and tracking parameters (utm_*, fbclid, gclid and the
like). The host is lowercased (IDNA-encoded); the path keeps its case, as servers may use it.
"""

import contextlib
import hashlib
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

TRACKING_PARAMETERS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_ga",
        "_gl",
        "ref_src",
        "ref_url",
        "si",
        "feature",
        "mibextid",
        "__tn__",
        "__cft__[0]",
    }
)
TRACKING_PREFIXES = ("utm_", "pk_", "hsa_")


def _tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMETERS or lowered.startswith(TRACKING_PREFIXES)


def normalise_url(url: str) -> str | None:
    """'https://www.Example.com/a/?utm_source=x&b=2&a=1#top' -> 'example.com/a?a=1&b=2'; None if no host."""
    text = url.strip()
    if "://" not in text:
        text = "http://" + text
    try:
        parts = urlsplit(text)
        host = (parts.hostname or "").rstrip(".").lower()
        port = parts.port
    except ValueError:
        return None
    if not host:
        return None
    with contextlib.suppress(UnicodeError):
        host = host.encode("idna").decode("ascii")
    if host.startswith("www."):
        host = host[4:]
    if host.startswith("m.") and host.count(".") >= 2:
        host = host[2:]  # mobile copies of the same page (m.facebook.com)
    netloc = host if port in (None, 80, 443) else f"{host}:{port}"
    path = quote(unquote(parts.path), safe="/%:@!$&'()*+,;=-._~").rstrip("/")
    query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _tracking(k))
    return netloc + path + (f"?{urlencode(query)}" if query else "")


def url_hash(normalised: str) -> str:
    return hashlib.sha256(normalised.encode()).hexdigest()
