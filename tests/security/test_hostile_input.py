"""Hostile input never breaks anything (society.inputs, the one input policy).

Hostile text (NUL, lone surrogates, line breaks, controls, bidi overrides, ~100 kB), numbers
("²", full-width digits, huge, negative, "-0", " 3") and dates (years 1 and 9999, 30 February)
go through every form, every POST endpoint and the GET parameters the views read, as each
kind of visitor. Never a 500; a refused request writes nothing (every table it could touch is
fingerprinted before and after) and says why; an accepted one stores only what the policy
allows, and the page it leads to opens.

Each Hypothesis example runs in a savepoint that is rolled back, so every example starts from
the same rows. Examples are derandomized and few, to keep CI reproducible and quick.
"""

from __future__ import annotations

import ast
import itertools
import logging
import re
import socket
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from html import escape
from pathlib import Path
from urllib.parse import urlencode

import pytest
from aiosmtpd.controller import Controller
from django import forms
from django.apps import apps
from django.contrib.messages import constants as message_levels
from django.contrib.messages import get_messages
from django.contrib.postgres.fields import ArrayField
from django.core.cache import cache
from django.db import connection, models, transaction
from django.test import RequestFactory
from django.urls import reverse
from django_tenants.utils import tenant_context
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from crossschema.outbox import emails_send_due
from directory import forms as directory_forms
from directory.models import JoinRequest, Profile
from directory.services import post_create, subscription_get, unsubscribe_token
from groups import forms as group_forms
from groups.models import Attendance, Meeting, Minutes, PollSlot, PollVote, SchedulingPoll
from groups.services.charter import charter_get
from society import forms as society_forms
from society.inputs import (
    BoundedIntegerField,
    InputPolicyMixin,
    one_line,
    parse_id,
    parse_ids,
    parse_int,
    single_line,
    unstorable,
)
from society.models import GroupApplication, Institution, OutboundEmail, PeerGroup, User
from society.services import application_save, application_submit
from tests.conftest import PASSWORD, fresh, host_of
from tests.groups.test_role_matrix import ADMIN, ANON, GET, OTHER, POST, E, F, M, P, url_of
from tests.security.hostile import (
    HOSTILE_CHARACTERS,
    hostile_any,
    hostile_form,
    hostile_number,
    hostile_text,
)

HYPOTHESIS = settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=False,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
ZONES = ["UTC", "America/Los_Angeles", "Pacific/Pago_Pago", "Pacific/Kiritimati"]
FOUNDERS = ["bob@lakeside.edu", "carol@northfield.edu"]
REFUSED_IN_ONE_LINE = [
    c for c in HOSTILE_CHARACTERS if not one_line(c) and c not in ("\x00", "\ud800", "\udfff")
]


# --- The policy itself ---------------------------------------------------------------------------


@settings(HYPOTHESIS, max_examples=300)
@given(
    value=st.one_of(hostile_number(), hostile_any()),
    bounds=st.tuples(*[st.integers(-(2**63), 2**63 - 1)] * 2),
)
def test_parse_int_gives_an_ascii_integer_in_range_or_the_default(value, bounds):
    low, high = sorted(bounds)
    number = parse_int(value, min=low, max=high, default=None)
    if number is not None:
        assert low <= number <= high
        assert re.fullmatch(r"[+-]?[0-9]+", value), "only ASCII digits and a sign count"
        assert number == int(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("3", 3),
        ("+3", 3),
        ("-0", None),  # 0 is below min=1
        ("0007", 7),
        ("²", None),
        ("\uff11\uff12", None),
        ("\u0663", None),
        (" 3", None),
        ("3.0", None),
        ("9" * 30, None),
        ("9" * 5000, None),  # int() itself refuses more than 4300 digits
        (str(2**63), None),
        (str(2**63 - 1), 2**63 - 1),
        (None, None),
        ([], None),
    ],
)
def test_parse_id(value, expected):
    assert parse_id(value) == expected


def test_parse_ids_keeps_the_ids_and_drops_the_rest():
    assert parse_ids(["1", "²", "7", "x", "9" * 30, "-3", "7"]) == {1, 7}


@settings(HYPOTHESIS, max_examples=300)
@given(text=hostile_any())
def test_single_line_refuses_exactly_controls_separators_and_bidi_overrides(text):
    bad = re.search(
        "[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]", text.strip()
    )
    try:
        value = single_line(text, "The title")
    except Exception as exc:  # the policy's ValidationError, with a sentence
        assert bad, f"{text!r} was refused"
        assert exc.messages[0].startswith("The title ")
        assert exc.messages[0].endswith(".")
    else:
        assert not bad and value == text.strip()


def test_right_to_left_names_and_emoji_sequences_stay_allowed():
    for name in (
        "\u05e9\u05e8\u05d4 \u200f\u05db\u05d4\u05df",
        "Zo\u00eb",
        "\U0001f469\u200d\U0001f52c",
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",
    ):
        assert single_line(name, "The name") == name
    assert unstorable("a\x00b") and unstorable("\ud800") and not unstorable("a\nb\t")


# --- Every form --------------------------------------------------------------------------------


def _form_classes():
    for module in (society_forms, directory_forms, group_forms):
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, forms.BaseForm)
                and value.__module__ == module.__name__
            ):
                yield value


FORMS = sorted(_form_classes(), key=lambda f: f"{f.__module__}.{f.__name__}")


def test_every_form_applies_the_input_policy():
    assert len(FORMS) > 25
    missing = [f"{f.__module__}.{f.__name__}" for f in FORMS if not issubclass(f, InputPolicyMixin)]
    assert not missing, "these forms do not use society.inputs.InputPolicyMixin"
    for form_class in FORMS:
        for name, bound in form_class.base_fields.items():
            if isinstance(bound, forms.IntegerField):
                assert isinstance(bound, BoundedIntegerField), f"{form_class.__name__}.{name}"


def _form(form_class, data, world):
    """An instance of `form_class` bound to `data`, as its view builds it."""
    kwargs = {}
    if form_class is directory_forms.ProfileForm:
        kwargs["instance"] = Profile(user=fresh(world.bob), name="Bob Tester")
    if form_class is society_forms.LoginForm:
        request = RequestFactory().post("/accounts/login/", HTTP_HOST=host_of())
        request.session = {}
        request.user = None
        kwargs["request"] = request
    if form_class is group_forms.MeetingNotesForm:  # the meeting page's agenda, as dicts
        kwargs["items"] = [
            {"pk": pk, "title": title, "text": "", "confidential": pk == 2}
            for pk, title in ((1, "Personal check-in"), (2, "Career check-in"))
        ]
    if form_class is society_forms.EmailChoicesForm:
        kwargs["user"] = fresh(world.bob)
    return form_class(data=data, **kwargs)


def _one_line_fields(form) -> list[str]:
    return [
        name
        for name, f in form.fields.items()
        if isinstance(f, forms.CharField)
        and not isinstance(f, forms.JSONField)
        and not isinstance(f.widget, forms.Textarea)
    ]


def _assert_obeys_the_policy(form) -> None:
    """Whatever a form lets through (in cleaned_data, even when the form as a whole is
    invalid) is storable; one-line fields hold one line; dates are in range."""
    single = set(_one_line_fields(form))
    for name, value in form.cleaned_data.items():
        values = value if isinstance(value, list | tuple | set) else [value]
        for item in values:
            if isinstance(item, str):
                assert not unstorable(item), name
                if name in single:
                    assert one_line(item), (name, item)
            if isinstance(item, date | datetime):
                assert 1900 <= item.year <= 2200, (name, item)
            if isinstance(item, int) and isinstance(form.fields.get(name), forms.IntegerField):
                f = form.fields[name]
                assert f.min_value <= item <= f.max_value, (name, item)
    for name, errors in form.errors.items():
        for message in errors:
            assert message.strip(), f"{name}: an empty error message"


@pytest.mark.parametrize("form_class", FORMS, ids=lambda f: f.__name__)
def test_any_hostile_data_in_any_form_is_refused_or_obeys_the_policy(db, world, form_class):
    names = list(_form(form_class, {}, world).fields)

    @HYPOTHESIS
    @given(data=st.dictionaries(st.sampled_from(names), hostile_any(), min_size=1))
    def run(data):
        with tenant_context(world.alpha):
            form = _form(form_class, data, world)
            form.is_valid()
            _assert_obeys_the_policy(form)

    run()


@pytest.mark.parametrize("form_class", FORMS, ids=lambda f: f.__name__)
def test_a_control_character_in_a_one_line_field_is_refused_with_a_sentence(db, world, form_class):
    form = _form(form_class, {}, world)
    for name in _one_line_fields(form):
        for character in [*REFUSED_IN_ONE_LINE, "\x00", "\ud800"]:
            with tenant_context(world.alpha):
                bound = _form(form_class, {name: f"ab{character}cd"}, world)
                assert not bound.is_valid()
            assert name in bound.errors, (name, character)
            if type(bound.fields[name]) is forms.CharField:
                message = " ".join(bound.errors[name])
                assert "must fit on one line, without control characters." in message or (
                    "cannot be stored" in message
                ), (name, character, message)


DATE_FIELDS = [
    (group_forms.GoalForm, "target_date", "{}"),
    (group_forms.AchievementForm, "achieved_on", "{}"),
    (group_forms.MeetingForm, "starts", "{}T10:00"),
    (group_forms.PollForm, "times", "{} 10:00"),
]


@pytest.mark.parametrize(("form_class", "name", "shape"), DATE_FIELDS)
@pytest.mark.parametrize("day", ["0001-01-01", "1899-12-31", "2201-01-01", "9999-12-31"])
def test_dates_outside_1900_to_2200_are_refused_with_a_sentence(
    db, world, form_class, name, shape, day
):
    form = _form(form_class, {name: shape.format(day)}, world)
    with tenant_context(world.alpha):
        assert not form.is_valid()
    assert "between 1 January 1900 and 31 December 2200" in " ".join(form.errors[name])


@pytest.mark.parametrize("value", ["²", "\uff11\uff12", "\u0663", "9" * 5000, "1e3", "0x10"])
def test_integers_are_ascii_digits(value):
    form = group_forms.SeatsForm({"seats": value})
    assert not form.is_valid()
    assert form.errors["seats"]


# --- What used to answer 500 -------------------------------------------------------------------


def _client(client_for, user, group=None):
    return client_for(user and fresh(user), group)


def test_nul_in_the_sign_in_pages_query_is_a_400(db, world, client_for):
    for query in ("q=%00", "next=%00", "q=a%00b&next=/"):
        response = client_for(None).get(f"/accounts/login/?{query}")
        assert response.status_code == 400
        assert "NUL" in response.text


def test_nul_posted_to_sign_in_is_a_400_and_nobody_is_signed_in(db, world, client_for):
    client = client_for(None)
    for data in (
        {"login": "\x00", "password": "x"},
        {"login": "bob@lakeside.edu\x00", "password": PASSWORD},
    ):
        response = client.post(
            "/accounts/login/", urlencode(data), content_type="application/x-www-form-urlencoded"
        )
        assert response.status_code == 400
        assert "_auth_user_id" not in client.session


def test_nul_in_a_multipart_post_is_a_400_too(db, world, client_for):
    response = client_for(None).post("/accounts/login/", {"login": "\x00", "password": "x"})
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("get", "/directory/unsubscribe/%00/", None),
        ("get", "/?%00=1", None),
        ("get", "/?next=a%00", None),
        ("post", "/accounts/discover/", "email=a%40b.edu&next=%00"),
        ("post", "/accounts/discover/", "%00=1"),
    ],
)
@pytest.mark.parametrize("host", ["society", "group"])
def test_a_nul_anywhere_in_the_parameters_is_a_400_that_names_no_group(
    db, world, client_for, method, path, data, host
):
    client = _client(client_for, world.olivia, world.alpha if host == "group" else None)
    if method == "get":
        response = client.get(path)
    else:
        response = client.post(path, data, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert "NUL character" in response.text
    assert "Alpha Peer Group" not in response.text


def test_every_after_commit_hook_is_robust():
    """A hook runs after the change is committed: what it raises must be logged, not turned
    into a 500 for a request whose change is already kept (transaction.on_commit(robust=True))."""
    root = Path(__file__).resolve().parents[2]
    found = []
    for app in ("society", "directory", "groups", "evaluation", "crossschema"):
        for path in (root / app).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "on_commit"
                ):
                    robust = any(
                        k.arg == "robust" and getattr(k.value, "value", None) is True
                        for k in node.keywords
                    )
                    found.append((f"{path.relative_to(root)}:{node.lineno}", robust))
    assert len(found) >= 3  # the scan finds hooks: the outbox's own among them
    assert any(where.startswith("society/outbox.py") for where, _robust in found)
    assert [where for where, robust in found if not robust] == []


def test_nul_in_the_directory_search_is_a_400(db, world, client_for):
    response = _client(client_for, world.bob).get("/directory/?q=%00")
    assert response.status_code == 400


def test_a_sign_in_with_controls_in_the_address_is_a_form_error(db, world, client_for):
    response = client_for(None).post(
        "/accounts/login/",
        urlencode({"login": "bob@lakeside.edu\u202e", "password": PASSWORD}),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert response.context["form"].errors


@pytest.mark.parametrize("number", ["%C2%B2", "9" * 30, "9" * 5000, "%EF%BC%91%EF%BC%92", "-1"])
def test_a_strange_page_number_in_the_directory_posts_is_page_one(db, world, client_for, number):
    response = _client(client_for, world.bob).get(f"/directory/posts/?page={number}")
    assert response.status_code == 200
    assert response.context["page"] == 1


@pytest.mark.parametrize("number", ["%C2%B2", "9" * 30, "%EF%BC%91%EF%BC%92"])
def test_a_strange_page_number_in_the_directory_search_is_a_form_error(
    db, world, client_for, number
):
    response = _client(client_for, world.bob).get(f"/directory/?q=x&page={number}")
    assert response.status_code == 400
    assert response.context["form"].errors["page"]


@pytest.mark.parametrize("months", ["%C2%B2", "9" * 30, "9" * 5000, "0", "-1", "%EF%BC%91"])
def test_a_strange_number_of_months_shows_twelve(db, world, client_for, months):
    response = _client(client_for, world.alice, world.alpha).get(f"/attendance/?months={months}")
    assert response.status_code == 200
    assert response.context["months"] == 12


def _alpha_counts(world) -> dict[str, int]:
    with tenant_context(world.alpha):
        return {
            m.__name__: m.objects.count() for m in (Attendance, Meeting, PollVote, SchedulingPoll)
        }


@pytest.mark.parametrize("slot", ["²", "abc", "9" * 30, "-1", "\uff11"])
def test_a_bad_slot_id_never_raises(db, world, client_for, slot):
    client = _client(client_for, world.alice, world.alpha)
    poll = world.samples["poll"]
    before = _alpha_counts(world)
    choose = client.post(f"/polls/{poll}/choose/", {"slot": slot})
    assert choose.status_code == 302
    assert [str(m) for m in get_messages(choose.wsgi_request)] == [
        "Choose one of the proposed times."
    ]
    assert _alpha_counts(world) == before
    vote = client.post(f"/polls/{poll}/vote/", {"slot": slot})
    assert vote.status_code == 302


@pytest.mark.parametrize("present", ["²", "9" * 30, "x"])
def test_a_bad_attendee_id_never_raises(db, world, client_for, present):
    client = _client(client_for, world.alice, world.alpha)
    response = client.post(
        f"/meetings/{world.samples['meeting']}/attendance/", {"present": present}
    )
    assert response.status_code == 302
    with tenant_context(world.alpha):
        assert not Attendance.objects.filter(
            meeting_id=world.samples["meeting"], present=True
        ).exists()


def _in_zone(user, zone):
    User.objects.filter(pk=user.pk).update(time_zone=zone)
    return fresh(user)


@pytest.mark.parametrize("starts", ["0001-01-01T00:00", "9999-12-31T23:59", "1899-12-31T23:00"])
def test_a_meeting_outside_1900_to_2200_is_refused_at_the_form(db, world, client_for, starts):
    alice = _in_zone(world.alice, "America/Los_Angeles")
    before = _alpha_counts(world)
    response = client_for(alice, world.alpha).post(
        "/meetings/", {"title": "Far away", "starts": starts, "duration_minutes": "60"}
    )
    assert response.status_code == 400
    assert "between 1 January 1900 and 31 December 2200" in response.text
    assert _alpha_counts(world) == before


@pytest.mark.parametrize("time", ["0001-01-01 00:00", "9999-12-31 23:59"])
def test_a_poll_time_outside_1900_to_2200_is_refused_at_the_form(db, world, client_for, time):
    alice = _in_zone(world.alice, "America/Los_Angeles")
    before = _alpha_counts(world)
    response = client_for(alice, world.alpha).post(
        "/polls/", {"title": "Far away", "times": time, "duration_minutes": "60"}
    )
    assert response.status_code == 400
    assert "between 1 January 1900 and 31 December 2200" in response.text
    assert _alpha_counts(world) == before


@pytest.mark.parametrize(
    ("path", "data"),
    [
        (
            "/meetings/",
            {
                "title": "Monthly\r\nBcc: everyone@example.org",
                "starts": "2030-01-01T10:00",
                "duration_minutes": "60",
            },
        ),
        (
            "/polls/",
            {"title": "Monthly\nmeeting", "times": "2030-01-01 10:00", "duration_minutes": "60"},
        ),
        (
            "/meetings/",
            {"title": "\u202eteem", "starts": "2030-01-01T10:00", "duration_minutes": "60"},
        ),
    ],
)
def test_a_title_with_a_line_break_is_refused_at_the_form(db, world, client_for, path, data):
    before = _alpha_counts(world)
    response = _client(client_for, world.alice, world.alpha).post(path, data)
    assert response.status_code == 400
    assert "Title must fit on one line, without control characters." in response.text
    assert _alpha_counts(world) == before


@pytest.mark.parametrize(
    "field",
    ["saml_uid", "saml_email", "saml_first_name", "saml_last_name", "saml_display_name",
     "saml_affiliation"],
)  # fmt: skip
def test_a_saml_attribute_that_cannot_be_stored_or_is_not_one_line_is_refused(
    db, world, client_for, field
):
    before = Institution.objects.count()
    form = {"name": "Hill College", "slug": "hill", "sign_in": "code"}
    for value in ("a\x00b", "a\u202eb", "a\r\nb"):
        response = _client(client_for, world.sam).post(
            "/manage/institutions/new/", {**form, field: value}
        )
        assert response.status_code == 400
        if "\x00" not in value:  # a NUL is refused before any form (RefuseNulMiddleware)
            assert "must fit on one line, without control characters." in response.text
    assert Institution.objects.count() == before
    # and the form itself refuses what a request cannot carry (a lone surrogate, a NUL)
    for value in ("\ud800", "a\x00b"):
        bound = society_forms.InstitutionForm({**form, field: value})
        assert not bound.is_valid() and "cannot be stored" in " ".join(bound.errors[field])


def test_a_group_name_with_a_line_break_is_refused_at_the_form(db, world, client_for):
    response = _client(client_for, world.bob).post(
        "/apply/",
        {
            "name": "Peers\nBcc: all@example.org",
            "slug": "peers",
            "focus": "research",
            "mission_draft": "Mission.",
            "meeting_rhythm": "monthly",
            "why_these_peers": "Because.",
            "founding_emails_text": "bob@lakeside.edu",
            "point_person_emails_text": "bob@lakeside.edu",
        },
    )
    assert response.status_code == 400
    assert "must fit on one line, without control characters." in response.text
    assert not GroupApplication.objects.filter(slug="peers").exists()


# --- Every endpoint and GET parameter, as every kind of visitor -------------------------------


@dataclass
class Endpoint:
    path: str
    fields: dict[str, tuple[object, str]] = field(default_factory=dict)  # name: (valid, kind)
    method: str = "post"
    # Tables a refusal may rightly write: a failed sign-in is audited, and counted.
    may_write: tuple[str, ...] = ()
    able: str = ""  # who may use it, if not the point-person (group) or a member (society)


SCHEMAS_OF_OUR_APPS = ("society_", "directory_", "account_", "socialaccount_", "groups_")


def _tables(schema: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", [schema])
        return sorted(t for (t,) in cursor.fetchall() if t.startswith(SCHEMAS_OF_OUR_APPS))


def _fingerprint(schemas: list[str], skip: tuple[str, ...] = ()) -> dict[str, tuple[int, str]]:
    """Every row of our apps' tables in `schemas`, as (count, md5) per table: a refused request
    must leave every one as it was."""
    parts = [
        f"SELECT '{schema}.{table}', count(*), "
        f"md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "
        f'FROM "{schema}"."{table}" t'
        for schema in schemas
        for table in _tables(schema)
        if table not in skip
    ]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts))
        return {name: (count, digest) for name, count, digest in cursor.fetchall()}


MODELS_BY_TABLE = {m._meta.db_table: m for m in apps.get_models()}


def _assert_stored_text_obeys_the_policy(changed: set[str], world) -> None:
    """After an accepted request, every one-line column the request changed holds one line."""
    for name in changed:
        schema, table = name.split(".")
        model = MODELS_BY_TABLE.get(table)
        if model is None:
            continue
        columns = [
            f.attname
            for f in model._meta.concrete_fields
            if isinstance(f, models.CharField)
            or (isinstance(f, ArrayField) and isinstance(f.base_field, models.CharField))
        ]
        if not columns:
            continue
        with _in_schema(world, schema):
            for row in model.objects.values_list(*columns):
                for column, value in zip(columns, row, strict=True):
                    for text in value if isinstance(value, list) else [value]:
                        assert text is None or one_line(text), (table, column, text)


@contextmanager
def _in_schema(world, schema):
    if schema == "public":
        yield
    else:
        with tenant_context(world.alpha):
            yield


@contextmanager
def _rolled_back():
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def _form_errors(response) -> list[str]:
    messages = []
    for context in response.context or []:
        values = context.flatten() if hasattr(context, "flatten") else context
        for value in values.values():
            if isinstance(value, forms.BaseForm) and value.is_bound and value.errors:
                messages += [m for errors in value.errors.values() for m in errors]
    return list(dict.fromkeys(messages))


def _send(client, endpoint: Endpoint, data: dict):
    """As a browser sends it: urlencoded (a GET's query string or a POST's body)."""
    encoded = urlencode(data, doseq=True)
    if endpoint.method == "get":
        return client.get(f"{endpoint.path}?{encoded}")
    return client.post(endpoint.path, encoded, content_type="application/x-www-form-urlencoded")


def _drive(world, clients, users, endpoint: Endpoint, who: str, zone: str, data: dict, schemas):
    """One request: never a 500; refused means nothing written and a message shown;
    accepted means only policy-abiding text stored, and the next page opens."""
    client = clients[who]
    client.cookies.pop("messages", None)
    if endpoint.path.startswith("/accounts/"):
        cache.clear()  # sign-in rate limits (the cache is shared: clear it only when needed)
    with _rolled_back():
        if users[who] is not None:
            User.objects.filter(pk=users[who].pk).update(time_zone=zone)
        before = _fingerprint(schemas, endpoint.may_write)
        response = _send(client, endpoint, data)
        assert response.status_code < 500
        errors = _form_errors(response)
        flashed = [
            str(m) for m in get_messages(response.wsgi_request) if m.level >= message_levels.ERROR
        ]
        after = _fingerprint(schemas, endpoint.may_write)
        refused = response.status_code >= 400 or errors or flashed
        event(f"{who} {'refused' if refused else 'accepted'} {response.status_code}")
        if refused:
            changed = sorted(k for k in before if before[k] != after.get(k))
            assert not changed, f"a refused request wrote to {changed}"
            if response.status_code != 302:
                assert response.content.strip(), "a refusal without a page"
            for message in errors:
                assert escape(message) in response.text, f"the form's error is not shown: {message}"
        else:
            _assert_stored_text_obeys_the_policy(
                {k for k in after if before.get(k) != after[k]}, world
            )
        page, hops = response, 0
        while page.status_code == 302 and page["Location"].startswith("/") and hops < 3:
            page, hops = client.get(page["Location"]), hops + 1
            assert page.status_code < 500
        if hops and page.status_code == 200:  # the page the message is shown on
            for message in flashed:
                assert escape(message) in page.text, f"the message is not shown: {message}"


def _visitors(world, group) -> dict[str, object]:
    people = {P: world.alice, M: world.bob, F: world.carol, E: world.erin, OTHER: world.mallory}
    people |= {ADMIN: world.sam, ANON: None}
    return people if group else {M: world.bob, ADMIN: world.sam, OTHER: world.olivia, ANON: None}


def _hypothesis_run(world, client_for, endpoint: Endpoint, group):
    users = {who: fresh(u) if u is not None else None for who, u in _visitors(world, group).items()}
    clients = {who: client_for(u, group) for who, u in users.items()}
    schemas = ["public"] + ([world.alpha.schema_name] if group else [])
    hostile = {  # every field at once: NUL-free, so that the forms' own rules answer
        name: "²" if kind == "int" else "ab\r\n\u202ecd\t"
        for name, (_valid, kind) in endpoint.fields.items()
    } or {"unexpected": "\u2028"}

    # Those who get past the permission checks, more often.
    able = endpoint.able or (P if group else M)
    often = [able] * 3 + ([M, M, F] if group else [M, ADMIN])

    @HYPOTHESIS
    @given(
        who=st.sampled_from(sorted(users) + often),
        zone=st.sampled_from(ZONES),
        data=hostile_form(endpoint.fields)
        if endpoint.fields
        else st.fixed_dictionaries({"unexpected": hostile_text(wire=True)}),
    )
    def run(who, zone, data):
        _drive(world, clients, users, endpoint, who, zone, data, schemas)

    # Each visitor at least once with every field hostile, and once a NUL in every field
    # (the middleware's 400).
    for who, zone in zip(sorted(users), itertools.cycle(ZONES), strict=False):
        run = example(who=who, zone=zone, data=hostile)(run)
    run = example(who=able, zone="UTC", data=dict.fromkeys(hostile, "\x00"))(run)
    # And the valid request, far west and far east of UTC.
    valid = {name: value for name, (value, _kind) in endpoint.fields.items()}
    for zone in ("Pacific/Pago_Pago", "Pacific/Kiritimati"):
        run = example(who=able, zone=zone, data=valid)(run)
    run()


def _group_endpoints(world) -> dict[str, Endpoint]:
    """Every group URL that takes a POST (tests/groups/test_role_matrix.py), with what it reads."""
    with tenant_context(world.alpha):
        slot = PollSlot.objects.filter(poll_id=world.samples["poll"]).first().pk
        charter_get()  # made on first sight, by any page: not a write of the refused request
    PeerGroup.objects.filter(pk=world.alpha.pk).update(open_seats=2)
    join = JoinRequest.objects.create(
        user=fresh(world.olivia), group=fresh(world.alpha), message="Hi"
    )

    def at(name):
        return url_of(name, world)

    bob = str(world.bob.pk)
    return {
        "member-invite": Endpoint(
            at("groups:member-invite"),
            {"email": ("new.peer@lakeside.edu", "line"), "role": ("member", "choice")},
        ),
        "member-role": Endpoint(at("groups:member-role"), {"role": ("evaluator", "choice")}),
        "member-remove": Endpoint(at("groups:member-remove"), {"confirm": ("on", "choice")}),
        "join-request-decide": Endpoint(
            reverse(
                "groups:join-request-decide", urlconf="config.urls_group", kwargs={"pk": join.pk}
            ),
            {"decision": ("accept", "choice")},
        ),
        "lifecycle-stage": Endpoint(
            at("groups:lifecycle-stage"), {"stage": ("cultivation", "choice")}
        ),
        "lifecycle-pause": Endpoint(at("groups:lifecycle-pause"), {"paused": ("1", "choice")}),
        "lifecycle-redefine": Endpoint(
            at("groups:lifecycle-redefine"), {"mission": ("We help each other publish.", "text")}
        ),
        "lifecycle-conclude": Endpoint(
            at("groups:lifecycle-conclude"), {"confirm": ("conclude", "choice")}
        ),
        "lifecycle-reopen": Endpoint(at("groups:lifecycle-reopen")),
        "seats": Endpoint(at("groups:seats"), {"seats": ("3", "int")}),
        "worker-check": Endpoint(at("groups:worker-check")),
        "mission-review": Endpoint(
            at("groups:mission-review"),
            {"outcome": ("revised", "choice"), "new_text": ("A sharper mission.", "text")},
        ),
        "mission-change": Endpoint(
            at("groups:mission-change"),
            {"text": ("We help each other publish.", "text"), "reason": ("Two left.", "line")},
        ),
        "charter": Endpoint(
            at("groups:charter"),
            {
                "agenda_setter": ("Whoever hosts", "line"),
                "meeting_style": ("task", "choice"),
                "work_between_meetings": ("Drafts.\nAims.", "text"),
                "email_any_time": ("on", "choice"),
                "pledge": ("What is said here stays here.", "text"),
            },
        ),
        "pledge-accept": Endpoint(at("groups:pledge-accept")),
        "goals": Endpoint(
            at("groups:goals"),
            {
                "text": ("Submit a K award", "line"),
                "alignment": ("Fits the mission.", "text"),
                "status": ("open", "choice"),
                "target_date": ("2027-06-30", "date"),
            },
        ),
        "goal-status": Endpoint(at("groups:goal-status"), {"status": ("achieved", "choice")}),
        "polls": Endpoint(
            at("groups:polls"),
            {
                "title": ("Monthly meeting", "line"),
                "duration_minutes": ("60", "int"),
                "times": ("2027-03-09 16:00\n2200-12-31 23:00", "times"),
            },
        ),
        "poll-vote": Endpoint(at("groups:poll-vote"), {"slot": ([str(slot)], "int")}),
        "poll-choose": Endpoint(
            at("groups:poll-choose"),
            {"slot": (str(slot), "int"), "link": ("https://meet.example.org/abc", "line")},
        ),
        "meetings": Endpoint(
            at("groups:meetings"),
            {
                "title": ("Summer social", "line"),
                "starts": ("2027-07-01T18:00", "datetime"),
                "duration_minutes": ("90", "int"),
                "link": ("", "line"),
                "place": ("The café on the corner", "line"),
            },
        ),
        "meeting-edit": Endpoint(
            at("groups:meeting-edit"),
            {
                "title": ("Spring check-in", "line"),
                "starts": ("2027-07-01T18:00", "datetime"),
                "duration_minutes": ("90", "int"),
                "link": ("https://meet.example.org/abc", "line"),
                "place": ("", "line"),
                "note_taker": (bob, "int"),
                f"item_{world.samples['item']}": ("How we are", "line"),
            },
        ),
        "meeting-cancel": Endpoint(at("groups:meeting-cancel"), {"confirm": ("on", "choice")}),
        "meeting-attendance": Endpoint(
            at("groups:meeting-attendance"), {"present": ([bob, str(world.alice.pk)], "int")}
        ),
        "meeting-notes": Endpoint(
            at("groups:meeting-notes"),
            {
                f"notes_{world.samples['item']}": ("We talked about aims.", "text"),
                f"confidential_{world.samples['item']}": ("", "choice"),
            },
        ),
        "meeting-commitment": Endpoint(
            at("groups:meeting-commitment"),
            {"owner": (bob, "int"), "text": ("Send the draft", "line")},
        ),
        "meeting-minutes": Endpoint(at("groups:meeting-minutes")),
        "commitment-review": Endpoint(
            at("groups:commitment-review"),
            {"outcome": ("kept", "choice"), "back": ("/meetings/", "line")},
            able=M,
        ),
        "confidential": Endpoint(
            at("groups:confidential"),
            {"text": ("An offer: thoughts?", "text"), "peers_only": ("on", "choice")},
        ),
        "confidential-thread": Endpoint(
            at("groups:confidential-thread"), {"text": ("Take it.", "text")}
        ),
        "achievements": Endpoint(
            at("groups:achievements"),
            {
                "kind": ("paper", "choice"),
                "text": ("Paper accepted", "line"),
                "achieved_on": ("2026-05-01", "date"),
                "shareable": ("on", "choice"),
            },
        ),
        "achievement-celebrate": Endpoint(at("groups:achievement-celebrate")),
        "calendar": Endpoint(at("groups:calendar"), {"action": ("revoke", "choice")}),
        "attendance": Endpoint(at("groups:attendance"), {"months": ("6", "int")}, method="get"),
    }


GROUP_ENDPOINTS = [
    "member-invite", "member-role", "member-remove", "join-request-decide", "lifecycle-stage",
    "lifecycle-pause", "lifecycle-redefine", "lifecycle-conclude", "lifecycle-reopen", "seats",
    "worker-check", "mission-review", "mission-change", "charter", "pledge-accept", "goals",
    "goal-status", "polls", "poll-vote", "poll-choose", "meetings", "meeting-edit",
    "meeting-cancel", "meeting-attendance", "meeting-notes", "meeting-commitment",
    "meeting-minutes", "commitment-review", "confidential", "confidential-thread", "achievements",
    "achievement-celebrate", "calendar", "attendance",
]  # fmt: skip


def test_the_list_covers_every_group_url_that_takes_a_post():
    takes_post = {n.split(":")[1] for n, row in POST.items() if row[P] not in (405, 404)}
    takes_post -= {"invitation-detail"}  # a token in the URL; tests/groups/test_invitations.py
    assert takes_post <= set(GROUP_ENDPOINTS)


@pytest.mark.parametrize("name", GROUP_ENDPOINTS)
def test_hostile_input_to_a_group_endpoint(db, world, client_for, name):
    endpoint = _group_endpoints(world)[name]
    _hypothesis_run(world, client_for, endpoint, world.alpha)


def _society_endpoints(world) -> dict[str, Endpoint]:
    bob = fresh(world.bob)
    application = {
        "name": ("Hill Peers", "line"),
        "slug": ("hill-peers", "line"),
        "focus": ("research", "choice"),
        "mission_draft": ("We help each other publish.", "text"),
        "meeting_rhythm": ("monthly", "choice"),
        "why_these_peers": ("Different institutions.", "text"),
        "founding_emails_text": ("bob@lakeside.edu\ncarol@northfield.edu", "text"),
        "point_person_emails_text": ("bob@lakeside.edu", "line"),
    }
    values = {k: v for k, (v, _kind) in application.items() if not k.endswith("_text")}
    draft = application_save(
        application=GroupApplication(), actor=bob, founding_emails=FOUNDERS,
        point_person_emails=["bob@lakeside.edu"], **values,
    )  # fmt: skip
    submitted = application_save(
        application=GroupApplication(), actor=bob, founding_emails=FOUNDERS,
        point_person_emails=["bob@lakeside.edu"], **{**values, "slug": "hill-two"},
    )  # fmt: skip
    application_submit(application=submitted, actor=bob)
    post = post_create(author=bob, kind="question", title="Aims?", body="How long are yours?")
    for person in (world.bob, world.sam, world.olivia):
        subscription_get(user=fresh(person))  # made on first sight of the settings page
    PeerGroup.objects.filter(pk=world.alpha.pk).update(open_seats=2)
    signed_in = ("society_user", "society_auditevent", "account_emailaddress")
    return {
        "sign-in-page": Endpoint(
            "/accounts/login/",
            {"q": ("North", "line"), "next": ("http://alpha.horizontal.localhost:8765/", "line")},
            method="get",
            able=ANON,
        ),
        "sign-in": Endpoint(
            "/accounts/login/",
            {"login": ("bob@lakeside.edu", "line"), "password": (PASSWORD, "line")},
            may_write=signed_in,
            able=ANON,
        ),
        "sign-in-code-page": Endpoint(
            "/accounts/login/code/",
            {"email": ("olivia@northfield.edu", "line"), "next": ("/directory/", "line")},
            method="get",
            able=ANON,
        ),
        "sign-in-code": Endpoint(
            "/accounts/login/code/",
            {"email": ("olivia@northfield.edu", "line")},
            may_write=signed_in,
            able=ANON,
        ),
        "sign-in-code-confirm": Endpoint(
            "/accounts/login/code/confirm/",
            {"code": ("ABCDEF", "line")},
            may_write=signed_in,
            able=ANON,
        ),
        "sign-in-discover": Endpoint(
            "/accounts/discover/",
            {"email": ("olivia@northfield.edu", "line"), "next": ("/directory/", "line")},
            able=ANON,
        ),
        "account": Endpoint(
            "/account/",
            {
                "full_name": ("Bob Tester", "line"),
                "time_zone": ("America/Los_Angeles", "choice"),
                "next": ("/directory/", "line"),
            },
        ),
        "apply": Endpoint("/apply/", application),
        "application-edit": Endpoint(f"/applications/{draft.pk}/", application),
        "application-submit": Endpoint(f"/applications/{draft.pk}/submit/"),
        "application-review": Endpoint(
            f"/manage/applications/{submitted.pk}/",
            {"decision": ("changes", "choice"), "comment": ("Name two more founders.", "text")},
            able=ADMIN,
        ),
        "institution-new": Endpoint(
            "/manage/institutions/new/",
            {
                "name": ("Hill College", "line"),
                "slug": ("hill", "line"),
                "sign_in": ("code", "choice"),
                "require_sso": ("", "choice"),
                "email_domains_text": ("hill.edu, med.hill.edu", "line"),
                "saml_metadata_xml": ("", "text"),
                "saml_uid": ("urn:oid:1.3.6.1.4.1.5923.1.1.1.6", "line"),
                "saml_email": ("urn:oid:0.9.2342.19200300.100.1.3", "line"),
                "saml_first_name": ("urn:oid:2.5.4.42", "line"),
                "saml_last_name": ("urn:oid:2.5.4.4", "line"),
                "saml_display_name": ("urn:oid:2.16.840.1.113730.3.1.241 displayName", "line"),
                "saml_affiliation": ("urn:oid:1.3.6.1.4.1.5923.1.1.1.9", "line"),
                "oidc_issuer": ("", "line"),
                "oidc_client_id": ("", "line"),
                "oidc_client_secret": ("", "line"),
            },
            able=ADMIN,
        ),
        "directory-search": Endpoint(
            "/directory/",
            {
                "q": ("Tester", "line"),
                "career_stage": ("assistant", "choice"),
                "methods": (["qualitative"], "choice"),
                "time_zone": ("UTC", "choice"),
                "institution": (str(world.bob.institution_id), "int"),
                "gender": ("", "line"),
                "looking": ("on", "choice"),
                "page": ("2", "int"),
            },
            method="get",
        ),
        "profile": Endpoint(
            "/directory/profile/",
            {
                "name": ("Bob Tester", "line"),
                "pronouns": ("he/him", "line"),
                "department": ("Medicine", "line"),
                "career_stage": ("assistant", "choice"),
                "specialty": ("Cardiology", "line"),
                "interests": ("Trials.\nTeaching.", "text"),
                "methods": (["qualitative", "mixed"], "choice"),
                "goals_sought": (["k_award"], "choice"),
                "gender": ("man", "line"),
                "gender_visibility": ("members", "choice"),
                "race_ethnicity_visibility": ("only_me", "choice"),
                "first_generation_visibility": ("only_me", "choice"),
                "family_structure_visibility": ("only_me", "choice"),
            },
        ),
        "posts": Endpoint(
            "/directory/posts/",
            {"kind": ("question", "choice"), "page": ("1", "int")},
            method="get",
        ),
        "post-new": Endpoint(
            "/directory/posts/",
            {
                "kind": ("question", "choice"),
                "title": ("Specific aims", "line"),
                "body": ("How long?\nMine: 1 page.", "text"),
            },
        ),
        "reply": Endpoint(f"/directory/posts/{post.pk}/", {"body": ("One page.", "text")}),
        "moderate": Endpoint(
            f"/directory/posts/{post.pk}/hide/", {"reason": ("Off topic", "line")}, able=ADMIN
        ),
        "ban": Endpoint(
            f"/directory/members/{world.olivia.pk}/ban/",
            {
                "reason": ("Spam", "line"),
                "banned": ("1", "choice"),
                "back": ("/directory/moderation/", "line"),
            },
            able=ADMIN,
        ),
        "delivery": Endpoint("/directory/settings/", {"delivery": ("daily", "choice")}),
        "join": Endpoint(
            "/directory/groups/alpha/join/", {"message": ("I study aims.\nMay I join?", "text")}
        ),
        "unsubscribe": Endpoint(f"/directory/unsubscribe/{unsubscribe_token(user=bob)}/"),
    }


SOCIETY_ENDPOINTS = [
    "sign-in-page", "sign-in", "sign-in-code-page", "sign-in-code", "sign-in-code-confirm",
    "sign-in-discover", "account",
    "apply", "application-edit", "application-submit", "application-review", "institution-new",
    "directory-search", "profile", "posts", "post-new", "reply", "moderate", "ban", "delivery",
    "join", "unsubscribe",
]  # fmt: skip


@pytest.mark.parametrize("name", SOCIETY_ENDPOINTS)
def test_hostile_input_to_a_society_or_directory_endpoint(db, world, client_for, name):
    endpoint = _society_endpoints(world)[name]
    _hypothesis_run(world, client_for, endpoint, None)


def test_hostile_query_strings_on_every_group_page(db, world, client_for):
    users = {who: fresh(u) if u is not None else None for who, u in _visitors(world, True).items()}
    clients = {who: client_for(u, world.alpha) for who, u in users.items()}
    names = sorted(n for n, row in GET.items() if row[P] == 200)

    @settings(HYPOTHESIS, max_examples=60)
    @given(
        name=st.sampled_from(names),
        who=st.sampled_from(sorted(users)),
        query=st.dictionaries(
            st.sampled_from(["months", "page", "q", "next", "slot", "pk", "kind"]),
            hostile_any(wire=True),
            min_size=1,
        ),
    )
    def run(name, who, query):
        endpoint = Endpoint(url_of(name, world), method="get")
        schemas = ["public", world.alpha.schema_name]
        _drive(world, clients, users, endpoint, who, "America/Los_Angeles", query, schemas)

    run()


# --- After-commit work never raises into the request --------------------------------------------


@pytest.fixture
def refusing_smtp(settings):
    """A real SMTP server on loopback that refuses every recipient (550), with Django's SMTP
    backend pointed at it: each send raises SMTPRecipientsRefused, as with a server that
    bounces everything."""

    class Refuse:
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            return "550 5.1.1 Mailbox unavailable"

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(Refuse(), hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    try:
        yield
    finally:
        controller.stop()


def _logged_error(caplog, name: str) -> bool:
    return any(
        r.levelno >= logging.WARNING and name in r.getMessage() + str(r.exc_info)
        for r in caplog.records
    )


def test_an_smtp_failure_after_an_application_is_submitted_is_logged_and_the_submission_kept(
    db, world, client_for, refusing_smtp, django_capture_on_commit_callbacks, caplog
):

    bob = fresh(world.bob)
    draft = application_save(
        application=GroupApplication(), actor=bob, founding_emails=FOUNDERS,
        point_person_emails=FOUNDERS[:1], name="Hill Peers", slug="hill-peers", focus="research",
        mission_draft="Publish.", meeting_rhythm="monthly", why_these_peers="Peers.",
    )  # fmt: skip
    client = client_for(bob)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(f"/applications/{draft.pk}/submit/")
    assert callbacks, "the e-mail is sent after commit"
    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Submitted. The society will review it."
    ]
    draft.refresh_from_db()
    assert draft.state == GroupApplication.State.SUBMITTED
    assert emails_send_due() == 0  # the worker's sweep: refused, counted, kept for later
    assert _logged_error(caplog, "SMTPRecipientsRefused")


def test_an_smtp_failure_after_a_meeting_is_scheduled_keeps_the_meeting(
    db, world, client_for, refusing_smtp, django_capture_on_commit_callbacks, caplog
):

    client = _client(client_for, world.alice, world.alpha)
    with tenant_context(world.alpha), django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(
            "/meetings/",
            {"title": "Summer social", "starts": "2030-07-01T18:00", "duration_minutes": "90"},
        )
    assert callbacks
    assert response.status_code == 302
    with tenant_context(world.alpha):
        assert Meeting.objects.filter(title="Summer social").exists()
    assert emails_send_due() == 0  # the worker's sweep: refused, counted, kept for later
    assert _logged_error(caplog, "SMTPRecipientsRefused")
    waiting = OutboundEmail.objects.filter(kind="meeting_invitation", sent_at__isnull=True)
    assert {row.attempts for row in waiting} == {1} and len(waiting) == 3


def test_an_smtp_failure_after_minutes_are_published_keeps_the_minutes(
    db, world, client_for, refusing_smtp, django_capture_on_commit_callbacks, caplog
):

    client = _client(client_for, world.alice, world.alpha)
    meeting = world.samples["meeting"]
    with tenant_context(world.alpha), django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(f"/meetings/{meeting}/minutes/")
    assert callbacks
    assert response.status_code == 302
    with tenant_context(world.alpha):
        assert Minutes.objects.filter(meeting_id=meeting).exists()
    assert emails_send_due() == 0  # the worker's sweep: refused, counted, kept for later
    assert _logged_error(caplog, "SMTPRecipientsRefused")
    waiting = OutboundEmail.objects.filter(kind="minutes", sent_at__isnull=True)
    assert {row.attempts for row in waiting} == {1} and len(waiting) == 3


def test_a_line_break_stored_before_the_rule_never_breaks_choosing_a_poll_time(
    db, world, client_for, django_capture_on_commit_callbacks, caplog
):
    """A poll titled over two lines (stored before the forms refused it) reaches the
    invitation's Subject: Django refuses the header (BadHeaderError) after the meeting is
    committed. The member gets the meeting page; the failure is logged."""

    with tenant_context(world.alpha):
        poll = SchedulingPoll.objects.create(
            title="Monthly\nBcc: everyone@example.org", created_by=fresh(world.alice)
        )
        slot = PollSlot.objects.create(poll=poll, starts_at=datetime(2030, 3, 9, 16, tzinfo=UTC))
    client = _client(client_for, world.alice, world.alpha)
    with tenant_context(world.alpha), django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(f"/polls/{poll.pk}/choose/", {"slot": str(slot.pk)})
    assert callbacks
    assert response.status_code == 302
    with tenant_context(world.alpha):
        meeting = Meeting.objects.get(poll=poll)
    assert response["Location"] == f"/meetings/{meeting.pk}/"
    assert emails_send_due() == 0  # what the worker runs: the header is refused there
    assert _logged_error(caplog, "BadHeaderError")


def test_a_line_break_stored_before_the_rule_never_breaks_publishing_minutes(
    db, world, client_for, django_capture_on_commit_callbacks, caplog
):

    with tenant_context(world.alpha):
        Meeting.objects.filter(pk=world.samples["meeting"]).update(title="Past\r\nmeeting")
    client = _client(client_for, world.alice, world.alpha)
    with tenant_context(world.alpha), django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/meetings/{world.samples['meeting']}/minutes/")
    assert response.status_code == 302
    with tenant_context(world.alpha):
        assert Minutes.objects.filter(meeting_id=world.samples["meeting"]).exists()
    assert emails_send_due() == 0  # what the worker runs: the header is refused there
    assert _logged_error(caplog, "BadHeaderError")
