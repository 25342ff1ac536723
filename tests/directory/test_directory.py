"""The directory as members use it: profiles and their visibility, search, suggestions, posts,
moderation and requests to join groups with open seats."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import tenant_context

from crossschema.outbox import emails_send_due
from directory import services
from directory.models import (
    IDENTITY_FIELDS,
    JoinRequest,
    ModerationEvent,
    Post,
    Profile,
    Subscription,
)
from directory.selectors import peer_suggestions, profile_search
from groups.models import Invitation
from groups.services.mission import mission_adopt
from society.models import Institution, PeerGroup, User
from society.services import institution_save
from tests.conftest import fresh
from tests.society.factories import InstitutionFactory, UserFactory

LOOKING = {"looking_for_group": True, "goals_sought": ["k_award"], "career_stage": "assistant"}


def _profile(user, **fields):
    return services.profile_save(user=user, name=user.full_name, **fields)


def _ids(response) -> set[int]:
    import re

    return {int(pk) for pk in re.findall(r'data-profile="(\d+)"', response.text)}


# --- Visibility, field by field ---------------------------------------------------------------


@pytest.mark.parametrize("field", list(IDENTITY_FIELDS))
@pytest.mark.parametrize("visibility", ["only_me", "suggestions"])
def test_a_field_kept_from_members_is_never_shown_found_or_explained(
    db, world, client_for, field, visibility
):
    canary = f"canary{field.replace('_', '')}{visibility.replace('_', '')}"
    bob = _profile(world.bob, **LOOKING, **{field: canary, f"{field}_visibility": visibility})
    _profile(world.carol, **LOOKING, **{field: "something else", f"{field}_visibility": "members"})
    carol = client_for(world.carol)
    pages = {
        "by name": carol.get("/directory/", {"q": "Bob Tester"}),
        "by value": carol.get("/directory/", {"q": canary}),
        "by filter": carol.get("/directory/", {field: canary}),
        "profile": carol.get(f"/directory/people/{bob.pk}/"),
        "suggestions": carol.get("/directory/suggestions/"),
    }
    for name, page in pages.items():
        assert page.status_code == 200, name
        # (a search page repeats what was typed in its form; the results must not have it)
        assert canary not in page.text.split('id="results-heading"')[-1], name
    assert bob.pk in _ids(pages["by name"])  # the person is found, the field is not
    assert bob.pk not in _ids(pages["by value"]) and bob.pk not in _ids(pages["by filter"])
    assert f'data-suggestion="{bob.pk}"' in pages["suggestions"].text
    services.subscription_set(user=fresh(world.carol), delivery="each")
    services.subscription_set(user=fresh(world.erin), delivery="daily")
    Subscription.objects.filter(user=world.erin).update(
        digest_covered_until=timezone.now() - timedelta(days=2)
    )
    post = services.post_create(author=fresh(world.bob), kind="seeking", title="Peers?", body="Hi")
    Post.objects.filter(pk=post.pk).update(created_at=timezone.now() - timedelta(minutes=10))
    assert services.digests_enqueue() == 1
    assert emails_send_due() == 2  # the post to Carol, the digest to Erin
    assert all(canary not in m.message().as_string() for m in mail.outbox)
    assert canary in client_for(world.bob).get("/directory/profile/").text  # Bob sees his own


@pytest.mark.parametrize("field", list(IDENTITY_FIELDS))
def test_a_field_shown_to_members_is_shown_and_found(db, world, client_for, field):
    value = f"shown{field.replace('_', '')}"
    bob = _profile(world.bob, **{field: value, f"{field}_visibility": "members"})
    carol = client_for(world.carol)
    assert value in carol.get(f"/directory/people/{bob.pk}/").text
    assert bob.pk in _ids(carol.get("/directory/", {"q": value}))
    assert bob.pk in _ids(carol.get("/directory/", {field: value.upper()}))


def test_a_hidden_profile_is_nowhere_but_for_its_owner(db, world, client_for):
    bob = _profile(world.bob, **LOOKING, hidden=True, specialty="nephrology")
    _profile(world.carol, **LOOKING)
    carol = client_for(world.carol)
    assert bob.pk not in _ids(carol.get("/directory/", {"q": "Bob Tester"}))
    assert bob.pk not in _ids(carol.get("/directory/", {"q": "nephrology"}))
    assert bob.pk not in _ids(carol.get("/directory/"))
    assert carol.get(f"/directory/people/{bob.pk}/").status_code == 404
    assert f'data-suggestion="{bob.pk}"' not in carol.get("/directory/suggestions/").text
    assert client_for(world.bob).get(f"/directory/people/{bob.pk}/").status_code == 200


# --- Search -------------------------------------------------------------------------------------


def test_search_finds_by_every_field_and_forgives_a_typo_in_a_name(db, world, client_for):
    tokyo = InstitutionFactory(name="Kanto Medical University", email_domains=["kanto.ac.jp"])
    user = UserFactory(
        email="bq@kanto.ac.jp",
        full_name="Bartholomew Quince",
        institution=tokyo,
        time_zone="Asia/Tokyo",
    )
    target = services.profile_save(
        user=user,
        name="Bartholomew Quince",
        pronouns="they/them",
        department="Emergency Medicine",
        career_stage="associate",
        specialty="toxicology",
        methods=["qualitative", "qi"],
        interests="rural telehealth access",
        goals_sought=["first_r01"],
        looking_for_group=True,
    )
    other = _profile(world.carol, career_stage="assistant", methods=["quantitative"])
    searches = [
        {"q": "Bartholomew Quince"},
        {"q": "Bartholmew"},  # a typo
        {"q": "Quinse"},  # another
        {"q": "they/them"},
        {"q": "emergency"},
        {"q": "toxicology"},
        {"q": "telehealth"},
        {"q": "Kanto"},
        {"q": "quality improvement"},
        {"career_stage": "associate"},
        {"methods": ["qualitative"]},
        {"goals": ["first_r01"]},
        {"time_zone": "Asia/Tokyo"},
        {"institution": tokyo.pk},
        {"looking": "on", "methods": ["qi"]},
        {"q": "rural", "career_stage": "associate", "methods": ["qualitative", "qi"]},
    ]
    carol = client_for(world.carol)
    for params in searches:
        found = _ids(carol.get("/directory/", params))
        assert target.pk in found, params
        assert other.pk not in found, params
    assert target.pk not in _ids(carol.get("/directory/", {"q": "cardiology"}))
    assert target.pk not in _ids(carol.get("/directory/", {"career_stage": "postdoc"}))


def test_search_pages_and_refuses_bad_input_with_a_message(db, world, client_for):
    for i in range(25):
        services.profile_save(
            user=UserFactory(email=f"p{i}@lakeside.edu"), name=f"Pager {i:02d}", specialty="x"
        )
    viewer = world.carol
    first = profile_search(viewer=viewer, q="Pager")
    second = profile_search(viewer=viewer, q="Pager", page=2)
    assert len(first.profiles) == 20 and first.has_next
    assert len(second.profiles) == 5 and not second.has_next
    assert not {p.pk for p in first.profiles} & {p.pk for p in second.profiles}
    carol = client_for(viewer)
    assert "Next page" in carol.get("/directory/", {"q": "Pager"}).text
    bad = carol.get("/directory/", {"career_stage": "wizard", "page": "-3"})
    assert bad.status_code == 400 and "Select a valid choice" in bad.text
    assert "Page: Ensure this value is greater than or equal to 1" in bad.text


# --- Suggestions --------------------------------------------------------------------------------


def test_suggestions_match_goals_and_stage_vary_institutions_and_explain_why(db, world):
    north, lake = world.alice.institution, world.bob.institution
    me = _profile(world.alice, **LOOKING, methods=["quantitative"])
    same_place = services.profile_save(
        user=UserFactory(email="np@northfield.edu", institution=north),
        name="Near Peer",
        **LOOKING,
        methods=["quantitative"],
    )
    elsewhere = services.profile_save(
        user=UserFactory(email="fp@lakeside.edu", institution=lake),
        name="Far Peer",
        **LOOKING,
        methods=["qualitative"],
    )
    unrelated = services.profile_save(
        user=UserFactory(email="un@lakeside.edu", institution=lake),
        name="Other Path",
        looking_for_group=True,
        goals_sought=["leadership"],
        career_stage="associate",
    )
    not_looking = services.profile_save(
        user=UserFactory(email="nl@lakeside.edu", institution=lake),
        name="Not Looking",
        **{**LOOKING, "looking_for_group": False},
    )
    found = peer_suggestions(profile=me)
    order = [s.profile.pk for s in found]
    assert order[0] == elsewhere.pk and same_place.pk in order
    assert order.index(elsewhere.pk) < order.index(same_place.pk)
    assert unrelated.pk not in order and not_looking.pk not in order
    why = found[0].reasons
    assert "also seeks career development (k) award" in why
    assert "assistant professor, like you" in why
    assert "at another institution (Lakeside College)" in why
    assert "brings qualitative" in why


def test_suggestions_vary_backgrounds_only_with_fields_their_owners_allow(db, world):
    lake = world.bob.institution

    def peer(email, name, goals, **identity):
        return services.profile_save(
            user=UserFactory(email=email, institution=lake),
            name=name,
            **{**LOOKING, "goals_sought": goals},
            **identity,
        )

    me = _profile(world.alice, **{**LOOKING, "goals_sought": ["k_award", "promotion"]})
    first = peer("x@lakeside.edu", "Peer X", ["k_award", "promotion"],
                 gender="woman", gender_visibility="suggestions")  # fmt: skip
    a = peer("a@lakeside.edu", "Peer A", ["k_award"], gender="man", gender_visibility="only_me")
    b = peer("b@lakeside.edu", "Peer B", ["k_award"], gender="man",
             gender_visibility="suggestions")  # fmt: skip
    order = [s.profile.pk for s in peer_suggestions(profile=me)]
    # X first (more shared goals); then B, whose allowed answer adds to the set, before A,
    # whose answer is hers alone (A would win the tie otherwise: lower pk).
    assert order == [first.pk, b.pk, a.pk]
    reasons = " ".join(r for s in peer_suggestions(profile=me) for r in s.reasons).lower()
    assert "man" not in reasons.split() and "gender" not in reasons and "woman" not in reasons
    # What the viewer says of herself moves nobody: the order cannot reveal others' answers.
    for answer in ("man", "woman", "zzz", ""):
        services.profile_save(user=world.alice, gender=answer, gender_visibility="suggestions")
        assert [s.profile.pk for s in peer_suggestions(profile=me)] == order, answer


def test_opening_directory_pages_publishes_no_profile(db, world, client_for):
    olivia = client_for(world.olivia)
    for url in ("/directory/", "/directory/suggestions/", "/directory/profile/"):
        assert olivia.get(url).status_code == 200
    assert not Profile.objects.filter(user=world.olivia).exists()
    _profile(world.carol)
    assert (
        "Olivia"
        not in client_for(world.carol)
        .get("/directory/", {"q": "Olivia"})
        .text.split('id="results-heading"')[-1]
    )
    assert "Create your profile" in olivia.get("/directory/suggestions/").text


def test_header_breaking_input_and_odd_tokens_get_clear_answers(db, world, client_for):
    bob = client_for(world.bob)
    bad_title = bob.post(
        "/directory/posts/", {"kind": "question", "title": "Hi\nBcc: x@evil.example", "body": "x"}
    )
    assert bad_title.status_code == 400 and "must fit on one line" in bad_title.text
    bad_name = bob.post("/directory/profile/", {"name": "Bob\nX"})
    assert bad_name.status_code == 400 and "must fit on one line" in bad_name.text
    assert not Post.objects.exists() and not Profile.objects.filter(user=world.bob).exists()
    anonymous = client_for()
    for token in ("1-%C3%A9", "%C3%A9-abc", "99999999999999999999999-" + "0" * 24):
        assert anonymous.get(f"/directory/unsubscribe/{token}/").status_code == 404
        assert anonymous.post(f"/directory/unsubscribe/{token}/").status_code == 404


# --- Posts and moderation -----------------------------------------------------------------------


def test_members_post_and_reply_and_admins_moderate_with_reasons(db, world, client_for):
    bob = client_for(world.bob)
    response = bob.post(
        "/directory/posts/",
        {"kind": "seeking", "title": "Seeking peers: QI", "body": "Anyone doing QI?"},
    )
    thread = Post.objects.get(title="Seeking peers: QI")
    assert response.status_code == 302 and thread.author == world.bob
    carol = client_for(world.carol)
    assert carol.post(f"/directory/posts/{thread.pk}/", {"body": "Yes, me"}).status_code == 302
    assert "Yes, me" in carol.get(f"/directory/posts/{thread.pk}/").text
    sam = client_for(world.sam)
    assert carol.post(f"/directory/posts/{thread.pk}/lock/", {"reason": "x"}).status_code == 403
    sam.post(f"/directory/posts/{thread.pk}/lock/", {"reason": "Answered"})
    locked = carol.post(f"/directory/posts/{thread.pk}/", {"body": "Me too"}, follow=True)
    assert "locked" in locked.text and not Post.objects.filter(body="Me too").exists()
    sam.post(f"/directory/posts/{thread.pk}/hide/", {"reason": ""})  # no reason: refused
    assert Post.objects.get(pk=thread.pk).hidden_at is None
    sam.post(f"/directory/posts/{thread.pk}/hide/", {"reason": "Off topic"})
    assert carol.get(f"/directory/posts/{thread.pk}/").status_code == 404
    assert "Seeking peers: QI" not in carol.get("/directory/posts/").text
    assert "Hidden by a moderator" in sam.get(f"/directory/posts/{thread.pk}/").text
    reply = Post.objects.get(body="Yes, me")
    refused = sam.post(f"/directory/posts/{reply.pk}/lock/", {"reason": "x"}, follow=True)
    assert "Lock the thread" in refused.text
    sam.post(f"/directory/members/{world.bob.pk}/ban/", {"reason": "Spam", "banned": "1"})
    refused = bob.post(
        "/directory/posts/", {"kind": "question", "title": "Again", "body": "x"}, follow=True
    )
    assert "may not post" in refused.text and not Post.objects.filter(title="Again").exists()
    with CaptureQueriesContext(connection) as few:
        sam.get("/directory/moderation/")
    services.post_moderate(post=reply, by=world.sam, action="hide", reason="Rude")
    services.post_moderate(post=reply, by=world.sam, action="unhide", reason="Fine after all")
    with CaptureQueriesContext(connection) as more:
        log = sam.get("/directory/moderation/").text
    assert len(more) == len(few)
    assert "Off topic" in log and "Answered" in log and "Spam" in log
    assert set(ModerationEvent.objects.values_list("by", flat=True)) == {world.sam.pk}
    assert client_for(world.carol).get("/directory/moderation/").status_code == 403


def test_bad_post_input_gets_a_form_error_not_a_500(db, world, client_for):
    bob = client_for(world.bob)
    response = bob.post("/directory/posts/", {"kind": "nonsense", "title": "", "body": ""})
    assert response.status_code == 400 and "This field is required" in response.text
    assert bob.post("/directory/posts/999999/", {"body": "x"}).status_code == 404
    sam = client_for(world.sam)
    post = services.post_create(author=world.bob, kind="question", title="Q", body="B")
    assert sam.post(f"/directory/posts/{post.pk}/explode/", {"reason": "x"}).status_code == 302
    assert Post.objects.get(pk=post.pk).hidden_at is None


def test_delivery_settings_and_the_unsubscribe_page(db, world, client_for):
    bob = client_for(world.bob)
    assert bob.post("/directory/settings/", {"delivery": "daily"}).status_code == 302
    assert Subscription.objects.get(user=world.bob).delivery == "daily"
    assert bob.post("/directory/settings/", {"delivery": "hourly"}).status_code == 400
    token = services.unsubscribe_token(user=world.bob)
    anonymous = client_for()
    page = anonymous.get(f"/directory/unsubscribe/{token}/")
    assert page.status_code == 200 and "Unsubscribe" in page.text
    assert Subscription.objects.get(user=world.bob).delivery == "daily"  # a GET changes nothing
    assert anonymous.get(f"/directory/unsubscribe/{world.bob.pk}-0000/").status_code == 404
    assert anonymous.post(f"/directory/unsubscribe/{token}/").status_code == 200
    assert Subscription.objects.get(user=world.bob).delivery == "none"


# --- Join requests ------------------------------------------------------------------------------


@pytest.fixture
def open_alpha(world):
    PeerGroup.objects.filter(pk=world.alpha.pk).update(open_seats=1)
    return PeerGroup.objects.get(pk=world.alpha.pk)


def test_a_member_asks_to_join_and_the_point_person_accepts(
    db, world, client_for, open_alpha, django_capture_on_commit_callbacks
):
    olivia = client_for(world.olivia)
    assert "Alpha Peer Group" in olivia.get("/directory/groups/").text
    assert "Beta Circle" not in olivia.get("/directory/groups/").text  # no open seat
    with django_capture_on_commit_callbacks(execute=True):
        response = olivia.post(
            "/directory/groups/alpha/join/", {"message": "Health equity, K award in 2027"}
        )
    assert response.status_code == 302
    assert not mail.outbox  # recorded with the request; the worker sends it
    assert emails_send_due() == 1 and emails_send_due() == 0
    (note,) = mail.outbox
    assert note.to == [world.alice.email] and "Health equity, K award in 2027" in note.body
    again = olivia.post("/directory/groups/alpha/join/", {"message": "Again"}, follow=True)
    assert "already with the group" in again.text
    request = JoinRequest.objects.get(user=world.olivia)
    alice = client_for(world.alice, world.alpha)
    assert "Health equity" in alice.get("/join-requests/").text
    bob = client_for(world.bob, world.alpha)
    assert (
        bob.post(f"/join-requests/{request.pk}/decide/", {"decision": "accept"}).status_code == 403
    )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        alice.post(f"/join-requests/{request.pk}/decide/", {"decision": "accept"})
    request.refresh_from_db()
    assert request.status == "accepted" and request.decided_by == world.alice
    with tenant_context(world.alpha):
        assert Invitation.objects.filter(email=world.olivia.email).exists()
    assert emails_send_due() == 1  # the invitation, recorded with the answer
    assert [m.to for m in mail.outbox] == [[world.olivia.email]]
    assert PeerGroup.objects.get(pk=world.alpha.pk).open_seats == 0
    assert "Alpha Peer Group" not in olivia.get("/directory/groups/").text
    assert olivia.get("/directory/groups/alpha/join/").status_code == 404


def test_a_declined_request_is_told_kindly_and_bad_requests_get_messages(
    db, world, client_for, open_alpha, django_capture_on_commit_callbacks
):
    olivia = client_for(world.olivia)
    assert olivia.post("/directory/groups/alpha/join/", {"message": ""}).status_code == 400
    member = client_for(world.bob).post(
        "/directory/groups/alpha/join/", {"message": "Me"}, follow=True
    )
    assert "already in this group" in member.text
    olivia.post("/directory/groups/alpha/join/", {"message": "Hello"})
    request = JoinRequest.objects.get(user=world.olivia)
    mallory = client_for(world.mallory, world.beta)  # another group's point-person
    assert (
        mallory.post(f"/join-requests/{request.pk}/decide/", {"decision": "accept"}).status_code
        == 404
    )
    alice = client_for(world.alice, world.alpha)
    emails_send_due()  # the request's own e-mail to Alice
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        alice.post(f"/join-requests/{request.pk}/decide/", {"decision": "decline"})
    assert JoinRequest.objects.get(pk=request.pk).status == "declined"
    assert emails_send_due() == 1 and emails_send_due() == 0
    (sorry,) = mail.outbox
    assert sorry.to == [world.olivia.email] and "cannot take you in" in sorry.body
    twice = alice.post(f"/join-requests/{request.pk}/decide/", {"decision": "accept"}, follow=True)
    assert "already answered" in twice.text
    again = olivia.post("/directory/groups/alpha/join/", {"message": "Please?"}, follow=True)
    assert "answered your request recently" in again.text


# --- Who may open what ----------------------------------------------------------------------------

MEMBER, OTHER, OUTSIDER, ADMIN, ANON = "member", "other_group", "outsider", "admin", "anon"
VISITORS = (MEMBER, OTHER, OUTSIDER, ADMIN, ANON)


def answers(signed_in, admin=None, anon=302):
    return {MEMBER: signed_in, OTHER: signed_in, OUTSIDER: signed_in,
            ADMIN: signed_in if admin is None else admin, ANON: anon}  # fmt: skip


GET = {
    "directory:search": answers(200),
    "directory:profile-edit": answers(200),
    "directory:profile-detail": answers(200),
    "directory:suggestions": answers(200),
    "directory:post-list": answers(200),
    "directory:post-detail": answers(200),
    "directory:post-moderate": answers(405),
    "directory:member-ban": answers(405),
    "directory:moderation": answers(403, admin=200),
    "directory:settings": answers(200),
    "directory:unsubscribe": answers(404, anon=404),  # an unknown token
    "directory:open-groups": answers(200),
    "directory:join-request": answers(200),
}
POST = {
    "directory:search": answers(405),
    "directory:profile-edit": answers(400),  # the form says what is missing
    "directory:profile-detail": answers(405),
    "directory:suggestions": answers(405),
    "directory:post-list": answers(400),
    "directory:post-detail": answers(400),
    "directory:post-moderate": answers(403, admin=302),  # no reason: a message, no change
    "directory:member-ban": answers(403, admin=302),
    "directory:moderation": answers(405),
    "directory:settings": answers(400),
    "directory:unsubscribe": answers(404, anon=404),
    "directory:open-groups": answers(405),
    "directory:join-request": answers(400),
}


def test_every_directory_url_has_a_row():
    from django.urls import get_resolver

    names = {
        f"directory:{name}"
        for name in get_resolver("directory.urls").reverse_dict
        if isinstance(name, str)
    }
    assert names == set(GET) == set(POST)


@pytest.fixture
def samples(world, open_alpha):
    thread = services.post_create(author=world.bob, kind="question", title="Q?", body="B")
    profile = _profile(world.bob)
    return {"thread": thread.pk, "profile": profile.pk}


def _url(name, world, samples):
    kwargs = {
        "directory:profile-detail": {"pk": samples["profile"]},
        "directory:post-detail": {"pk": samples["thread"]},
        "directory:post-moderate": {"pk": samples["thread"], "action": "hide"},
        "directory:member-ban": {"pk": world.bob.pk},
        "directory:unsubscribe": {"token": "1-nope"},
        "directory:join-request": {"slug": "alpha"},
    }.get(name, {})
    return reverse(name, urlconf="config.urls_public", kwargs=kwargs)


def _who(world, visitor):
    return {
        MEMBER: world.bob,
        OTHER: world.mallory,
        OUTSIDER: world.olivia,
        ADMIN: world.sam,
        ANON: None,
    }[visitor]


@pytest.mark.parametrize(("name", "visitor"), [(n, v) for n in GET for v in VISITORS])
def test_directory_get_answers_as_the_table_says(db, world, client_for, samples, name, visitor):
    response = client_for(_who(world, visitor)).get(_url(name, world, samples))
    assert response.status_code == GET[name][visitor]
    if response.status_code == 302:
        assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize(("name", "visitor"), [(n, v) for n in POST for v in VISITORS])
def test_directory_post_answers_as_the_table_says(db, world, client_for, samples, name, visitor):
    response = client_for(_who(world, visitor)).post(_url(name, world, samples))
    assert response.status_code == POST[name][visitor]


def test_directory_pages_do_not_exist_on_group_hosts(db, world, client_for):
    assert client_for(world.bob, world.alpha).get("/directory/").status_code == 404


def test_links_in_sent_mail_survive_a_secret_key_rotation(db, world, settings):
    thread = services.post_create(author=world.bob, kind="question", title="Q", body="B")
    address = services.reply_address(post=thread, user=world.carol)
    token = services.unsubscribe_token(user=world.carol)
    old = settings.SECRET_KEY
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "a-new-key-" + "x" * 40, [old]
    assert services.reply_target(address) == (thread.pk, world.carol.pk)
    assert services.unsubscribe_token_user(token=token) == world.carol
    settings.SECRET_KEY_FALLBACKS = []  # the old key retired: its links stop working
    assert services.reply_target(address) is None
    assert services.unsubscribe_token_user(token=token) is None


def test_a_profile_follows_its_accounts_institution_and_time_zone(db, world, client_for):
    moved = InstitutionFactory(name="Harbor Institute", email_domains=["harbor.edu"])
    bob = _profile(world.bob)
    carol = client_for(world.carol)
    assert bob.pk not in _ids(carol.get("/directory/", {"institution": moved.pk}))
    account = User.objects.get(pk=world.bob.pk)  # not the session's shared object
    account.institution, account.time_zone = moved, "Europe/Oslo"
    account.save(update_fields=["institution", "time_zone"])
    assert bob.pk in _ids(carol.get("/directory/", {"q": "Lakeside"}))  # not yet followed
    assert services.profiles_follow_accounts() == 1  # beat's every-minute sweep
    assert services.profiles_follow_accounts() == 0
    for params in ({"institution": moved.pk}, {"q": "Harbor"}, {"time_zone": "Europe/Oslo"}):
        assert bob.pk in _ids(carol.get("/directory/", params)), params


def test_a_renamed_institution_is_found_by_its_new_name(db, world, client_for):
    bob = _profile(world.bob)
    carol = client_for(world.carol)
    lake = Institution.objects.get(pk=world.bob.institution_id)
    lake.name = "Lakeshore University"
    institution_save(institution=lake, actor=None)
    assert services.profiles_follow_accounts() >= 1
    assert bob.pk in _ids(carol.get("/directory/", {"q": "Lakeshore"}))
    assert bob.pk not in _ids(carol.get("/directory/", {"q": "Lakeside"}))


def test_the_open_groups_list_offers_no_join_to_the_groups_own_members(db, world, client_for):
    PeerGroup.objects.filter(pk=world.alpha.pk).update(open_seats=1)
    page = client_for(world.bob).get("/directory/groups/").text
    assert "You are in this group." in page and "Ask to join Alpha Peer Group" not in page
    outsider = client_for(world.olivia).get("/directory/groups/").text
    assert "Ask to join Alpha Peer Group" in outsider


def test_a_point_person_opens_a_seat_on_the_groups_page_and_the_directory_lists_it(
    db, world, client_for
):
    alice = client_for(world.alice, world.alpha)
    page = alice.get("/join-requests/").text
    assert 'action="/seats/"' in page and "0 open seats" in page
    assert "the directory shows members the group's name, focus, stage and the mission" in page
    assert "Alpha Peer Group" not in client_for(world.olivia).get("/directory/groups/").text
    saved = alice.post("/seats/", {"seats": "2"}, follow=True)
    assert saved.redirect_chain[-1][0] == "/join-requests/"
    assert "The group now has 2 open seat(s)" in saved.text
    assert "Ask to join Alpha Peer Group" in client_for(world.olivia).get("/directory/groups/").text
    assert client_for(world.bob, world.alpha).post("/seats/", {"seats": "5"}).status_code == 403
    assert PeerGroup.objects.get(pk=world.alpha.pk).open_seats == 2
    closed = alice.post("/seats/", {"seats": "0"}, follow=True)
    assert "closed to requests to join" in closed.text


def test_the_open_groups_list_shows_each_groups_focus_in_words_and_its_mission_in_force(
    db, world, client_for
):
    with tenant_context(world.alpha):
        mission_adopt(text="Our first draft.", actor=world.alice)
        mission_adopt(text="Each of us submits a K award\nwithin two years.", actor=world.alice)
    with tenant_context(world.beta):
        mission_adopt(text="Beta keeps this to itself.", actor=world.mallory)
    PeerGroup.objects.filter(pk=world.alpha.pk).update(
        open_seats=1, focus="career_development_award"
    )
    PeerGroup.objects.filter(pk=world.beta.pk).update(open_seats=0, focus="research")

    page = client_for(world.olivia).get("/directory/groups/").text
    assert "Focus: Career development award" in page
    assert "career_development_award" not in page
    assert "Each of us submits a K award<br>within two years." in page
    assert "Our first draft." not in page  # only the version in force
    # beta has no open seat: neither it nor its mission is listed
    assert "Beta Circle" not in page and "Beta keeps this to itself." not in page
    assert "Research careers" not in page


def test_the_migration_copies_each_ready_groups_mission_in_force_to_its_row(db, world):
    import importlib

    from django.apps import apps

    with tenant_context(world.alpha):
        mission_adopt(text="Promotion for all of us.", actor=world.alice)
        mission_adopt(text="Promotion and a K award for all of us.", actor=world.alice)
    PeerGroup.objects.filter(pk__in=[world.alpha.pk, world.beta.pk]).update(mission_public="")
    migration = importlib.import_module("society.migrations.0014_peergroup_mission_public")
    with connection.schema_editor() as editor:
        migration.fill(apps, editor)
    rows = dict(PeerGroup.objects.values_list("slug", "mission_public"))
    assert rows["alpha"] == "Promotion and a K award for all of us."
    assert rows["beta"] == ""  # no mission written yet
