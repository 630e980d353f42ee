"""Article text: from the entry's HTML content, or extracted from the page."""

from __future__ import annotations

import re
from html import unescape

import lxml.etree
import lxml.html
import trafilatura

_BLOCKS = {
    "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6",
    "blockquote", "pre", "tr", "table", "section", "article", "header", "footer",
    "figure", "figcaption", "dd", "dt", "hr",
}
_TAGS = re.compile(r"<[^>]{0,2000}>")


def html_to_text(html: str) -> str:
    """Visible text of an HTML fragment, one paragraph per line."""
    if "<" not in html:
        return _tidy(unescape(html))
    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except (lxml.etree.ParserError, ValueError, AssertionError):
        # lxml asserts on some tag soup (e.g. several <body> elements in a
        # fragment); a crude tag strip still gives the reader the words.
        return _tidy(unescape(_TAGS.sub("\n", html)))
    for element in list(root.iter("script", "style", "noscript")):
        element.drop_tree()
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.lower() in _BLOCKS:
            element.tail = "\n" + (element.tail or "")
            if element.tag.lower() == "br":
                continue
            element.text = "\n" + (element.text or "")
    return _tidy(str(root.text_content()))


def extract_page_text(html: bytes, url: str) -> str:
    """Main text of an article page (trafilatura, favouring precision), or ""."""
    try:
        text = trafilatura.extract(
            html,
            url=url,
            favor_precision=True,
            include_comments=False,
            include_tables=False,
            deduplicate=False,
        )
    except (ValueError, TypeError, lxml.etree.LxmlError, RecursionError, MemoryError):
        return ""
    return _tidy(text or "")


def _tidy(text: str) -> str:
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)
