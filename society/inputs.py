"""The one input policy: what any person may type or send, for every form and every view.

Every app imports it from here (society is the lowest layer). Forms apply it with
`InputPolicyMixin`; views read numbers from GET and POST with `parse_int` / `parse_ids`; and
`society.middleware.RefuseNulMiddleware` answers 400 to a NUL anywhere in a request's
parameters before any view runs.

What is refused, and why:

* Every text, one line or many, refuses NUL (PostgreSQL cannot store it in text or jsonb) and
  lone surrogates (half of a UTF-16 pair: they cannot be encoded as UTF-8, so cannot be stored,
  sent or shown).
* Single-line text (names, titles, subjects, slugs, places, reasons, addresses, search terms:
  every text field of a form that is not a textarea) also refuses:
  - every control character (Unicode Cc: C0 U+0000-001F, tab, CR and LF included; DEL U+007F;
    C1 U+0080-009F, NEL included): a line break ends an e-mail header or an iCalendar line,
    and the others are invisible or mean something to terminals;
  - the line and paragraph separators U+2028 and U+2029 (Zl, Zp), line breaks to JavaScript,
    Python's `splitlines` and many mail readers;
  - the bidirectional embeddings, overrides and isolates U+202A-202E and U+2066-2069: they
    reorder how the rest of the line is displayed (a name that reads as someone else's, a
    title whose words run backwards, the "Trojan Source" trick).
  The other format characters (Cf) are kept: the marks U+200E, U+200F and U+061C that
  right-to-left names need, the joiners U+200C and U+200D of Persian, Indic scripts and emoji,
  the soft hyphen, and emoji tag sequences.
* Multi-line text (missions, notes, posts, messages) keeps line breaks and tabs; it refuses
  NUL and lone surrogates only.
* Numbers: ASCII digits only (Python's `str.isdigit()` accepts "²", which `int()` then refuses,
  and Django's IntegerField and `int()` accept full-width "12" (U+FF11 U+FF12)
  and Arabic-Indic "3" (U+0663)), within a stated range.
* Dates and date-times typed into forms: 1 January 1900 to 31 December 2200. A meeting in
  year 1 would be stored and then could not be shown west of UTC; year 9999 overflows when
  converted between time zones.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime

from django import forms
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.utils.deconstruct import deconstructible
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# What no stored text may hold: NUL and the surrogate code points.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# What a single line may not hold: the above, every Cc, U+2028/2029 and the bidi controls.
NOT_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")

DATE_MIN = date(1900, 1, 1)
DATE_MAX = date(2200, 12, 31)
# The largest primary key PostgreSQL's bigint holds.
PK_MAX = 2**63 - 1
# ASCII digits, an optional sign (no spaces, no superscripts, no full-width digits).
_INTEGER = re.compile(r"([+-]?)([0-9]+)")
_MAX_DIGITS = 19  # anything longer is out of every range we use, and of bigint


def unstorable(value: str) -> bool:
    """True if `value` holds a NUL or a lone surrogate."""
    return UNSTORABLE.search(value) is not None


def one_line(value: str) -> bool:
    """True if `value` fits on one line: no control character, line separator or bidi control."""
    return NOT_ONE_LINE.search(value) is None


def text_check(value: str, what: str) -> str:
    """`value`, or ValidationError if it cannot be stored. `what` names it ("The notes")."""
    if unstorable(value):
        raise ValidationError(
            _(
                "%(what)s contains a character that cannot be stored (a NUL, or half of a "
                "surrogate pair). Remove it and try again."
            )
            % {"what": what},
            code="unstorable",
        )
    return value


def one_line_check(value: str, what: str) -> str:
    """`value`, or ValidationError if it does not fit on one line. `what` names it."""
    text_check(value, what)
    if not one_line(value):
        raise ValidationError(
            _("%(what)s must fit on one line, without control characters.") % {"what": what},
            code="single_line",
        )
    return value


def single_line(value: str, what: str) -> str:
    """`value` stripped, or ValidationError if it does not fit on one line (it goes into
    e-mail subjects, calendar lines and page titles). `what` names it ("The title")."""
    return one_line_check((value or "").strip(), what)


def date_check(value: date | datetime, what: str) -> date | datetime:
    """`value`, or ValidationError outside 1900-01-01 .. 2200-12-31."""
    day = value.date() if isinstance(value, datetime) else value
    if not DATE_MIN <= day <= DATE_MAX:
        raise ValidationError(
            _("%(what)s must be between 1 January 1900 and 31 December 2200.") % {"what": what},
            code="date_range",
        )
    return value


def _integer(value: object) -> int | None:
    """The integer `value` spells in ASCII digits (no spaces), clamped to +-10**19; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if not isinstance(value, str):
        return None
    match = _INTEGER.fullmatch(value)
    if match is None:
        return None
    digits = match[2].lstrip("0") or "0"
    number = 10**_MAX_DIGITS if len(digits) > _MAX_DIGITS else int(digits)
    return -number if match[1] == "-" else number


def parse_int(value: object, *, min: int, max: int, default: int | None) -> int | None:
    """`value` (a GET or POST parameter) as an integer in min..max (within bigint), or
    `default`.

    Only ASCII digits with an optional sign count: " 3", "²", full-width digits, "3.0"
    and a number too large for bigint all give `default`.
    """
    number = _integer(value)
    return number if number is not None and min <= number <= max else default


def parse_id(value: object) -> int | None:
    """A primary key from a request parameter (1 .. bigint), or None."""
    return parse_int(value, min=1, max=PK_MAX, default=None)


def parse_ids(values: list[str]) -> set[int]:
    """The primary keys among `values` (request.POST.getlist(...)); anything else is dropped."""
    return {pk for pk in (parse_id(v) for v in values) if pk is not None}


# --- Form fields and validators ------------------------------------------------------------------


@deconstructible
class StorableText:
    """Refuses NUL and lone surrogates, in a string or anywhere inside decoded JSON."""

    def __init__(self, what: str) -> None:
        self.what = what

    def __call__(self, value: object) -> None:
        for text in _strings(value):
            text_check(text, self.what)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StorableText) and other.what == self.what


@deconstructible
class OneLine:
    """Refuses what does not fit on one line (see the module's docstring)."""

    def __init__(self, what: str) -> None:
        self.what = what

    def __call__(self, value: object) -> None:
        if isinstance(value, str):
            one_line_check(value, self.what)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, OneLine) and other.what == self.what


@deconstructible
class DateInRange:
    def __init__(self, what: str) -> None:
        self.what = what

    def __call__(self, value: date | datetime) -> None:
        date_check(value, self.what)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DateInRange) and other.what == self.what


def _strings(value: object):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


class BoundedIntegerField(forms.IntegerField):
    """An integer typed in ASCII digits, within min_value..max_value (both required)."""

    default_error_messages = {
        "invalid": gettext_lazy("Enter a whole number, in the digits 0 to 9."),
    }

    def __init__(self, *, min_value: int, max_value: int, **kwargs) -> None:
        super().__init__(min_value=min_value, max_value=max_value, **kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        number = _integer(value.strip() if isinstance(value, str) else value)
        if number is None:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return number


class StorableJSONField(forms.JSONField):
    """JSON whose strings are all storable; shown again with escapes if they are not (Django
    writes the decoded value back into the page, and a lone surrogate cannot be sent)."""

    def prepare_value(self, value):
        text = super().prepare_value(value)
        return (
            json.dumps(value, cls=self.encoder)
            if isinstance(text, str) and unstorable(text)
            else text
        )


def _what(name: str, field: forms.Field) -> str:
    """How a message names a field: its label without a parenthesis ("Place (for ...)")."""
    label = str(field.label) if field.label else name.replace("_", " ")
    return capfirst(re.sub(r"\s*\(.*\)\s*$", "", label).strip() or label)


def _storable_first(to_python, what: str):
    """`to_python` that first refuses NUL and lone surrogates in what was sent, before any
    other check (Django's own validators may choke on a lone surrogate, and put the value
    into their messages)."""

    def refusing(value):
        for text in _strings(value):
            text_check(text, what)
        return to_python(value)

    return refusing


def input_policy_apply(fields: dict[str, forms.Field]) -> None:
    """Give each field of a form the policy (see the module's docstring).

    Every field refuses NUL and lone surrogates. A textarea is multi-line text; every other
    text input is a single line. Date and date-time fields are bounded. An integer field must
    be a BoundedIntegerField, a JSON field a StorableJSONField.
    """
    for name, field in fields.items():
        what = _what(name, field)
        field.to_python = _storable_first(field.to_python, what)
        if isinstance(field, forms.IntegerField) and not isinstance(field, BoundedIntegerField):
            raise ImproperlyConfigured(
                f"{name}: use society.inputs.BoundedIntegerField for integers (ASCII digits, "
                "a stated range)."
            )
        if isinstance(field, forms.JSONField) and not isinstance(field, StorableJSONField):
            raise ImproperlyConfigured(f"{name}: use society.inputs.StorableJSONField for JSON.")
        if isinstance(field, forms.CharField):
            # Our message for NUL replaces Django's "Null characters are not allowed."
            validators = [
                v for v in field.validators if not isinstance(v, ProhibitNullCharactersValidator)
            ]
            if isinstance(field, forms.JSONField) or isinstance(field.widget, forms.Textarea):
                validators.append(StorableText(what))
            else:
                validators.append(OneLine(what))
            field.validators = validators
        elif isinstance(field, forms.DateField | forms.DateTimeField):
            field.validators = [*field.validators, DateInRange(what)]


class InputPolicyMixin:
    """For every form (before forms.Form / forms.ModelForm): applies `input_policy_apply`."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        input_policy_apply(self.fields)
