"""The society site, sign-in on the base host only, and the site's look for errors."""

import subprocess
import sys
from urllib.parse import quote

from django_tenants.utils import tenant_context

from groups.models import Membership
from groups.services.calendar import calendar_feed_issue
from groups.services.membership import membership_add
from society.services import account_deactivate
from tests.conftest import ROOT
from tests.society.factories import UserFactory

ALPHA_URL = "http://alpha.horizontal.localhost:8765/"


def test_home_page_answers_signed_out_with_a_sign_in_link(db, client_for):
    response = client_for().get("/")
    assert response.status_code == 200
    assert "Peer mentorship across institutions" in response.text
    assert 'href="http://horizontal.localhost:8765/accounts/login/"' in response.text


def test_home_page_lists_my_groups_with_links_to_their_hosts(db, world, client_for):
    response = client_for(world.alice).get("/")
    assert 'href="http://alpha.horizontal.localhost:8765/"' in response.text
    assert 'href="http://beta.horizontal.localhost:8765/"' in response.text
    only_alpha = client_for(world.bob).get("/").text
    assert "Alpha Peer Group" in only_alpha and "Beta Circle" not in only_alpha
    assert "You are not in a group yet." in client_for(world.sam).get("/").text


def test_signed_out_group_visit_is_sent_to_sign_in_on_the_base_host_and_back(db, world, client_for):
    response = client_for(None, world.alpha).get("/")
    assert response.status_code == 302
    assert response["Location"] == (
        "http://horizontal.localhost:8765/accounts/login/?next=" + quote(ALPHA_URL, safe="/")
    )

    site = client_for()
    page = site.get("/accounts/login/", {"next": ALPHA_URL})
    assert page.status_code == 200 and f'value="{ALPHA_URL}"' in page.text
    signed_in = site.post(
        "/accounts/login/",
        {"login": world.bob.email, "password": "correct horse battery", "next": ALPHA_URL},
    )
    assert signed_in.status_code == 302 and signed_in["Location"] == ALPHA_URL
    # the same session now opens the group host
    site.defaults["HTTP_HOST"] = "alpha.horizontal.localhost:8765"
    assert site.get("/").status_code == 200


def test_sign_in_refuses_a_next_url_on_another_site(db, world, client_for):
    response = client_for().post(
        "/accounts/login/",
        {
            "login": world.bob.email,
            "password": "correct horse battery",
            "next": "https://evil.example/",
        },
    )
    assert response.status_code == 302 and "evil.example" not in response["Location"]


def test_wrong_password_gets_a_form_error_not_a_crash(db, world, client_for):
    response = client_for().post("/accounts/login/", {"login": world.bob.email, "password": "nope"})
    assert response.status_code == 200
    assert "not correct" in response.text
    # a wrong password is the form's own error (not a field's), in the alert box
    assert '<div class="form-errors" role="alert"><p>' in response.text


def test_sign_in_pages_do_not_exist_on_group_hosts(db, world, client_for):
    assert client_for(world.alice, world.alpha).get("/accounts/login/").status_code == 404
    assert client_for(world.alice, world.alpha).get("/admin/").status_code == 404


def test_open_sign_up_is_closed(db, client_for):
    response = client_for().post(
        "/accounts/signup/",
        {"email": "new@example.edu", "password1": "x8!kdk39dkd", "password2": "x8!kdk39dkd"},
    )
    assert response.status_code == 404  # the page does not exist (allauth's is not routed)
    from society.models import User

    assert not User.objects.filter(email="new@example.edu").exists()


def test_the_session_cookie_is_set_for_the_base_host_and_its_subdomains(db, world, client_for):
    site = client_for()
    site.post("/accounts/login/", {"login": world.bob.email, "password": "correct horse battery"})
    cookie = site.cookies["sessionid"]
    assert cookie["domain"] == "horizontal.localhost"
    assert cookie["httponly"] and cookie["samesite"] == "Lax"


def test_group_pages_are_not_stored_and_carry_a_csp(db, world, client_for):
    response = client_for(world.alice, world.alpha).get("/")
    assert "no-store" in response["Cache-Control"]
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert "You are in <strong>Alpha Peer Group</strong> as a point-person" in response.text


def test_static_files_are_self_hosted(db, client_for):
    assert client_for().get("/static/css/site.css").status_code == 200
    assert client_for().get("/static/vendor/htmx-2.0.11.min.js").status_code == 200
    home = client_for().get("/").text
    assert "https://" not in home  # no CDN, no third-party asset


def test_healthz(db, client_for):
    assert client_for().get("/healthz").json() == {"status": "ok"}


def test_deactivated_member_is_shut_out(db, world, client_for):
    """A member of alpha whose account is deactivated loses the group at their next request,
    in the session they already have, and cannot sign in again."""
    member = UserFactory(email="leaving@lakeside.edu", full_name="Leaving Member")
    with tenant_context(world.alpha):
        membership_add(user=member, role="member")
        feed = f"/calendar/feed/{calendar_feed_issue(member=member)}.ics"
    client = client_for(member, world.alpha)
    for path in ("/", "/mission/", "/meetings/"):
        assert client.get(path).status_code == 200, path  # a member, let in
    assert client_for(None, world.alpha).get(feed).status_code == 200

    account_deactivate(user=member, actor=world.sam)  # what the admin's action calls
    assert client_for(None, world.alpha).get(feed).status_code == 404
    for path in ("/", "/mission/", "/meetings/"):
        refused = client.get(path)
        assert refused.status_code == 302, path
        assert refused["Location"].startswith(
            "http://horizontal.localhost:8765/accounts/login/?next="
        ), path
    with tenant_context(world.alpha):  # the account, not the membership, shuts them out
        assert Membership.objects.get(user=member).is_active
    again = client_for().post(
        "/accounts/login/", {"login": member.email, "password": "correct horse battery"}
    )
    assert again.status_code == 302 and again["Location"] == "/accounts/inactive/"
    assert "_auth_user_id" not in again.wsgi_request.session


def test_production_settings_pass_the_deploy_check():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DJANGO_SECRET_KEY": "p" * 20 + "-a-long-random-production-secret-0123456789",
            "ALLAUTH_TRUSTED_PROXY_COUNT": "1",
            "HORIZONTAL_KEYS": "cHJvZHVjdGlvbi1jaGVjay1rZXktMzItYnl0ZXMhISE=",
            "HORIZONTAL_BASE_URL": "https://mentoring.society.example",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_next_urls_are_ours_only(settings):
    from society.urls_helpers import is_safe_redirect as is_our_url

    assert is_our_url("http://alpha.horizontal.localhost:8765/x")
    assert is_our_url("http://horizontal.localhost:8765/")
    assert not is_our_url("http://alpha.horizontal.localhost:9999/")
    assert not is_our_url("https://alpha.horizontal.localhost:8765/")
    assert not is_our_url("http://evilhorizontal.localhost:8765/")
    assert not is_our_url("http://horizontal.localhost.evil.example:8765/")
    assert not is_our_url("http://user:pw@alpha.horizontal.localhost:8765/")


def test_a_member_without_the_role_gets_a_403_page_in_the_sites_look(db, world, client_for):
    response = client_for(world.bob, world.alpha).get("/status/workers/")
    assert response.status_code == 403
    assert "Not allowed" in response.text and "point-person" in response.text
    assert 'data-testid="group-marker"' in response.text  # a member still sees where they are


def test_the_500_page_stands_alone_in_the_sites_look():
    from django.template.loader import render_to_string

    page = render_to_string("500.html")
    assert "Something went wrong" in page and "/static/css/site.css" in page
    assert "Traceback" not in page
