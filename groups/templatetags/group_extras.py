from django import template

register = template.Library()


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
