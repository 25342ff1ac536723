"""Replies by e-mail: real MIME messages, piped to `manage.py directory_inbound` as a mail
server would, become replies only when they come from the member the reply address was made
for; only the new text is posted; nobody else is ever written to."""

from __future__ import annotations

import email
import email.policy
import io
import logging
import subprocess
import sys
from email.message import EmailMessage as MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, make_msgid

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from crossschema.outbox import email_send, emails_send_due
from directory import services
from directory.inbound import handle_inbound, reply_text, strip_quotes
from directory.models import Post
from society.models import OutboundEmail
from tests.conftest import ROOT, process_env

QUOTE = (
    "On Mon, 3 Mar 2027 at 10:00, Alice Tester\n"
    "<alice@northfield.edu> wrote:\n"
    "> Who would like to co-write a methods paper on stepped-wedge trials?\n"
    ">\n"
    "> --\n"
    "> Alice\n"
)
STRANGER_LINE = (
    "This address only takes replies from members, sent from the address the post was e-mailed to."
)


@pytest.fixture
def thread(db, world) -> Post:
    return services.post_create(
        author=world.alice,
        kind=Post.Kind.QUESTION,
        title="Co-writing a methods paper",
        body="Who would like to co-write a methods paper on stepped-wedge trials?",
    )


def plain(sender: str, to: str, text: str, **headers: str) -> bytes:
    """A text/plain reply as a mail program sends it (quoted-printable UTF-8)."""
    message = MIMEMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = "Re: [Horizontal Society directory] Co-writing a methods paper"
    message["Date"] = format_datetime(timezone.now())
    message["Message-ID"] = make_msgid(domain="lakeside.edu")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(text, cte="quoted-printable")
    return message.as_bytes()


def pipe(raw: bytes, recipient: str | None = None) -> tuple[int, str]:
    """Run the command as the mail server's pipe does: (exit status, stderr)."""
    args = ["--recipient", recipient] if recipient else []
    err = io.StringIO()
    try:
        call_command("directory_inbound", *args, stdin=io.BytesIO(raw), stderr=err)
    except SystemExit as exit_:
        return int(exit_.code), err.getvalue()
    return 0, err.getvalue()


def replies(thread: Post) -> list[Post]:
    return list(Post.objects.filter(parent=thread))


def sent() -> list:
    """What the worker sends of what was recorded in the outbox (its sweep, run here)."""
    emails_send_due()
    return mail.outbox


# --- posted: only the new text ------------------------------------------------------------------


def test_a_plain_reply_posts_only_the_new_text(thread, world):
    to = services.reply_address(post=thread, user=world.bob)
    text = f"Count me in!\n\nI can draft the methods section.\n\n{QUOTE}\n-- \nBob Tester\nLakeside"
    raw = plain(f"Bob Tester <{world.bob.email}>", f"Directory <{to}>", text)

    assert pipe(raw, recipient=to) == (0, "")

    (reply,) = replies(thread)
    assert reply.body == "Count me in!\n\nI can draft the methods section."
    assert reply.author == world.bob
    assert reply.source == "email"
    assert reply.kind == Post.Kind.REPLY
    assert sent() == []


def test_the_reply_address_is_found_in_the_headers_without_an_envelope_recipient(thread, world):
    to = services.reply_address(post=thread, user=world.bob)
    raw = plain(world.bob.email, f"someone@example.org, Directory <{to}>", f"Agreed.\n\n{QUOTE}")

    result = handle_inbound(raw)

    assert result.status == "posted"
    assert replies(thread) == [result.post]
    assert result.post.body == "Agreed."


def test_an_html_only_reply_is_posted_as_text_without_the_quote(thread, world):
    to = services.reply_address(post=thread, user=world.bob)
    message = MIMEMessage()
    message["From"] = world.bob.email
    message["To"] = to
    message["Subject"] = "Re: Co-writing a methods paper"
    message.set_content(
        '<html><head><style>div { font-family: Arial }</style></head><body dir="ltr">'
        "<div>Yes &amp; gladly, <b>count me in</b>.</div><div><br></div>"
        "<div>I have data from 3 &lt;small&gt; sites.</div>"
        '<br><div class="gmail_quote"><div class="gmail_attr">On Mon, 3 Mar 2027 at 10:00, '
        'Alice Tester &lt;<a href="mailto:alice@northfield.edu">alice@northfield.edu</a>&gt; '
        'wrote:<br></div><blockquote class="gmail_quote" style="margin:0 0 0 .8ex">'
        "<div>Who would like to co-write a methods paper?</div></blockquote></div>"
        "</body></html>",
        subtype="html",
    )

    assert pipe(message.as_bytes(), recipient=to)[0] == 0

    (reply,) = replies(thread)
    assert reply.body == "Yes & gladly, count me in.\n\nI have data from 3 <small> sites."


def test_gmails_quote_is_dropped_whatever_language_its_attribution_is_in(thread, world):
    to = services.reply_address(post=thread, user=world.bob)
    message = MIMEText(
        '<div dir="ltr">参加します。</div><br><div class="gmail_quote gmail_quote_container">'
        '<div dir="ltr" class="gmail_attr">2027年3月3日(月) 10:00 Alice Tester &lt;'
        "alice@northfield.edu&gt;:<br></div>"
        '<blockquote class="gmail_quote"><div>Who would like to co-write?</div></blockquote>'
        "</div>",
        "html",
        "utf-8",
    )
    message["From"] = world.bob.email
    message["To"] = to

    assert handle_inbound(message.as_bytes(), recipient=to).status == "posted"

    assert [r.body for r in replies(thread)] == ["参加します。"]


def test_an_html_reply_written_below_the_quote_keeps_the_text_after_it(thread, world):
    to = services.reply_address(post=thread, user=world.bob)
    html = (
        "<p>On 3 Mar 2027, at 10:00, Alice Tester wrote:</p>"
        '<blockquote type="cite"><p>Who would like to co-write?</p></blockquote>'
        "<p>Me, please.</p>"
    )
    message = MIMEText(html, "html", "utf-8")
    message["From"] = world.bob.email
    message["To"] = to

    assert handle_inbound(message.as_bytes()).status == "posted"

    assert [r.body for r in replies(thread)] == ["Me, please."]


def test_multipart_alternative_uses_the_plain_part_and_strips_the_quote_in_it(thread, world):
    to = services.reply_address(post=thread, user=world.bob)
    message = MIMEMultipart("alternative")
    message["From"] = f'"Bob Tester" <{world.bob.email}>'
    message["To"] = to
    message["Subject"] = "Re: Co-writing a methods paper"
    # Gmail writes bold as *...* in the plain part: that tells which part was used.
    message.attach(MIMEText(f"I agree with the *plan*.\n\n{QUOTE}", "plain", "utf-8"))
    message.attach(
        MIMEText(
            "<div>I agree with the <b>plan</b>.</div><br>"
            '<div class="gmail_quote">On Mon, 3 Mar 2027 at 10:00, Alice Tester wrote:<br>'
            '<blockquote class="gmail_quote">Who would like to co-write?</blockquote></div>',
            "html",
            "utf-8",
        )
    )

    assert pipe(message.as_bytes(), recipient=to)[0] == 0

    assert [r.body for r in replies(thread)] == ["I agree with the *plan*."]


# A reply as it came over the wire from a French mail program: UTF-8 in quoted-printable
# (with a soft line break in the middle of "é"), an HTML alternative in base64.
RAW = """\
Return-Path: <bob@lakeside.edu>
Received: from mail.lakeside.edu (mail.lakeside.edu [192.0.2.10])
\tby mx.horizontal.localhost with ESMTPS id 4Z3b; Mon, 3 Mar 2027 10:05:00 +0000
From: =?utf-8?q?Bob_Tester?= <bob@lakeside.edu>
To: Horizontal Society directory <{to}>
Subject: =?utf-8?q?Re=3A_Co-writing_=E2=80=94_methods?=
Date: Mon, 3 Mar 2027 11:05:00 +0100
Message-ID: <5f1c2e@mail.lakeside.edu>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="==b0undary=="

This is a multi-part message in MIME format.

--==b0undary==
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

Tr=C3=A8s bien =E2=80=94 je viens ! Zo=C3=AB =F0=9F=98=8A
=C3=80 mardi.

Le lun. 3 mars 2027 =C3=A0 10:00, Alice Tester <alice@northfield.edu> a =C3=
=A9crit :
> Qui vient ?

--==b0undary==
Content-Type: text/html; charset="utf-8"
Content-Transfer-Encoding: base64

PGRpdj5UcsOocyBiaWVuIOKAlCBqZSB2aWVucyAhIFpvw6sg8J+YijwvZGl2PjxkaXY+w4AgbWFy
ZGkuPC9kaXY+PGJsb2NrcXVvdGU+UXVpIHZpZW50ID88L2Jsb2NrcXVvdGU+

--==b0undary==--
"""


def raw_reply(to: str, *, drop_plain: bool = False) -> bytes:
    text = RAW.replace("{to}", to)
    if drop_plain:  # only the base64 HTML part is left
        head, _plain, html = text.split("--==b0undary==\n")[0:3]
        text = f"{head}--==b0undary==\n{html}"
    return text.replace("\n", "\r\n").encode("ascii")


def test_a_raw_message_with_non_ascii_text_survives_intact(thread, world):
    to = services.reply_address(post=thread, user=world.bob)

    assert pipe(raw_reply(to), recipient=to)[0] == 0

    (reply,) = replies(thread)
    assert reply.body == "Très bien — je viens ! Zoë 😊\nÀ mardi."


def test_a_raw_base64_html_part_is_decoded(thread, world):
    to = services.reply_address(post=thread, user=world.bob)

    assert pipe(raw_reply(to, drop_plain=True), recipient=to)[0] == 0

    assert [r.body for r in replies(thread)] == ["Très bien — je viens ! Zoë 😊\nÀ mardi."]


def test_a_verified_second_address_of_the_member_may_reply_an_unverified_one_may_not(thread, world):
    to = services.reply_address(post=thread, user=world.bob)
    EmailAddress.objects.create(user=world.bob, email="bob.t@gmail.example", verified=True)
    EmailAddress.objects.create(user=world.bob, email="bob@home.example", verified=False)

    assert pipe(plain("Bob <BOB.T@Gmail.Example>", to, "From my phone."), to)[0] == 0
    assert pipe(plain("bob@home.example", to, "From home."), to)[0] == 67

    assert [r.body for r in replies(thread)] == ["From my phone."]


def test_the_sender_address_is_compared_without_case(thread, world):
    to = services.reply_address(post=thread, user=world.bob)

    assert pipe(plain(world.bob.email.upper(), to, "Shouting by accident."), to)[0] == 0

    assert len(replies(thread)) == 1


# --- not posted, and nobody written to ----------------------------------------------------------


def test_a_stranger_with_a_members_reply_address_posts_nothing_and_gets_no_mail(thread, world):
    to = services.reply_address(post=thread, user=world.bob)
    raw = plain("Spammer <offers@spam.example>", to, "Cheap pills")

    status, stderr = pipe(raw, recipient=to)

    assert status == 67  # EX_NOUSER: the mail server refuses it
    assert stderr.strip() == STRANGER_LINE
    assert replies(thread) == []
    assert sent() == []


@pytest.mark.parametrize(
    "sender",
    [
        "alice@northfield.edu",  # another member
        "bob@lakeside.edu, offers@spam.example",  # two senders
        '"bob@lakeside.edu" <offers@spam.example>',  # a display name is not an address
        "bob@lakeside.edu@spam.example",
    ],
)
def test_only_the_member_the_address_was_made_for_may_use_it(thread, world, sender):
    to = services.reply_address(post=thread, user=world.bob)

    result = handle_inbound(plain(sender, to, "Posting as Bob"), recipient=to)

    assert result.status == "unknown_sender"
    assert replies(thread) == []
    assert sent() == []


def test_a_forged_or_garbled_reply_address_posts_nothing(thread, world):
    good = services.reply_address(post=thread, user=world.bob)
    local, domain = good.split("@")
    token = local.rsplit(".", 1)[1]
    forged_for_carol = good.replace(f"u{world.bob.pk}.", f"u{world.carol.pk}.")
    other_mac = local[: -len(token)] + ("0" * 24 if token != "0" * 24 else "1" * 24)
    for address in [
        forged_for_carol,
        f"{other_mac}@{domain}",
        f"{local[:-3]}@{domain}",  # a shortened token
        f"reply+nonsense@{domain}",
        f"reply@{domain}",
    ]:
        sender = world.carol.email if address == forged_for_carol else world.bob.email
        status, stderr = pipe(plain(sender, address, "Hello?"), recipient=address)
        assert status == 67, address
        assert "only takes replies" in stderr
    assert Post.objects.filter(parent=thread).count() == 0
    assert sent() == []


def test_a_garbled_token_in_the_headers_is_not_mistaken_for_the_address(thread, world):
    to = services.reply_address(post=thread, user=world.bob)
    at = to.index("@")  # change the token's last digit
    garbled = to[: at - 1] + ("1" if to[at - 1] == "0" else "0") + to[at:]
    raw = plain(world.bob.email, f"Directory <{garbled}>", "Hello?")

    assert pipe(raw)[0] == 67
    assert replies(thread) == []


@pytest.mark.parametrize(
    "header",
    [
        {"Auto_Submitted": "auto-replied"},
        {"Auto_Submitted": "auto-generated; owner-email=bob@lakeside.edu"},
        {"X_Autoreply": "yes"},
        {"Precedence": "bulk"},
    ],
)
def test_an_out_of_office_reply_is_dropped_quietly(thread, world, header):
    to = services.reply_address(post=thread, user=world.bob)
    raw = plain(world.bob.email, to, "I am away until Monday.", **header)

    assert pipe(raw, recipient=to) == (0, "")  # the mail server drops it: no bounce, no loop

    assert replies(thread) == []
    assert sent() == []


def test_an_auto_submitted_no_header_is_a_person_writing(thread, world):
    to = services.reply_address(post=thread, user=world.bob)

    assert handle_inbound(plain(world.bob.email, to, "Me!", Auto_Submitted="no"), to).post


def test_an_empty_message_is_refused_as_unreadable(thread, world):
    status, stderr = pipe(b"", recipient=services.reply_address(post=thread, user=world.bob))

    assert status == 65  # EX_DATAERR
    assert "could not be read" in stderr
    assert replies(thread) == []


# --- not posted: the member is told -------------------------------------------------------------


def test_a_reply_to_a_locked_thread_is_not_posted_and_the_member_is_told(thread, world):
    services.post_moderate(post=thread, by=world.sam, action="lock", reason="Settled.")
    to = services.reply_address(post=thread, user=world.bob)
    raw = plain(f"Bob <{world.bob.email}>", to, "One more thing!")

    assert pipe(raw, recipient=to) == (0, "")  # handled: the member hears from us

    assert replies(thread) == []
    (notice,) = sent()
    assert notice.to == [world.bob.email]
    assert notice.subject == "Your reply was not posted"
    assert "this thread is locked" in notice.body
    assert f"/directory/posts/{thread.pk}/" in notice.body
    assert "One more thing!" not in notice.body
    assert notice.extra_headers["Auto-Submitted"] == "auto-replied"
    assert notice.extra_headers["In-Reply-To"] == str(
        email.message_from_bytes(raw, policy=email.policy.default)["Message-ID"]
    )


def test_a_banned_member_replying_by_mail_is_not_posted_and_is_told(thread, world):
    services.member_ban_set(member=world.bob, by=world.sam, banned=True, reason="Spam.")
    to = services.reply_address(post=thread, user=world.bob)

    assert pipe(plain(world.bob.email, to, "Let me back in"), recipient=to)[0] == 0

    assert replies(thread) == []
    (notice,) = sent()
    assert notice.to == [world.bob.email]
    assert "you may not post to the directory" in notice.body


def test_a_reply_to_a_hidden_thread_is_not_posted_and_does_not_link_to_it(thread, world):
    services.post_moderate(post=thread, by=world.sam, action="hide", reason="Off topic.")
    to = services.reply_address(post=thread, user=world.bob)

    assert pipe(plain(world.bob.email, to, "Still keen"), recipient=to)[0] == 0

    assert replies(thread) == []
    (notice,) = sent()
    assert "no longer shown" in notice.body
    assert "/directory/posts/" not in notice.body


def test_a_reply_with_nothing_but_the_quote_is_not_posted_and_the_member_is_told(thread, world):
    to = services.reply_address(post=thread, user=world.bob)

    assert pipe(plain(world.bob.email, to, f"\n{QUOTE}\n-- \nBob"), recipient=to)[0] == 0

    assert replies(thread) == []
    (notice,) = sent()
    assert notice.to == [world.bob.email]
    assert "no new text" in notice.body


def test_a_verified_second_address_is_answered_at_the_account_address(thread, world):
    services.post_moderate(post=thread, by=world.sam, action="lock", reason="Settled.")
    EmailAddress.objects.create(user=world.bob, email="bob.t@gmail.example", verified=True)
    to = services.reply_address(post=thread, user=world.bob)

    pipe(plain("bob.t@gmail.example", to, "Late"), recipient=to)

    assert [m.to for m in sent()] == [[world.bob.email]]


def test_a_message_handed_over_twice_is_refused_once(thread, world):
    services.post_moderate(post=thread, by=world.sam, action="lock", reason="Settled.")
    to = services.reply_address(post=thread, user=world.bob)
    raw = plain(world.bob.email, to, "Am I in?")

    assert handle_inbound(raw, to).status == "refused"
    assert handle_inbound(raw, to).status == "refused"  # the mail server tried again

    assert [m.to for m in sent()] == [[world.bob.email]]
    (recorded,) = OutboundEmail.objects.filter(kind="directory_refusal")
    assert recorded.context == {
        "user": world.bob.pk,
        "thread": thread.pk,
        "reason": "locked",
        "in_reply_to": recorded.context["in_reply_to"],
    }
    assert "Am I in?" not in str(recorded.context)  # ids and codes, never what was written


def test_a_refusal_for_an_account_closed_before_it_is_sent_is_not_sent(thread, world):
    services.post_moderate(post=thread, by=world.sam, action="lock", reason="Settled.")
    to = services.reply_address(post=thread, user=world.bob)
    handle_inbound(plain(world.bob.email, to, "Hello"), to)
    type(world.bob).objects.filter(pk=world.bob.pk).update(is_active=False)

    assert sent() == []
    assert OutboundEmail.objects.get(kind="directory_refusal").skipped_at is not None


# --- privacy --------------------------------------------------------------------------------------


def test_the_log_holds_neither_the_text_nor_any_address(thread, world, caplog):
    to = services.reply_address(post=thread, user=world.bob)
    caplog.set_level(logging.DEBUG)

    pipe(plain(world.bob.email, to, "My confidential plan"), recipient=to)
    pipe(plain("offers@spam.example", to, "Spam text"), recipient=to)

    (reply,) = replies(thread)
    assert f"posted post={reply.pk}" in caplog.text and "unknown_sender" in caplog.text
    for secret in ["confidential plan", "Spam text", "bob@", "spam.example", to.split("@")[0]]:
        assert secret not in caplog.text


# --- the text of a reply ------------------------------------------------------------------------


def text_of(raw: bytes) -> str:
    return reply_text(email.message_from_bytes(raw, policy=email.policy.default))


@pytest.mark.parametrize(
    ("written", "posted"),
    [
        # Outlook: no ">" marks, a header block instead.
        (
            "Fine by me.\n\n________________________________\nFrom: Alice Tester\n"
            "Sent: Monday, 3 March 2027 10:00\nTo: Bob\nSubject: Co-writing\n\nWho?",
            "Fine by me.",
        ),
        (
            "Fine by me.\r\n\r\nFrom: Alice Tester <alice@northfield.edu>\r\n"
            "Date: Monday, 3 March 2027 at 10:00\r\nTo: Bob\r\n\r\nWho?",
            "Fine by me.",
        ),
        ("Fine by me.\n\n-----Original Message-----\nWho?", "Fine by me."),
        ("Fine by me.\n\nSent from my iPhone\n\n" + QUOTE, "Fine by me."),
        ("Fine by me.\n--\nBob", "Fine by me."),
        # Written between and below the quotes: all of it is kept, the quotes are not.
        (
            QUOTE + "\nMe, please.\n\n> Any data?\n\nYes, three sites.\n",
            "Me, please.\n\nYes, three sites.",
        ),
        # Not quotes: a line that merely mentions writing, and a dash in the text.
        ("On reflection, I wrote up my ideas -- see below.\nThe aims", None),
    ],
)
def test_quoted_text_and_signatures_are_left_out(written, posted):
    assert strip_quotes(written) == (written.strip() if posted is None else posted)


def test_format_flowed_lines_are_joined():
    message = MIMEMessage()
    message.set_content("A long line that was \nwrapped by the mail program.\n\n> quoted \n> on\n")
    message.replace_header("Content-Type", 'text/plain; charset="utf-8"; format=flowed')

    assert text_of(message.as_bytes()) == "A long line that was wrapped by the mail program."


def test_a_latin_1_message_is_decoded_by_its_charset():
    raw = (
        b"From: bob@lakeside.edu\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\nCaf\xe9 cr\xe8me at 10?\r\n"
    )

    assert text_of(raw) == "Café crème at 10?"


def test_a_message_with_only_an_attachment_has_no_text():
    message = MIMEMessage()
    message["From"] = "bob@lakeside.edu"
    message.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="cv.pdf")

    assert text_of(message.as_bytes()) == ""


# --- through a real pipe, as the mail server runs it --------------------------------------------


def test_the_command_as_a_mail_server_pipe_runs_it(committed, world, tmp_path):
    """A separate process on the test database: posted, refused (told by mail) and bounced."""
    # Made directly, not with post_create: its delivery task must not reach a real worker.
    thread = Post.objects.create(
        author=world.alice, kind=Post.Kind.QUESTION, title="Pipe test", body="Anyone?"
    )
    outbox = tmp_path / "mail"
    outbox.mkdir()
    env = process_env(
        CELERY_BROKER_URL="memory://",  # the reply's delivery task stays in the process
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(outbox),
    )
    to = services.reply_address(post=thread, user=world.bob)

    def mail_server_pipe(raw: bytes) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", "directory_inbound", "--recipient", to],
            input=raw,
            cwd=ROOT,
            env=env,
            capture_output=True,
            timeout=120,
        )

    try:
        done = mail_server_pipe(plain(world.bob.email, to, f"Piped reply ✓\n\n{QUOTE}"))
        assert done.returncode == 0, done.stderr.decode()
        assert [(r.body, r.source) for r in replies(thread)] == [("Piped reply ✓", "email")]

        stranger = mail_server_pipe(plain("offers@spam.example", to, "Spam text"))
        assert stranger.returncode == 67
        assert STRANGER_LINE in stranger.stderr.decode()
        for secret in (b"spam.example", b"Spam text", b"bob@", to.encode()):
            assert secret not in stranger.stderr
        assert len(replies(thread)) == 1
        assert list(outbox.iterdir()) == []

        Post.objects.filter(pk=thread.pk).update(locked_at=timezone.now())
        locked = mail_server_pipe(plain(world.bob.email, to, "One more"))
        assert locked.returncode == 0, locked.stderr.decode()
        assert len(replies(thread)) == 1
        assert list(outbox.iterdir()) == []  # recorded by the pipe, sent by the worker
        (recorded,) = OutboundEmail.objects.filter(kind="directory_refusal", to=world.bob.email)
        assert email_send(recorded.pk)  # (as the worker does; the pipe's task went to memory://)
        (notice,) = mail.outbox
        assert notice.to == [world.bob.email]
        assert notice.subject == "Your reply was not posted"
        assert "this thread is locked" in notice.body
    finally:
        OutboundEmail.objects.filter(kind="directory_refusal", to=world.bob.email).delete()
        Post.objects.filter(pk=thread.pk).delete()  # and its replies


def test_with_our_servers_dmarc_verdict_required_a_forged_from_posts_nothing(
    thread, world, settings
):
    settings.DIRECTORY_INBOUND_AUTHSERV_ID = "mx.horizontal.example"
    to = services.reply_address(post=thread, user=world.bob)
    sender = f"Bob Tester <{world.bob.email}>"
    unchecked = plain(sender, to, "No verdict at all")
    assert pipe(unchecked, recipient=to)[0] == 67
    theirs = plain(
        sender,
        to,
        "A verdict the sender wrote",
        Authentication_Results="mx.elsewhere.example; dmarc=pass header.from=lakeside.edu",
    )
    assert pipe(theirs, recipient=to)[0] == 67
    failed = plain(
        sender,
        to,
        "Our server says it failed",
        Authentication_Results="mx.horizontal.example; dmarc=fail header.from=lakeside.edu",
    )
    assert pipe(failed, recipient=to)[0] == 67
    assert replies(thread) == [] and sent() == []
    passed = plain(
        sender,
        to,
        "Passed at our server",
        Authentication_Results="mx.horizontal.example; spf=pass smtp.mailfrom=lakeside.edu;"
        " dmarc=pass header.from=lakeside.edu",
    )
    assert pipe(passed, recipient=to) == (0, "")
    assert [r.body for r in replies(thread)] == ["Passed at our server"]
