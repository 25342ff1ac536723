import nh3
from django import template
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

register = template.Library()

# CommonMark with raw HTML off (it is shown as text), then nh3 keeps only these tags: what
# minutes written in Markdown need, and nothing that runs or loads anything.
_MARKDOWN = MarkdownIt("commonmark", {"html": False})
_MINUTES_TAGS = {
    "h1", "h2", "h3", "h4", "p", "ul", "ol", "li", "em", "strong", "code", "pre",
    "blockquote", "br", "hr", "a",
}  # fmt: skip


@register.filter
def markdown(text: str) -> SafeString:
    """Member-written Markdown as sanitised HTML (minutes)."""
    html = _MARKDOWN.render(text or "")
    return mark_safe(nh3.clean(html, tags=_MINUTES_TAGS, attributes={"a": {"href"}}))


@register.filter
def get_item(mapping: dict, key):
    """`mapping|get_item:key` in templates (dictionary look-up by a variable)."""
    return mapping.get(key) if mapping else None


BAR_STEP, BAR_SPAN = 24, 250  # pixels per member row, bar length for 100 %


@register.filter
def percent(value: float) -> str:
    return f"{round((value or 0) * 100)} %"


@register.filter
def bar_y(index: int) -> int:
    return 16 + index * BAR_STEP


@register.filter
def bar_width(rate: float) -> int:
    return round((rate or 0) * BAR_SPAN)


@register.filter
def chart_height(rows: int) -> int:
    return 24 + rows * BAR_STEP


@register.filter
def split_words(value: str) -> list[str]:
    return value.split()
