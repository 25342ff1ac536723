"""Hypothesis strategies for hostile input: text, numbers, dates (test_hostile_input.py).

Each strategy mixes fixed cases that once broke a page with generated ones around them.
"""

from __future__ import annotations

from datetime import date

from hypothesis import strategies as st

# One character each that some layer treats specially.
HOSTILE_CHARACTERS = [
    "\x00",  # NUL: PostgreSQL refuses it in text
    "\r",
    "\n",
    "\r\n",
    "\t",
    "\x0b",
    "\x0c",
    "\x1b",  # ESC: terminal escapes
    "\x7f",
    "\x85",  # NEL: a C1 line break
    "\u2028",  # LINE SEPARATOR
    "\u2029",  # PARAGRAPH SEPARATOR
    "\u202e",  # RIGHT-TO-LEFT OVERRIDE
    "\u202a",
    "\u2066",  # LEFT-TO-RIGHT ISOLATE
    "\u2069",
    "\u200f",  # RIGHT-TO-LEFT MARK (allowed: right-to-left names need it)
    "\u200d",  # ZERO WIDTH JOINER (allowed: emoji, Indic scripts)
    "\ufeff",
    "\ud800",  # lone surrogates: cannot be encoded as UTF-8
    "\udfff",
    "\U0001f600",
    "é",
    "%00",
    "'; DROP TABLE x; --",
    "<script>alert(1)</script>",
    "{{ 7|add:7 }}",
]

# What can travel over HTTP: the test client refuses to encode lone surrogates (a browser
# sends their bytes as invalid UTF-8, which Django reads as U+FFFD).
WIRE_CHARACTERS = [c for c in HOSTILE_CHARACTERS if c not in ("\ud800", "\udfff")]


def _around(characters: list[str]) -> st.SearchStrategy[str]:
    plain = st.text(st.characters(codec="utf-8"), max_size=12)
    return st.builds(lambda a, c, b: a + c + b, plain, st.sampled_from(characters), plain)


def _long(characters: list[str]) -> st.SearchStrategy[str]:
    """~100 kB strings (built by repetition: Hypothesis does not draw that much)."""
    return st.builds(
        lambda c, n: ("x" + c) * n,
        st.sampled_from(["a", "é", "\n", "\u202e", "\U0001f600", *characters[:1]]),
        st.sampled_from([150, 2_500, 50_000]),
    )


def hostile_text(*, wire: bool = False) -> st.SearchStrategy[str]:
    """Text with NUL, line breaks, controls, bidi overrides, lone surrogates, or ~100 kB."""
    characters = WIRE_CHARACTERS if wire else HOSTILE_CHARACTERS
    return st.one_of(
        st.sampled_from(characters),
        _around(characters),
        _long(characters),
        st.text(st.characters(codec="utf-8"), max_size=30),
    )


FIXED_NUMBERS = [
    "²",
    "\uff11\uff12",
    "\u0663",
    " 3",
    "3 ",
    "-0",
    "-1",
    "0",
    "+5",
    "3.0",
    "1e3",
    "0x10",
    "NaN",
    "∞",
    "",
    "9" * 19,
    "9" * 30,
    "9" * 5_000,
    str(2**63),
    str(2**63 - 1),
    str(-(2**63) - 1),
    "\x00",
    "1\n",
]


def hostile_number() -> st.SearchStrategy[str]:
    """Numbers as people and programs mistype them: Unicode digits, signs, huge, spaced."""
    return st.one_of(
        st.sampled_from(FIXED_NUMBERS),
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
    )


FIXED_DATES = [
    "0001-01-01",
    "9999-12-31",
    "2026-02-30",
    "1899-12-31",
    "2201-01-01",
    "0000-01-01",
    "2026-13-01",
    "\uff12\uff10\uff12\uff16-01-01",
    "10000-01-01",
]


# The edges the policy allows, and the days clocks change.
EDGE_DATES = ["1900-01-01", "2200-12-31", "2027-03-14", "2027-11-07", "2028-02-29"]
ALLOWED = {"min_value": date(1900, 1, 1), "max_value": date(2200, 12, 31)}


def hostile_date() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(FIXED_DATES + EDGE_DATES),
        st.dates().map(lambda d: d.isoformat()),
        st.dates(**ALLOWED).map(lambda d: d.isoformat()),
    )


def hostile_datetime(separator: str = "T") -> st.SearchStrategy[str]:
    """Date-times in the forms' format, from year 1 to 9999, impossible days included."""
    edges = [f"{d}{separator}00:00" for d in FIXED_DATES + EDGE_DATES]
    edges += [f"9999-12-31{separator}23:59", f"2200-12-31{separator}23:59"]
    edges += [f"2027-03-14{separator}02:30", f"2027-11-07{separator}01:30"]  # gone, and twice
    return st.one_of(
        st.sampled_from(edges),
        st.datetimes().map(lambda d: d.isoformat(separator, timespec="minutes")),
        st.dates(**ALLOWED).map(lambda d: f"{d.isoformat()}{separator}12:00"),
    )


def hostile_any(*, wire: bool = False) -> st.SearchStrategy[str]:
    return st.one_of(hostile_text(wire=wire), hostile_number(), hostile_date(), hostile_datetime())


# Hostile values by the kind of field they are aimed at; every kind also gets any hostile text.
def hostile_for(kind: str, *, wire: bool = False) -> st.SearchStrategy[str]:
    aimed = {
        "int": hostile_number(),
        "date": hostile_date(),
        "datetime": hostile_datetime("T"),
        "times": st.lists(hostile_datetime(" "), min_size=1, max_size=3).map("\n".join),
    }.get(kind)
    text = hostile_text(wire=wire)
    return text if aimed is None else st.one_of(aimed, text)


@st.composite
def hostile_form(draw, fields: dict[str, tuple[object, str]], *, wire: bool = True):
    """A valid form's data (`fields`: name -> (valid value, kind)) with one to three fields
    made hostile or left out, so the hostile value reaches past the others' checks."""
    data = {name: valid for name, (valid, _kind) in fields.items()}
    if not fields:
        return data
    chosen = draw(st.lists(st.sampled_from(sorted(fields)), min_size=1, max_size=3, unique=True))
    for name in chosen:
        if draw(st.integers(0, 9)) == 0:
            data.pop(name)
        else:
            data[name] = draw(hostile_for(fields[name][1], wire=wire))
    return data
