"""Every group URL, requested as every kind of visitor; the answer must match the table.

A new group URL without a row here fails `test_every_group_url_has_a_row`.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django_tenants.utils import tenant_context

from groups.models import Membership

P, M, F, E, OTHER, ADMIN, ANON = (
    "point_person",
    "member",
    "facilitator",
    "evaluator",
    "other_group",
    "society_admin",
    "signed_out",
)
WHO = (P, M, F, E, OTHER, ADMIN, ANON)


def row(p, m, f, e, other=404, admin=404, anon=302):
    return dict(zip(WHO, (p, m, f, e, other, admin, anon), strict=True))


# status code by URL name, method and visitor (requests carry no form data)
GET = {
    "groups:group-home": row(200, 200, 200, 200),
    "groups:members-manage": row(200, 403, 403, 403),
    "groups:member-invite": row(405, 405, 405, 405),
    "groups:member-role": row(405, 405, 405, 405),
    "groups:member-remove": row(200, 403, 403, 403),  # the confirmation page
    "groups:invitation-revoke": row(405, 405, 405, 405),
    "groups:join-requests": row(200, 403, 403, 403),
    "groups:join-request-decide": row(405, 405, 405, 405),
    "groups:invitation-detail": row(404, 404, 404, 404),  # an unknown token, for everyone
    "groups:lifecycle": row(200, 403, 403, 403),
    "groups:lifecycle-stage": row(405, 405, 405, 405),
    "groups:lifecycle-pause": row(405, 405, 405, 405),
    "groups:lifecycle-redefine": row(405, 405, 405, 405),
    "groups:lifecycle-conclude": row(405, 405, 405, 405),
    "groups:lifecycle-reopen": row(405, 405, 405, 405),
    "groups:export": row(200, 403, 403, 403),
    "groups:worker-check": row(200, 403, 403, 403),
    "groups:welcome": row(200, 200, 200, 403),
    "groups:mission": row(200, 200, 200, 403),
    "groups:mission-review": row(405, 405, 405, 405),
    "groups:mission-change": row(405, 405, 405, 405),
    "groups:charter": row(200, 200, 200, 403),
    "groups:pledge-accept": row(405, 405, 405, 405),
    "groups:goals": row(200, 200, 200, 403),
    "groups:goal-status": row(405, 405, 405, 405),
    "groups:polls": row(200, 200, 200, 403),
    "groups:poll-detail": row(200, 200, 200, 403),
    "groups:poll-vote": row(405, 405, 405, 405),
    "groups:poll-choose": row(405, 405, 405, 405),
    "groups:meetings": row(200, 200, 200, 403),
    "groups:meeting-detail": row(200, 200, 200, 403),
    "groups:meeting-edit": row(200, 403, 403, 403),  # Alice takes the notes
    "groups:meeting-cancel": row(405, 405, 405, 405),
    "groups:meeting-attendance": row(405, 405, 405, 405),
    "groups:meeting-notes": row(405, 405, 405, 405),
    "groups:meeting-commitment": row(405, 405, 405, 405),
    "groups:meeting-minutes": row(404, 404, 404, 403),  # none published yet
    "groups:meeting-ics": row(200, 200, 200, 403),
    "groups:commitment-review": row(405, 405, 405, 405),
    "groups:attendance": row(200, 200, 200, 200),  # the evaluator sees attendance figures
    "groups:confidential": row(200, 200, 200, 403),
    "groups:confidential-thread": row(200, 200, 200, 403),
    "groups:achievements": row(200, 200, 200, 403),
    "groups:achievement-celebrate": row(405, 405, 405, 405),
    "groups:seats": row(405, 405, 405, 405),
    "groups:calendar": row(200, 200, 200, 403),
    # a feed is opened by its secret token alone (calendar apps have no session): unknown = 404
    "groups:calendar-feed": row(404, 404, 404, 404, anon=404),
}
POST = {
    "groups:group-home": row(405, 405, 405, 405),
    "groups:members-manage": row(405, 405, 405, 405),
    "groups:member-invite": row(400, 403, 403, 403),  # 400: the form says what is missing
    "groups:member-role": row(302, 403, 403, 403),
    "groups:member-remove": row(302, 403, 403, 403),  # unconfirmed: a message, no change
    "groups:invitation-revoke": row(404, 403, 403, 403),  # no such invitation
    "groups:join-requests": row(405, 405, 405, 405),
    "groups:join-request-decide": row(404, 403, 403, 403),  # no such request in this group
    "groups:invitation-detail": row(404, 404, 404, 404),
    "groups:lifecycle": row(405, 405, 405, 405),
    "groups:lifecycle-stage": row(302, 403, 403, 403),  # no stage given: a message, no change
    "groups:lifecycle-pause": row(302, 403, 403, 403),
    "groups:lifecycle-redefine": row(400, 403, 403, 403),
    "groups:lifecycle-conclude": row(302, 403, 403, 403),  # unconfirmed: a message, no change
    "groups:lifecycle-reopen": row(302, 403, 403, 403),  # not concluded: a message, no change
    "groups:export": row(405, 405, 405, 405),
    "groups:worker-check": row(302, 403, 403, 403),
    "groups:welcome": row(405, 405, 405, 405),
    "groups:mission": row(405, 405, 405, 405),
    "groups:mission-review": row(302, 403, 403, 403),
    "groups:mission-change": row(400, 403, 403, 403),  # 400: the form says what is missing
    "groups:charter": row(400, 403, 403, 403),
    "groups:pledge-accept": row(302, 302, 302, 403),
    "groups:goals": row(400, 400, 400, 403),
    "groups:goal-status": row(302, 302, 302, 403),  # no status given: a message, no change
    "groups:polls": row(400, 403, 403, 403),
    "groups:poll-detail": row(405, 405, 405, 405),
    "groups:poll-vote": row(302, 302, 302, 403),
    "groups:poll-choose": row(302, 403, 403, 403),
    "groups:meetings": row(400, 403, 403, 403),
    "groups:meeting-detail": row(405, 405, 405, 405),
    "groups:meeting-edit": row(400, 403, 403, 403),  # 400: the form says what is missing
    "groups:meeting-cancel": row(302, 403, 403, 403),  # unconfirmed: a message, no change
    "groups:meeting-attendance": row(302, 403, 403, 403),  # Alice takes the notes
    "groups:meeting-notes": row(302, 403, 403, 403),
    "groups:meeting-commitment": row(302, 403, 403, 403),
    "groups:meeting-minutes": row(302, 403, 403, 403),
    "groups:meeting-ics": row(405, 405, 405, 405),
    "groups:commitment-review": row(302, 302, 403, 403),  # Bob's own; Carol may not
    "groups:attendance": row(405, 405, 405, 405),
    "groups:confidential": row(400, 400, 400, 403),
    "groups:confidential-thread": row(400, 400, 400, 403),
    "groups:achievements": row(400, 400, 400, 403),
    "groups:achievement-celebrate": row(302, 302, 302, 403),
    "groups:seats": row(302, 403, 403, 403),
    "groups:calendar": row(200, 200, 200, 403),
    "groups:calendar-feed": row(405, 405, 405, 405, other=405, admin=405, anon=405),
}


def _names(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _names(p.url_patterns, prefix + (p.namespace + ":" if p.namespace else ""))
        elif isinstance(p, URLPattern) and p.name:
            yield prefix + p.name


def test_every_group_url_has_a_row():
    names = set(_names(get_resolver("config.urls_group").url_patterns))
    assert names == set(GET) == set(POST), "add the new URL to GET and POST with each answer"


def _visitor(world, who):
    return {
        P: world.alice,
        M: world.bob,
        F: world.carol,
        E: world.erin,
        OTHER: world.mallory,
        ADMIN: world.sam,
        ANON: None,
    }[who]


def url_of(name, world, samples=None):
    """The URL of `name` in alpha, with sample arguments (Erin's membership, a bogus token);
    or with another group's `samples` (the same keys, and "membership")."""
    kwargs = {}
    sample = world.samples if samples is None else samples
    if name in ("groups:member-role", "groups:member-remove"):
        if samples is not None:
            kwargs = {"pk": samples["membership"]}
        else:
            with tenant_context(world.alpha):
                kwargs = {"pk": Membership.objects.get(user=world.erin).pk}
    elif name in ("groups:join-request-decide", "groups:invitation-revoke"):
        kwargs = {"pk": 999999}
    elif name in ("groups:invitation-detail", "groups:calendar-feed"):
        kwargs = {"token": "not-a-real-token"}
    elif name.startswith("groups:meeting-"):
        kwargs = {"pk": sample["meeting"]}
    else:
        key = {
            "groups:goal-status": "goal",
            "groups:poll-detail": "poll",
            "groups:poll-vote": "poll",
            "groups:poll-choose": "poll",
            "groups:commitment-review": "commitment",
            "groups:confidential-thread": "thread",
            "groups:achievement-celebrate": "achievement",
        }.get(name)
        if key:
            kwargs = {"pk": sample[key]}
    return reverse(name, urlconf="config.urls_group", kwargs=kwargs)


@pytest.mark.parametrize(("name", "who"), [(n, w) for n in GET for w in WHO])
def test_get_answers_as_the_table_says(db, world, client_for, name, who):
    response = client_for(_visitor(world, who), world.alpha).get(url_of(name, world))
    assert response.status_code == GET[name][who]
    if who == ANON and response.status_code == 302:
        assert response["Location"].startswith("http://horizontal.localhost:8765/accounts/login/")
    if who in (OTHER, ADMIN):
        assert "Alpha Peer Group" not in response.text  # an outsider learns nothing


@pytest.mark.parametrize(("name", "who"), [(n, w) for n in POST for w in WHO])
def test_post_answers_as_the_table_says(db, world, client_for, name, who):
    response = client_for(_visitor(world, who), world.alpha).post(url_of(name, world))
    assert response.status_code == POST[name][who]
