"""FAQ article bodies (Markdown) as HTML for the console, with any raw HTML in them shown as text, never run."""

from __future__ import annotations

from functools import cache

from markdown_it import MarkdownIt


@cache
def _renderer() -> MarkdownIt:
    # CommonMark without raw HTML: an article edited through the admin API cannot inject markup or script;
    # markdown-it also refuses javascript: and similar link targets.
    return MarkdownIt("commonmark", {"html": False})


def render_markdown(text: str) -> str:
    return _renderer().render(text)
