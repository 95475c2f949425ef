"""HTML as a reader of the page sees it: the parser behind sanitize.clean_text, loaded only when text holds markup."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

from .sanitize import _web_url

_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0|opacity\s*:\s*0(?![.\d])",
                           re.I)
_URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "poster", "background", "srcset",
                   "cite", "data", "longdesc", "lowsrc", "ping", "manifest", "codebase", "dynsrc"}
_INVISIBLE_TAGS = {"script", "style", "template", "noscript", "head", "title", "iframe", "object"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Visible(HTMLParser):
    """Re-emits HTML without comments, hidden or script-like elements, and non-web URL attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.out: list[str] = []
        self.hidden: list[str] = []  # open tags inside a hidden element, its own tag first

    def _hides(self, tag: str, attrs: list[tuple[str, str | None]]) -> bool:
        values = {name.lower(): value for name, value in attrs}
        return (tag in _INVISIBLE_TAGS or "hidden" in values
                or (values.get("aria-hidden") or "").strip().lower() == "true"
                or bool(_HIDDEN_STYLE.search(values.get("style") or "")))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, closed=False)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, closed=True)

    def _start(self, tag: str, attrs: list[tuple[str, str | None]], closed: bool) -> None:
        opens = not closed and tag not in _VOID
        if self.hidden or self._hides(tag, attrs):
            if opens:
                self.hidden.append(tag)
            return
        safe = [(name, value) for name, value in attrs
                if not (name.lower() in _URL_ATTRIBUTES and not _web_url(value or ""))
                and not name.lower().startswith("on")]  # event handlers run script
        if len(safe) == len(attrs):  # nothing to drop: keep the tag as written (and `<https://...>` autolinks)
            self.out.append(self.get_starttag_text() or "")
            return
        kept = "".join(f' {name}="{html.escape(value, quote=True)}"' if value is not None else f" {name}"
                       for name, value in safe)
        self.out.append(f"<{tag}{kept}{' /' if closed else ''}>")

    def handle_endtag(self, tag: str) -> None:
        if not self.hidden:
            self.out.append(f"</{tag}>")
        elif tag in self.hidden:  # close what it matches; a stray end tag cannot end the hiding early
            while self.hidden.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.out.append(data)

    def handle_entityref(self, name: str) -> None:
        self.handle_data(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self.handle_data(f"&#{name};")

    # comments, declarations and processing instructions are dropped: nobody sees them on the page
    def handle_comment(self, data: str) -> None:
        pass

    def handle_decl(self, decl: str) -> None:
        pass

    def handle_pi(self, data: str) -> None:
        pass

    def unknown_decl(self, data: str) -> None:
        pass
