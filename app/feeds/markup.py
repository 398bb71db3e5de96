"""Material bodies: Markdown rendered with markdown-it-py, then sanitised with nh3 (Ammonia).

Bodies are written by people and read offline and in the unit's browser, so the output may hold
no script, no event handler, no frame, no style and no reference to anything outside: a link or
image pointing elsewhere loses its address (the text stays, and an image is replaced by its
description). Raw HTML in a body goes through the same sanitiser: what is not plain formatting
is dropped (scripts and styles with their content). Relative links stay, so a body may point at
its own attachments inside a package.
"""

import re
from html import unescape

import nh3
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "b", "i", "s", "del", "code", "pre",
    "blockquote", "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th", "td", "span", "sup", "sub",
}  # fmt: skip
ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}
# Anything with a scheme or starting with // or / leaves the page's own folder.
_OUTSIDE = re.compile(r"^\s*([a-zA-Z][a-zA-Z0-9+.\-]*:|[/\\]{1,2})")


def is_local(url: str) -> bool:
    """A reference that stays inside the package (or the page's own folder): relative, no scheme."""
    return bool(url) and not _OUTSIDE.match(url)


def _keep_local(tag: str, attribute: str, value: str) -> str | None:
    if attribute in ("href", "src") and not is_local(value) and not value.startswith("#"):
        return None
    return value


def _image(renderer: RendererHTML, tokens: list[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    token = tokens[idx]
    if is_local(str(token.attrGet("src") or "")):
        return renderer.image(tokens, idx, options, env)
    alt = renderer.renderInlineAsText(token.children or [], options, env)
    return f'<span class="missing">[Hình ảnh ngoài gói: {nh3.clean_text(alt)}]</span>'


def _parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": True, "linkify": False, "typographer": False})
    parser.enable(["table", "strikethrough"])
    parser.add_render_rule("image", _image)
    return parser


_MARKDOWN = _parser()


def render_markdown(text: str) -> str:
    """Markdown to safe HTML: what survives is formatting, local links and local images."""
    html = _MARKDOWN.render(text or "")
    return nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        clean_content_tags={"script", "style"},
        attribute_filter=_keep_local,
        url_schemes=set(),
        link_rel=None,
        strip_comments=True,
    )


def plain_text(html: str) -> str:
    """The text of rendered HTML (for the search index): tags dropped, entities decoded."""
    return unescape(nh3.clean(html, tags=set()))
