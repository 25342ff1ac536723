"""Sign-in rules: lockout, SSO-required domains, home-realm discovery, admin sign-in, audit."""

import pytest
from allauth.socialaccount.models import SocialApp
from django.core import mail

from society.models import AuditEvent, Institution
from society.services import institution_save
from tests.idp.saml_idp import idp_config, make_keypair, metadata_xml

PASSWORD = "correct horse battery"


@pytest.fixture
def saml_northfield(db, world, tmp_path):
    key, cert = make_keypair(tmp_path)
    conf = idp_config(
        entity_id="https://idp.northfield.test/idp",
        base_url="http://127.0.0.1:9",
        key=key,
        cert=cert,
    )
    institution = Institution.objects.get(name="Northfield University")
    institution.slug, institution.sign_in = "northfield", Institution.SignIn.SAML
    institution.saml_metadata_xml = metadata_xml(conf)
    return institution_save(institution=institution, actor=world.sam)


def _login(client, email, password):
    return client.post("/accounts/login/", {"login": email, "password": password})


def test_five_failures_lock_the_address_even_with_the_right_password(db, world, client_for):
    site = client_for()
    for attempt in range(5):
        response = site.post(
            "/accounts/login/",
            {"login": world.bob.email, "password": f"wrong-{attempt}"},
            HTTP_X_FORWARDED_FOR=f"10.0.0.{attempt}",  # a forged header changes nothing
        )
        assert response.status_code == 200 and "not correct" in response.text
    assert AuditEvent.objects.filter(kind="sign_in_failed", subject=world.bob).count() == 5
    locked = _login(site, world.bob.email, PASSWORD)
    assert locked.status_code == 200  # the form again, with the lock as its error
    assert "Too many failed sign-in attempts" in locked.text
    assert "_auth_user_id" not in site.session
    # someone else is not locked out by it
    assert _login(client_for(), world.carol.email, PASSWORD).status_code == 302


def test_successful_sign_in_and_sign_out_are_audited(db, world, client_for):
    site = client_for()
    assert _login(site, world.carol.email, PASSWORD).status_code == 302
    assert AuditEvent.objects.filter(
        kind="sign_in", subject=world.carol, detail="password"
    ).exists()
    site.post("/accounts/logout/")
    assert AuditEvent.objects.filter(kind="sign_out", subject=world.carol).exists()


def test_sign_in_code_is_sent_to_members_without_sso(db, world, client_for):
    response = client_for().post("/accounts/login/code/", {"email": world.bob.email})
    assert response.status_code == 302
    assert mail.outbox and mail.outbox[-1].to == [world.bob.email]


def test_required_sso_refuses_codes_and_passwords_for_the_domain(
    db, world, client_for, saml_northfield
):
    saml_northfield.require_sso = True
    institution_save(institution=saml_northfield, actor=world.sam)
    code = client_for().post("/accounts/login/code/", {"email": world.alice.email})
    assert code.status_code == 200
    assert "Northfield University requires its own sign-in" in code.text
    assert not mail.outbox
    password = _login(client_for(), world.alice.email, PASSWORD)
    assert password.status_code == 200 and "requires its own sign-in" in password.text
    # other institutions' members are unaffected
    assert _login(client_for(), world.bob.email, PASSWORD).status_code == 302


def test_home_realm_discovery_sends_each_address_to_its_sign_in(
    db, world, client_for, saml_northfield
):
    to_idp = client_for().post(
        "/accounts/discover/",
        {"email": "someone@northfield.edu", "next": "http://alpha.horizontal.localhost:8765/"},
    )
    assert to_idp.status_code == 302
    assert to_idp["Location"].startswith("/accounts/saml/northfield/login/?next=http")
    to_code = client_for().post("/accounts/discover/", {"email": "x@lakeside.edu"})
    assert to_code["Location"].startswith("/accounts/login/code/?email=x%40lakeside.edu")
    bad = client_for().post("/accounts/discover/", {"email": "nonsense"}, follow=True)
    assert "Enter a valid e-mail address." in bad.text


def test_sign_in_page_finds_institutions_by_name(db, world, client_for, saml_northfield):
    page = client_for().get("/accounts/login/", {"q": "northf"})
    assert 'href="/accounts/saml/northfield/login/"' in page.text
    assert "Lakeside College" not in client_for().get("/accounts/login/", {"q": "lake"}).text


def test_the_django_admin_signs_in_through_the_same_page(db, client_for):
    response = client_for().get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("http://horizontal.localhost:8765/accounts/login/?next=")


def test_institution_settings_make_one_provider_app_keyed_by_the_idp_entity_id(
    db, world, saml_northfield
):
    app = SocialApp.objects.get(settings__institution_id=saml_northfield.pk)
    assert (app.provider, app.provider_id, app.client_id) == (
        "saml",
        "https://idp.northfield.test/idp",
        "northfield",
    )
    assert app.settings["advanced"]["want_assertion_signed"] is True
    assert app.settings["advanced"]["reject_idp_initiated_sso"] is True
    assert app.settings["sp"]["entity_id"] == "http://horizontal.localhost:8765/accounts/saml/sp/"
    saml_northfield.sign_in = Institution.SignIn.CODE
    institution_save(institution=saml_northfield, actor=world.sam)
    assert not SocialApp.objects.filter(settings__institution_id=saml_northfield.pk).exists()


def test_sign_in_rotates_the_session_and_an_expired_session_must_sign_in_again(
    db, world, client_for
):
    from datetime import timedelta

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    site = client_for()
    # A visitor who already has a session before signing in (or one an attacker planted).
    pre = site.session
    pre["seen_before_sign_in"] = True
    pre.save()
    before = site.cookies["sessionid"].value
    assert Session.objects.filter(session_key=before).exists()

    assert _login(site, world.bob.email, PASSWORD).status_code == 302
    after = site.cookies["sessionid"].value
    assert after != before
    assert not Session.objects.filter(session_key=before).exists()
    site.defaults["HTTP_HOST"] = "alpha.horizontal.localhost:8765"
    assert site.get("/").status_code == 200
    # the old key opens nothing: whoever held it is still signed out
    old = client_for(None, world.alpha)
    old.cookies["sessionid"] = before
    refused = old.get("/")
    assert refused.status_code == 302
    assert refused["Location"].startswith("http://horizontal.localhost:8765/accounts/login/")

    Session.objects.filter(session_key=after).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    assert site.get("/").status_code == 302


@pytest.mark.parametrize(
    "path", ["/accounts/email/", "/accounts/3rdparty/signup/", "/accounts/signup/"]
)
def test_pages_that_would_let_people_choose_an_address_do_not_exist(db, world, client_for, path):
    assert client_for(world.bob).get(path).status_code == 404


def test_institutions_cannot_share_an_email_domain(db, world):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as info:
        institution_save(
            institution=Institution(
                name="Copycat", slug="copycat", email_domains=["NORTHFIELD.edu"]
            ),
            actor=world.sam,
        )
    assert "Northfield University already lists" in " ".join(info.value.messages)


def test_next_urls_with_escapes_are_not_ours():
    from society.urls_helpers import is_safe_redirect as is_our_url

    assert not is_our_url("http://evil.com\\.horizontal.localhost:8765/")
    assert not is_our_url("http://evil.com%2f.horizontal.localhost:8765/")
    assert not is_our_url("http://evil.com\t.horizontal.localhost:8765/")


def test_invitation_tokens_are_redacted_from_logs(caplog):
    import logging

    from config.logging import RedactSecretsInPaths

    record = logging.LogRecord(
        "django.request",
        logging.WARNING,
        __file__,
        1,
        "Not Found: %s",
        ("/invitations/s3cr3t-token/",),
        None,
    )
    RedactSecretsInPaths().filter(record)
    assert record.getMessage() == "Not Found: /invitations/…/"


def test_unsubscribe_tokens_are_redacted_and_runserver_logs_pass_the_filter():
    import logging

    from config.logging import RedactSecretsInPaths

    record = logging.LogRecord(
        "django.server",
        logging.INFO,
        __file__,
        1,
        '"%s" %s %s',
        ("POST /directory/unsubscribe/12-0123456789abcdef01234567/ HTTP/1.1", "200", "512"),
        None,
    )
    RedactSecretsInPaths().filter(record)
    assert record.getMessage() == '"POST /directory/unsubscribe/…/ HTTP/1.1" 200 512'
    # runserver's access log goes through the console handler, the one with the filter
    # (pytest adds capturing handlers of its own, so look at the handlers configured).
    ours = [h for h in logging.getLogger("django.server").handlers if h.filters]
    assert ours and all(isinstance(h.filters[0], RedactSecretsInPaths) for h in ours)
    assert not logging.getLogger("django.server").propagate


def test_no_log_line_carries_an_invitation_or_feed_token(settings):
    """Every handler that Django's request and server loggers reach writes the path redacted
    (Django's own DEBUG console handler used to print the token beside our redacted line)."""
    import logging

    settings.DEBUG = True  # Django's own console handler speaks only in DEBUG
    token = "tok-" + "s3cr3t" * 6
    for name in ("django.request", "django.server", "django.security.csrf", "django"):
        logger, handlers = logging.getLogger(name), []
        while logger is not None:
            handlers += [h for h in logger.handlers if not type(h).__module__.startswith("_pytest")]
            logger = logger.parent if logger.propagate else None
        assert handlers, name
        for handler in handlers:
            record = logging.LogRecord(
                name,
                logging.WARNING,
                __file__,
                1,
                "Not Found: %s",
                (f"/invitations/{token}/",),
                None,
            )
            if handler.filter(record):
                assert token not in handler.format(record), (name, handler)


def test_every_url_that_carries_a_token_is_redacted_in_logs():
    """A new URL with a secret in its path must be added to the log redaction."""
    from django.urls import URLPattern, URLResolver, get_resolver

    from config.logging import redact_paths

    def patterns(resolver, prefix=""):
        for p in resolver.url_patterns:
            if isinstance(p, URLResolver):
                yield from patterns(p, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                yield prefix + str(p.pattern)

    secret = "s3cr3t-0123456789abcdef"
    with_tokens = [
        route
        for urlconf in ("config.urls_public", "config.urls_group")
        for route in patterns(get_resolver(urlconf))
        if "<str:token>" in route
    ]
    assert len(with_tokens) >= 3, with_tokens  # invitations, feeds, institution confirmations
    for route in with_tokens:
        path = "/" + route.replace("<str:token>", secret).lstrip("^").rstrip("$")
        assert secret not in redact_paths(f"GET {path} HTTP/1.1"), route


def test_a_code_asked_for_an_unknown_address_sends_no_sign_up_mail(db, client_for):
    from django.core import mail

    client_for().post("/accounts/login/code/", {"email": "nobody-here@example.edu"})
    assert mail.outbox == []  # allauth's "unknown account: sign up" mail links a 404


def test_a_reloaded_discovery_goes_back_to_the_sign_in_page(db, client_for):
    response = client_for().get("/accounts/discover/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"


def test_a_member_at_the_admin_is_told_it_is_for_administrators(db, world, client_for):
    response = client_for(world.bob).get("/admin/", follow=True)
    assert response.status_code == 403
    assert "These pages are for the society's administrators." in response.text


def test_with_the_cache_down_pages_answer_and_sign_in_is_refused_not_uncounted(
    db, world, client_for, settings, caplog
):
    """Redis (the cache) stopped: pages answer, a signed-in member goes on working, and asking
    for a sign-in code is refused with a message (its rate limit cannot be counted, so it is
    not let through), never a 500; the cache's failures are logged."""
    import socket

    from django.core.cache import cache

    member = client_for(world.bob)  # signed in before the outage (sessions are in PostgreSQL)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "LOCATION": f"redis://127.0.0.1:{dead}/0"}
    }
    cache.set("probe", 1)  # dropped, not raised
    assert cache.get("probe") is None
    assert member.get("/account/").status_code == 200
    assert client_for(world.bob, world.alpha).get("/").status_code == 200
    visitor = client_for()
    assert visitor.get("/accounts/login/").status_code == 200
    mail.outbox.clear()
    refused = visitor.post("/accounts/login/code/", {"email": world.bob.email})
    assert refused.status_code == 200 and "briefly unavailable" in refused.text
    assert not mail.outbox
    assert any(r.name == "horizontal.cache" for r in caplog.records)


def test_the_code_page_speaks_the_sites_words_and_says_a_wrong_code_is_wrong(db, world, client_for):
    client = client_for()
    mail.outbox.clear()
    asked = client.post("/accounts/login/code/", {"email": world.bob.email})
    [message] = mail.outbox
    assert message.subject == "[Horizontal Society] Your sign-in code"
    assert "Your sign-in code:" in message.body and "Hello from" not in message.body
    page = client.get(asked["Location"])
    assert page.status_code == 200
    assert "Enter your sign-in code" in page.text and world.bob.email in page.text
    assert 'autocomplete="one-time-code" autofocus' in page.text
    wrong = client.post(asked["Location"], {"code": "AAAA-AAAA"})
    assert wrong.status_code == 200
    assert 'class="field-error"' in wrong.text and 'aria-invalid="true"' in wrong.text
