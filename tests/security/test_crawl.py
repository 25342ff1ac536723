"""A crawl per role: no page answers 500, and no page offers what its reader may not open.

Each role starts at "/" on the base host and on every group's host, and goes breadth first:
it follows every same-site link (`<a href>`, and htmx's `hx-get`, requested with htmx's
HX-Request header) and submits every GET form with its default values. Only HTML is read for
links; anything else (the .ics and .zip downloads, JSON) is fetched once for its status. It
fails on

- any 5xx, wherever it was found;
- any link shown to the role that answers 4xx (403, 404, 405 ...) once its redirects are
  followed, or that sends a signed-in role to the sign-in page (for the signed-out visitor,
  being sent to sign in is the right answer from a page that needs it);
- any GET that writes to the database (GET must be safe; the session table aside), except the
  known ones in KNOWN_UNSAFE_GETS.

Nothing here lists the pages: a page is crawled as soon as some page links to it (and
test_every_page_is_linked fails for a page of the role matrices that no page links to). The
start pages are not links, so a group's home answering 404 to a non-member is expected there
(and checked: members get 200, signed-in outsiders 404, the signed-out visitor the sign-in page).

Every request runs in a savepoint that is rolled back, so no page changes what the next sees.
"""

from __future__ import annotations

import contextlib
import re
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import urlencode, urljoin, urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.core.signals import got_request_exception
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import Resolver404, resolve
from django.utils import timezone
from django_tenants.utils import tenant_context

from tests.conftest import fresh, host_of

MAX_PAGES = 400  # requests per role; reaching it fails the test (a link explosion, or grow it)
MAX_REDIRECTS = 10

# role -> (the world's user, None for the signed-out visitor; the groups it is a member of)
ROLES = {
    "point_person": ("alice", ("alpha", "beta", "gamma")),  # in beta a plain member
    "member": ("bob", ("alpha", "gamma")),
    "facilitator": ("carol", ("alpha",)),
    "evaluator": ("erin", ("alpha", "gamma")),
    "society_admin": ("sam", ()),
    "other_group": ("mallory", ("beta",)),
    "no_group": ("olivia", ()),
    "former_member": ("dave", ()),  # made by `lived_in`: was in alpha, removed
    "signed_out": (None, ()),
}

# Paths never requested.
SKIP_PREFIXES = (
    "/accounts/logout/",  # sign-out would end the crawl's session
    "/static/",
)
WRITE = re.compile(
    r"^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM|TRUNCATE(?:\s+TABLE)?|(?:CREATE|ALTER|DROP)\s+\w+)"
    r"\s+([\w.\"]+)",
    re.IGNORECASE,
)
NOT_A_STATE_CHANGE = {"django_session"}  # any request may save its session
# Pages that used to write on a first visit (the charter's and e-mail settings' defaults were
# stored by reading them); test_first_visits_write_nothing keeps them fixed.
FIRST_VISIT_PAGES = {
    ("/charter/", "groups_charter"),
    ("/welcome/", "groups_charter"),
    ("/directory/settings/", "directory_subscription"),
}
KNOWN_UNSAFE_GETS: set[tuple[str, str]] = set()


# --- reading pages ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    url: str  # absolute, without fragment
    htmx: bool = False  # an hx-get: requested with the HX-Request header


def _defragment(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(fragment=""))


class LinkParser(HTMLParser):
    """<a href>, hx-get, and each GET form as the URL its default submission requests."""

    def __init__(self, base: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base = base
        self.links: list[Link] = []
        self._form: dict | None = None  # the GET form being read
        self._select: dict | None = None
        self._option: list[str] | None = None
        self._textarea: tuple[str, list[str]] | None = None

    def _link(self, href: str | None, *, htmx: bool = False) -> None:
        if href and href.strip():
            self.links.append(Link(_defragment(urljoin(self.base, href.strip())), htmx))

    def _field(self, name: str, value: str) -> None:
        if self._form is not None:
            self._form["fields"].append((name, value))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if "hx-get" in a:
            self._link(a["hx-get"], htmx=True)
        if tag == "a":
            self._link(a.get("href"))
        elif tag == "base" and a.get("href"):
            self.base = urljoin(self.base, a["href"])
        elif tag == "form":
            get = (a.get("method") or "get").lower() == "get"  # no method: a GET
            self._form = {"action": a.get("action"), "fields": [], "submit": False} if get else None
        elif tag == "option" and self._select is not None:
            self._option = []
            self._select["options"].append([a.get("value"), "selected" in a, self._option])
        elif self._form is None or "disabled" in a or not a.get("name"):
            return
        elif tag in ("input", "button"):
            kind = (a.get("type") or ("submit" if tag == "button" else "text")).lower()
            if kind == "submit":  # pressing enter submits with the first submit button
                if not self._form["submit"]:
                    self._form["submit"] = True
                    self._field(a["name"], a.get("value", ""))
            elif kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._field(a["name"], a.get("value") or "on")
            elif kind not in ("reset", "file", "image", "button"):
                self._field(a["name"], a.get("value", ""))
        elif tag == "select":
            self._select = {"name": a["name"], "multiple": "multiple" in a, "options": []}
        elif tag == "textarea":
            self._textarea = (a["name"], [])

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea[1].append(data)
        elif self._option is not None:
            self._option.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self._textarea is not None:
            name, text = self._textarea
            self._field(name, "".join(text).removeprefix("\n"))
            self._textarea = None
        elif tag == "select" and self._select is not None:
            options = [
                (value if value is not None else "".join(text).strip(), selected)
                for value, selected, text in self._select["options"]
            ]
            chosen = [value for value, selected in options if selected]
            if not chosen and options and not self._select["multiple"]:
                chosen = [options[0][0]]  # a single select submits its first option
            for value in chosen:
                self._field(self._select["name"], value)
            self._select = self._option = None
        elif tag == "form" and self._form is not None:
            action = urljoin(self.base, self._form["action"] or self.base)
            query = urlencode(self._form["fields"])
            self.links.append(Link(_defragment(urlsplit(action)._replace(query=query).geturl())))
            self._form = None


def links_of(html: str, base: str) -> list[Link]:
    parser = LinkParser(base)
    parser.feed(html)
    parser.close()
    return parser.links


def same_site(url: str) -> bool:
    """The base host or one of its subdomains (any port: the host decides what answers)."""
    parts = urlsplit(url)
    host, base = (parts.hostname or "").lower(), settings.HORIZONTAL_BASE_HOST
    return parts.scheme in ("http", "https") and (host == base or host.endswith("." + base))


def is_sign_in(url: str) -> bool:
    parts, login = urlsplit(url), urlsplit(settings.LOGIN_URL)
    return (parts.hostname, parts.path) == (login.hostname, login.path)


# --- crawling -----------------------------------------------------------------------------------


@dataclass
class Answer:
    """What a URL answered in the end, after its same-site redirects."""

    status: int
    chain: list[str]  # every URL requested, the first included
    content_type: str
    error: str = ""  # the exception behind a 5xx
    writes: list[str] = field(default_factory=list)  # "table (GET url)" for each unsafe GET

    @property
    def final(self) -> str:
        return self.chain[-1]

    @property
    def to_sign_in(self) -> bool:
        return any(is_sign_in(url) for url in self.chain[1:])


@dataclass(frozen=True)
class Problem:
    kind: str  # "5xx", "refused", "sign-in", "redirects", "writes"
    url: str
    text: str


class Crawler:
    def __init__(self, client, *, signed_in: bool) -> None:
        self.client = client
        self.client.raise_request_exception = False  # a 500 is a finding, not a crash
        self.signed_in = signed_in
        self.answers: dict[Link, Answer] = {}
        self.shown_on: dict[Link, list[str]] = {}  # link -> the pages that showed it
        self.requests = 0
        self.left: list[str] = []  # links not followed once MAX_PAGES was reached
        self._exception: BaseException | None = None

    def _on_exception(self, sender, **kwargs) -> None:
        self._exception = sys.exc_info()[1]

    def _get(self, url: str, htmx: bool):
        parts = urlsplit(url)
        self._exception = None
        self.requests += 1
        savepoint = transaction.savepoint()
        try:
            with CaptureQueriesContext(connection) as queries:
                response = self.client.get(
                    urlunsplit(("", "", parts.path or "/", parts.query, "")),
                    HTTP_HOST=parts.netloc,
                    secure=parts.scheme == "https",
                    headers={"HX-Request": "true"} if htmx else {},
                )
        finally:
            transaction.savepoint_rollback(savepoint)
            connection.set_schema_to_public()
        written = (WRITE.match(q["sql"]) for q in queries.captured_queries)
        tables = {m[1].replace('"', "").rsplit(".", 1)[-1] for m in written if m}
        known = {table for path, table in KNOWN_UNSAFE_GETS if path == parts.path}
        writes = [f"{t} (GET {url})" for t in sorted(tables - NOT_A_STATE_CHANGE - known)]
        error = self._exception and f"{type(self._exception).__name__}: {self._exception}"
        return response, writes, error or ""

    def fetch(self, link: Link):
        """GET the link, following same-site redirects (each on its own host)."""
        chain, writes = [link.url], []
        while True:
            response, hop_writes, error = self._get(chain[-1], link.htmx)
            writes += hop_writes
            location = response.get("Location") if 300 <= response.status_code < 400 else None
            if not location or len(chain) > MAX_REDIRECTS:
                break
            target = _defragment(urljoin(chain[-1], location))
            if not same_site(target):
                break  # off to an identity provider, say: its status is what we check
            chain.append(target)
        answer = Answer(
            status=response.status_code,
            chain=chain,
            content_type=response.get("Content-Type", "").split(";")[0].strip(),
            error=error,
            writes=writes,
        )
        return answer, response

    def crawl(self, seeds: list[str]) -> None:
        got_request_exception.connect(self._on_exception, dispatch_uid="test_crawl")
        try:
            queue: deque[tuple[Link, str | None]] = deque((Link(url), None) for url in seeds)
            while queue:
                link, page = queue.popleft()
                if page is not None:
                    self.shown_on.setdefault(link, []).append(page)
                if link in self.answers:
                    continue
                if self.requests >= MAX_PAGES:
                    self.left.append(link.url)
                    continue
                answer, response = self.fetch(link)
                self.answers[link] = answer
                if answer.status != 200 or answer.content_type != "text/html":
                    continue  # error pages, downloads, JSON: the status only
                html = response.content.decode(response.charset or "utf-8")
                for found in links_of(html, answer.final):
                    if same_site(found.url) and not urlsplit(found.url).path.startswith(
                        SKIP_PREFIXES
                    ):
                        queue.append((found, answer.final))
        finally:
            got_request_exception.disconnect(dispatch_uid="test_crawl")

    def problems(self) -> list[Problem]:
        out = []
        for link, answer in sorted(self.answers.items(), key=lambda item: item[0].url):
            pages = sorted(set(self.shown_on.get(link, [])))
            where = "a start page"
            if pages:
                where = f"shown on {pages[0]}"
                if len(pages) > 1:
                    where += f" and {len(pages) - 1} other page(s)"
            what = ("hx-get " if link.htmx else "") + link.url
            via = f" (-> {' -> '.join(answer.chain[1:])})" if len(answer.chain) > 1 else ""
            if answer.status >= 500:
                text = f"{answer.status} {what}{via}, {where}: {answer.error or 'no exception'}"
                out.append(Problem("5xx", link.url, text))
            elif pages and 400 <= answer.status < 500:
                out.append(Problem("refused", link.url, f"{answer.status} {what}{via}, {where}"))
            elif pages and self.signed_in and answer.to_sign_in:
                out.append(Problem("sign-in", link.url, f"sign-in for {what}{via}, {where}"))
            elif 300 <= answer.status < 400 and same_site(answer.final):
                out.append(Problem("redirects", link.url, f"redirect loop {what}{via}, {where}"))
            if answer.writes:
                out.append(Problem("writes", link.url, f"GET writes {', '.join(answer.writes)}"))
        return out


def view_names(crawler: Crawler) -> set[str]:
    """The URL names of every page the crawl requested (redirect hops included)."""
    names = set()
    for answer in crawler.answers.values():
        for url in answer.chain:
            parts = urlsplit(url)
            public = parts.hostname == settings.HORIZONTAL_BASE_HOST
            urlconf = "config.urls_public" if public else "config.urls_group"
            with contextlib.suppress(Resolver404):  # a path of allauth's that we route to 404
                names.add(resolve(parts.path, urlconf=urlconf).view_name)
    return names


def crawl_as(role: str, world, lived_in, client_for) -> Crawler:
    name, _groups = ROLES[role]
    user = (lived_in.get(name) or getattr(world, name)) if name else None
    crawler = Crawler(client_for(user), signed_in=user is not None)
    crawler.crawl(list(seed_urls().values()))
    REACHED[role] = view_names(crawler)
    return crawler


# role -> the URL names its crawl reached, for test_every_page_is_linked (filled as roles run)
REACHED: dict[str, set[str]] = {}


def seed_urls() -> dict[str, str]:
    """The start pages: "/" on the base host and on every group's host."""
    from society.models import PeerGroup

    scheme = settings.HORIZONTAL_SCHEME
    groups = PeerGroup.objects.filter(status=PeerGroup.Status.READY).order_by("slug")
    return {"": f"{scheme}://{host_of()}/", **{g.slug: f"{scheme}://{host_of(g)}/" for g in groups}}


# --- what there is to crawl ---------------------------------------------------------------------


@pytest.fixture
def lived_in(db, world, tmp_path):
    """More than the session's world holds, so that every kind of page has something to link to:
    published minutes (with a confidential item), an upcoming meeting kept by a member, a
    mission, a shareable win, open seats with a pending request to join, a pending invitation,
    directory profiles (one hidden), a post with a reply and a hidden post, applications (a draft
    and one in review); beta concluded (a read-only archive with its export), and a third group,
    gamma, concluded long ago and shredded; dave, removed from alpha; an institution with SAML
    sign-in (the sign-in page links to it). All of it is rolled back with the test. Returns
    the people it made, by name."""
    from crossschema.provisioning import group_provision
    from directory import services as directory
    from groups.models import Meeting, Membership, SchedulingPoll
    from groups.services.achievements import achievement_add
    from groups.services.confidential import confidential_destroy, confidential_entry_create
    from groups.services.invitations import invitation_create
    from groups.services.lifecycle import group_conclude, open_seats_set
    from groups.services.meetings import agenda_notes_record, meeting_schedule
    from groups.services.membership import membership_add, membership_end
    from groups.services.minutes import minutes_publish
    from groups.services.mission import mission_adopt
    from society.models import GroupApplication, Institution, PeerGroup
    from society.services import (
        application_save,
        application_submit,
        group_create,
        institution_save,
    )
    from tests.idp.saml_idp import idp_config, make_keypair, metadata_xml
    from tests.society.factories import InstitutionFactory, UserFactory

    names = ("alice", "bob", "carol", "erin", "mallory", "sam", "olivia")
    alice, bob, carol, erin, mallory, sam, olivia = (fresh(getattr(world, n)) for n in names)
    dave = UserFactory(email="dave@lakeside.edu", full_name="Dave Former")

    with tenant_context(fresh(world.alpha)):
        mission_adopt(text="Each of us submits a K award within two years.", actor=alice)
        past = Meeting.objects.get(pk=world.samples["meeting"])
        item = past.agenda.first()
        agenda_notes_record(item=item, notes="Bob's job offer", confidential=True, actor=alice)
        minutes_publish(meeting=past, actor=alice)
        meeting_schedule(
            title="Next check-in",
            starts_at=timezone.now() + timedelta(days=7),
            duration_minutes=60,
            link="https://video.example.org/room",
            actor=bob,  # bob keeps the notes
            poll=SchedulingPoll.objects.get(pk=world.samples["poll"]),  # and the poll closes
        )
        achievement_add(owner=carol, kind="award", text="Teaching award", shareable=True)
        open_seats_set(seats=2, actor=alice)
        invitation_create(email="newcomer@lakeside.edu", role="member", actor=alice)
        membership_end(membership=membership_add(user=dave), actor=alice)

    for user, hidden in ((alice, False), (bob, False), (olivia, False), (carol, True)):
        directory.profile_save(
            user=user, name=user.full_name, looking_for_group=not hidden, hidden=hidden
        )
    directory.join_request_create(
        user=olivia, group=fresh(world.alpha), message="Health equity, a K award in 2027."
    )
    thread = directory.post_create(author=bob, kind="question", title="K award tips?", body="Any?")
    directory.reply_create(thread=thread, author=alice, body="Start early.")
    spam = directory.post_create(author=mallory, kind="announce", title="Buy now", body="Spam")
    directory.post_moderate(post=spam, by=sam, action="hide", reason="Off topic")
    for applicant, submit in ((alice, False), (olivia, True)):
        application = application_save(
            application=GroupApplication(),
            actor=applicant,
            founding_emails=["pat@lakeside.edu", "quinn@southport.edu"],
            point_person_emails=[applicant.email],
            slug=f"crawl-{applicant.pk}",
            name=f"{applicant.full_name}'s group",
            mission_draft="Each of us reaches promotion within three years.",
            focus="clinician_educator_promotion",
            meeting_rhythm="monthly",
            why_these_peers="Different institutions, same promotion criteria to decode.",
        )
        if submit:
            application_submit(application=application, actor=applicant)

    with tenant_context(fresh(world.beta)):
        group_conclude(actor=mallory)

    gamma = group_provision(group=group_create(name="Gamma Archive", slug="gamma"))
    with tenant_context(gamma):
        R = Membership.Role
        for user, role in ((alice, R.POINT_PERSON), (bob, R.MEMBER), (erin, R.EVALUATOR)):
            membership_add(user=user, role=role)
        mission_adopt(text="Promotion for all of us.", actor=alice)
        confidential_entry_create(author=bob, text="Before the end", peers_only=False)
        last = meeting_schedule(
            title="Last meeting",
            starts_at=timezone.now() - timedelta(days=60),
            duration_minutes=60,
            actor=alice,
            allow_past=True,
        )
        item = last.agenda.first()
        agenda_notes_record(item=item, notes="Who leaves", confidential=True, actor=alice)
        minutes_publish(meeting=last, actor=alice)
        group_conclude(actor=alice)
        confidential_destroy()
    long_ago = timezone.now() - timedelta(days=settings.HORIZONTAL_EXPORT_WINDOW_DAYS + 1)
    PeerGroup.objects.filter(pk=gamma.pk).update(concluded_at=long_ago, shredded_at=timezone.now())

    key, cert = make_keypair(tmp_path)
    southport = InstitutionFactory(name="Southport Institute", email_domains=["southport.edu"])
    southport.slug, southport.sign_in = "southport", Institution.SignIn.SAML
    southport.saml_metadata_xml = metadata_xml(
        idp_config(
            entity_id="https://idp.southport.test/idp",
            base_url="http://127.0.0.1:9",
            key=key,
            cert=cert,
        )
    )
    institution_save(institution=southport, actor=sam)
    return {"dave": dave}


# --- the tests ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(ROLES))
def test_crawl(role, world, lived_in, client_for):
    name, groups = ROLES[role]
    user = (lived_in.get(name) or getattr(world, name)) if name else None
    seeds = seed_urls()
    started = time.monotonic()
    crawler = crawl_as(role, world, lived_in, client_for)
    print(
        f"\n{role}: {len(crawler.answers)} URLs, {crawler.requests} requests,"
        f" {time.monotonic() - started:.1f} s"
    )

    # The start pages: the crawl got in where the role belongs, and nowhere else.
    expected = {
        slug: 200 if slug in groups or not slug else 404 if user else "sign-in" for slug in seeds
    }
    start = {slug: crawler.answers[Link(url)] for slug, url in seeds.items()}
    got = {
        slug: "sign-in" if answer.to_sign_in and not user else answer.status
        for slug, answer in start.items()
    }
    assert got == expected, f"the start pages of {role}"

    problems = crawler.problems()
    assert not problems, f"{role}: {len(problems)} problem(s):\n" + "\n".join(
        p.text for p in problems
    )
    assert not crawler.left, (
        f"{role}: the crawl stopped at {MAX_PAGES} requests with {len(crawler.left)} links left,"
        f" e.g. {crawler.left[:5]}"
    )


def test_every_page_is_linked(world, lived_in, client_for):
    """Every page of the role matrices that some role may open (answers 200 there) is linked
    from somewhere, so the crawl covers it: a page nobody links to is a page nobody tests
    this way. Pages opened by a token from an e-mail answer 404 in the matrices (a bogus token),
    so they are not asked for. Reuses the crawls of test_crawl when they ran in this session."""
    from tests.directory.test_directory import GET as DIRECTORY_GET
    from tests.groups.test_role_matrix import GET as GROUP_GET

    openable = {
        name for table in (GROUP_GET, DIRECTORY_GET) for name, row in table.items()
        if 200 in row.values()
    }  # fmt: skip
    for role in ROLES.keys() - REACHED.keys():
        crawl_as(role, world, lived_in, client_for)
    reached = set().union(*REACHED.values())
    assert not openable - reached, f"no page links to {sorted(openable - reached)}"


def test_the_crawl_finds_what_it_looks_for(world, db, client_for, settings, monkeypatch):
    """The crawler itself: a page offering what its reader may not open, a page that fails, a
    GET that writes; and the signed-out visitor sent to sign in, which is no problem."""
    base, alpha = f"http://{host_of()}", f"http://{host_of(world.alpha)}"
    home = f"""{{% extends "base.html" %}}{{% block content %}}
      <a href="/manage/">admins only</a> <a href="/applications/999999/">absent</a>
      <a href="{alpha}/members/">point-persons only</a>
      <a href="{alpha}/meetings/{world.samples["meeting"]}/attendance/">POST only</a>
      <a href="/applications/">broken page</a> <a href="/directory/settings/">writes</a>
      <a href="https://elsewhere.example.org/">not ours</a>
      <a href="/static/css/site.css">skipped</a>
      <form method="get" action="/directory/"><input name="q" value="K award">
        <select name="career_stage"><option value="">any</option></select>
        <input type="checkbox" name="looking" value="1"><button>Search</button></form>
    {{% endblock content %}}"""
    (engine,) = settings.TEMPLATES
    settings.TEMPLATES = [
        {
            **engine,
            "APP_DIRS": False,
            "OPTIONS": {
                **engine["OPTIONS"],
                "loaders": [
                    (
                        "django.template.loaders.locmem.Loader",
                        {
                            "society/home.html": home,
                            "society/application_list.html": "{% url 'no-such-page' %}",
                        },
                    ),
                    "django.template.loaders.filesystem.Loader",
                    "django.template.loaders.app_directories.Loader",
                ],
            },
        }
    ]
    monkeypatch.setattr(sys.modules[__name__], "KNOWN_UNSAFE_GETS", set())
    # A planted bug: the settings page storing its default on first read, as it once did.
    from directory import services as directory_services
    from directory.models import Subscription

    monkeypatch.setattr(
        directory_services,
        "subscription_get",
        lambda *, user: Subscription.objects.get_or_create(user=user)[0],
    )

    bob = Crawler(client_for(world.bob), signed_in=True)
    bob.crawl([f"{base}/"])
    found = {(p.kind, p.url) for p in bob.problems()}
    assert {
        ("refused", f"{base}/manage/"),
        ("refused", f"{base}/applications/999999/"),
        ("refused", f"{alpha}/members/"),
        ("refused", f"{alpha}/meetings/{world.samples['meeting']}/attendance/"),
        ("5xx", f"{base}/applications/"),
        ("writes", f"{base}/directory/settings/"),
    } <= found, found
    assert Link(f"{base}/directory/?q=K+award&career_stage=") in bob.answers
    assert not any("elsewhere" in link.url or "/static/" in link.url for link in bob.answers)

    anonymous = Crawler(client_for(), signed_in=False)
    anonymous.crawl([f"{base}/"])
    assert anonymous.answers[Link(f"{base}/directory/settings/")].to_sign_in
    assert ("refused", f"{base}/directory/settings/") not in {
        (p.kind, p.url) for p in anonymous.problems()
    }


@pytest.mark.parametrize(("path", "table"), sorted(FIRST_VISIT_PAGES))
def test_first_visits_write_nothing(path, table, world, db, client_for):
    """Opening a page for the first time stores nothing (its defaults are shown, not saved)."""
    from directory.models import Subscription
    from groups.models import Charter

    if path.startswith("/directory/"):
        Subscription.objects.filter(user=world.olivia).delete()  # as before any first visit
        client = client_for(world.olivia)
    else:
        with tenant_context(fresh(world.alpha)):
            Charter.objects.all().delete()
        client = client_for(world.bob, world.alpha)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    writes = [q["sql"] for q in queries.captured_queries if WRITE.match(q["sql"])]
    assert not any(table in sql for sql in writes), writes
