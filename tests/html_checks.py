"""What every page a person reads must satisfy: it parses as HTML without a single parse error,
and nothing in it points outside (no http(s) or protocol-relative URL in src, href, action,
poster, srcset or a CSS url(), no <iframe>, <object>, <embed>, no event handler attribute)."""

import re
import xml.etree.ElementTree as ET

import html5lib

URL_ATTRIBUTES = {"src", "href", "action", "poster", "srcset", "data", "formaction", "background", "cite"}
_CSS_URL = re.compile(r"url\s*\(\s*['\"]?([^'\")]*)", re.IGNORECASE)
_EXTERNAL = re.compile(r"^\s*([a-z][a-z0-9+.\-]*:|//|\\\\)", re.IGNORECASE)
NS = "{http://www.w3.org/1999/xhtml}"


def parse_strict(html: str | bytes) -> ET.Element:
    """The document tree; html5lib's strict mode raises on the first parse error."""
    return html5lib.HTMLParser(strict=True, namespaceHTMLElements=True).parse(html)


def _local_name(element: ET.Element) -> str:
    return str(element.tag).removeprefix(NS)


def outside_references(html: str | bytes, allow_schemes: tuple[str, ...] = ()) -> list[str]:
    """Every reference that would leave the page's own files, and every active content."""
    found = []
    root = parse_strict(html)
    for element in root.iter():
        name = _local_name(element)
        if name in ("iframe", "object", "embed", "frame", "base"):
            found.append(f"<{name}>")
        for attribute, value in element.attrib.items():
            if attribute.lower().startswith("on"):
                found.append(f"{name}[{attribute}]")
            if attribute.lower() in URL_ATTRIBUTES and _EXTERNAL.match(value) and not value.startswith(allow_schemes):
                found.append(f"{name}[{attribute}]={value}")
            if attribute.lower() == "style":
                found += [f"style url({u})" for u in _CSS_URL.findall(value) if not u.startswith("data:")]
        if name == "style":
            found += [f"css url({u})" for u in _CSS_URL.findall(element.text or "") if not u.startswith("data:")]
    return found


def text_of(html: str | bytes) -> str:
    """The visible text of a page, whitespace collapsed."""
    root = parse_strict(html)
    body = root.find(f"{NS}body")
    return " ".join("".join(body.itertext() if body is not None else []).split())


def elements(html: str | bytes, tag: str) -> list[ET.Element]:
    return list(parse_strict(html).iter(f"{NS}{tag}"))
