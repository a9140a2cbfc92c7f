"""Markdown for guidelines and item text, rendered safely.

markdown-it-py parses with raw HTML switched off, and nh3 (the Ammonia sanitiser) then
keeps only an allow-list of tags and attributes, so neither a manager's guideline nor an
imported response can inject script or markup into a rater's page.
"""

import re

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

_md = (
    MarkdownIt("commonmark", {"html": False, "linkify": False})
    .enable("table")
    .enable("strikethrough")
)

_TAGS = {
    "p",
    "br",
    "hr",
    "strong",
    "em",
    "del",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "a",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}
_ATTRIBUTES = {"a": {"href", "title"}, "code": {"class"}, "th": {"align"}, "td": {"align"}}


def render_markdown(text: str) -> SafeString:
    html = _md.render(text or "")
    clean = nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return mark_safe(clean)  # noqa: S308 - sanitised by nh3 just above


_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.+?)[ \t#]*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")


def guideline_sections(body: str) -> list[dict]:
    """A guideline's sections: each Markdown heading (outside code fences) with the text
    under it up to the next heading, as {"slug", "title", "hash"}. The hash (of the title
    and the text, whitespace folded) tells which sections a new version changed; text
    before the first heading is no section. Slugs repeat with -2, -3."""
    import hashlib

    sections: list[dict] = []
    current: tuple[str, list[str]] | None = None
    fenced = False

    def close():
        if current is None:
            return
        title, lines = current
        text = " ".join(" ".join(lines).split())
        base = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "section"
        slug, n = base, 1
        while any(x["slug"] == slug for x in sections):
            n += 1
            slug = f"{base}-{n}"
        digest = hashlib.sha256(f"{title}\n{text}".encode()).hexdigest()[:16]
        sections.append({"slug": slug, "title": title, "hash": digest})

    for line in body.splitlines():
        if _FENCE.match(line):
            fenced = not fenced
        heading = None if fenced else _HEADING.match(line)
        if heading:
            close()
            current = (heading.group(2).strip(), [])
        elif current is not None:
            current[1].append(line)
    close()
    return sections


def sections_changed(old: list[dict], new: list[dict]) -> list[str]:
    """The slugs of `new` that `old` lacks or whose text differs."""
    before = {x["slug"]: x["hash"] for x in old}
    return [x["slug"] for x in new if before.get(x["slug"]) != x["hash"]]
