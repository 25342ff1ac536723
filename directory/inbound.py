"""Replies by e-mail: a member answers a directory post from their mail program.

Each post e-mailed to a member carries a Reply-To address of its own
(`services.reply_address`): it names the thread and the member and is signed. The mail server
pipes whatever arrives at those addresses to ``manage.py directory_inbound``, which calls
`handle_inbound`. A reply is posted only when

* the address is one we issued (the signature checks), and
* the message comes From an address of that very member that we know is theirs: their
  account's address (it comes from their institution's sign-in or an invitation they
  accepted) or a verified address of their account, and
* it is not an automatic message (out-of-office replies, bounces, mailing-list traffic).

What is posted is only the new text (`reply_text`): quoted text, the "On ... wrote:" line
above it, forwarded headers and signatures are left out.

A member whose reply cannot be posted (banned, thread locked or gone, nothing new written) is
told so by e-mail at their account's address (through the outbox: recorded here, sent by the
worker, once per message however often the mail server retries it). Nobody else is ever
sent anything: a forged or unknown sender gets no mail from us (no backscatter), only the mail
server's own refusal.

Nothing here logs a message's text or an e-mail address: only the outcome and a post id.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import html
import logging
import re
from dataclasses import dataclass
from email.message import EmailMessage as MIMEMessage
from email.message import Message

import nh3
from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction

from society.models import User
from society.outbox import email_enqueue

from . import services
from .emails import REFUSAL_REASONS
from .models import Post

logger = logging.getLogger(__name__)

POSTED = "posted"
REFUSED = "refused"
UNKNOWN_SENDER = "unknown_sender"
BAD_ADDRESS = "bad_address"
IGNORED = "ignored"
UNPARSEABLE = "unparseable"


@dataclass(frozen=True)
class InboundResult:
    """What became of one inbound message.

    `status` is one of POSTED, REFUSED (nothing posted; an e-mail telling the member why is
    recorded in the outbox),
    UNKNOWN_SENDER, BAD_ADDRESS (nothing posted, nobody told), IGNORED (an automatic message)
    or UNPARSEABLE. `reason` is a short explanation for logs and the member: it never holds
    the message's text or an address.
    """

    status: str
    post: Post | None = None
    reason: str = ""


# --- The new text of a reply ---------------------------------------------------------------------

# "On Mon, 3 Mar 2027 at 10:00, Alice <a@x> wrote:" and its usual translations.
ATTRIBUTION = re.compile(
    r"^\s*(on|le|am|el|il|op|em)\s.*\b(wrote|a\s+écrit|schrieb|escribió|ha\s+scritto|schreef"
    r"|escreveu)\s*:\s*$",
    re.IGNORECASE,
)
ATTRIBUTION_START = re.compile(r"^\s*(on|le|am|el|il|op|em)\s", re.IGNORECASE)
# Where a quoted original starts in mail programs that do not prefix it with ">".
ORIGINAL_MESSAGE = re.compile(r"^\s*-{2,}\s*original message\s*-{2,}\s*$", re.IGNORECASE)
SEPARATOR = re.compile(r"^\s*_{20,}\s*$")  # Outlook's line of underscores
HEADER_FROM = re.compile(r"^\s*\*?from:\*?\s+\S", re.IGNORECASE)
HEADER_SENT = re.compile(r"^\s*\*?(sent|date):\*?\s+\S", re.IGNORECASE)
SIGNATURE = ("-- ", "--")  # RFC 3676's signature separator, and the same with its space lost
DEVICE_SIGNATURE = re.compile(
    r"^\s*(sent from my \S.{0,40}|sent from (outlook|mail|yahoo mail|gmail)\b.{0,40}"
    r"|get outlook for \S.{0,30})\s*$",
    re.IGNORECASE,
)

# HTML: containers of the quoted original, dropped with all they hold.
HTML_QUOTE_CONTAINER = re.compile(
    r"<div\b[^>]*\b(class|id)\s*=\s*[\"']?[^\"'>]*"
    r"(gmail_quote|yahoo_quoted|moz-forward-container)",
    re.IGNORECASE,
)
HTML_DIV = re.compile(r"<(/?)div\b[^>]*>", re.IGNORECASE)
# Layout marks put in for HTML tags before they are stripped: a block starts or ends a line,
# a paragraph is set off by a blank line, <br> breaks a line. (Private-use characters.)
BLOCK, PARAGRAPH = "\ue000", "\ue001"
HTML_PARAGRAPH = re.compile(r"</?(p|h[1-6])\b[^>]*>", re.IGNORECASE)
HTML_BLOCK = re.compile(
    r"</?(div|li|ul|ol|dl|dt|dd|table|tr|blockquote|pre|section|article|header|footer"
    r"|address|center)\b[^>]*>|<hr\b[^>]*>",
    re.IGNORECASE,
)
HTML_BREAK = re.compile(r"<br\b[^>]*>", re.IGNORECASE)
HTML_CELL = re.compile(r"</t[dh]\s*>", re.IGNORECASE)
QUOTE_MARK = BLOCK + "&gt;" + BLOCK


def reply_text(message: MIMEMessage) -> str:
    """The new text of a reply: its text/plain body (or its HTML body as plain text) without
    quoted text, the attribution line above it, forwarded headers or a signature.

    `message` must be parsed with ``email.policy.default``. Returns "" if nothing new is left.
    """
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    content = _decoded_text(part)
    if part.get_content_subtype() == "html":
        text = html_to_text(content)
    elif part.get_param("format", "").lower() == "flowed":
        text = unflow(content, delsp=part.get_param("delsp", "").lower() == "yes")
    else:
        text = content
    return strip_quotes(text)


def _decoded_text(part: Message) -> str:
    """The part's text, decoded by its declared charset (UTF-8 if it names none we know)."""
    try:
        return part.get_content()
    except (LookupError, UnicodeError):
        payload = part.get_payload(decode=True) or b""
        return payload.decode("utf-8", errors="replace")


def unflow(text: str, *, delsp: bool = False) -> str:
    """Join RFC 3676 format=flowed lines (a line ending in a space goes on in the next one)."""
    lines: list[str] = []
    current: str | None = None
    depth = 0
    for raw in text.splitlines():
        level = len(raw) - len(raw.lstrip(">"))
        content = raw[level:]
        if content.startswith(" "):
            content = content[1:]  # space-stuffing
        flowed = content.endswith(" ") and content not in SIGNATURE
        if flowed and delsp:
            content = content[:-1]
        if current is not None and level == depth:
            current += content
        else:
            if current is not None:
                lines.append(_quoted(current, depth))
            current, depth = content, level
        if not flowed:
            lines.append(_quoted(current, depth))
            current = None
    if current is not None:
        lines.append(_quoted(current, depth))
    return "\n".join(lines)


def _quoted(content: str, depth: int) -> str:
    return ">" * depth + (" " if depth else "") + content


def html_to_text(markup: str) -> str:
    """Plain text of an HTML mail body, with its quoted parts (blockquotes, Gmail's and
    Outlook's quote containers) replaced by a ">" line for `strip_quotes` to remove."""
    markup = re.sub(f"[{BLOCK}{PARAGRAPH}]", "", markup)
    markup = re.sub(r"\s+", " ", markup)  # as a browser shows it (<pre> aside)
    markup = _drop_quote_containers(markup)
    markup = re.sub(r"<blockquote\b", QUOTE_MARK + "<blockquote", markup, flags=re.IGNORECASE)
    markup = HTML_PARAGRAPH.sub(lambda m: PARAGRAPH + m.group(0), markup)
    markup = HTML_BLOCK.sub(lambda m: BLOCK + m.group(0), markup)
    markup = HTML_BREAK.sub(lambda m: "\n" + m.group(0), markup)
    markup = HTML_CELL.sub(lambda m: " " + m.group(0), markup)
    text = nh3.clean(
        markup,
        tags=set(),
        attributes={},
        clean_content_tags={"blockquote", "head", "script", "style", "title", "template"},
    )
    text = _lay_out(html.unescape(text).replace("\xa0", " "))
    return "\n".join(line.strip() for line in text.splitlines())


def _lay_out(text: str) -> str:
    """Turn layout marks into line breaks as a browser would: marks in a row count once, a
    block mark only starts a new line, a paragraph mark leaves a blank line."""
    out = ""
    wanted = 0  # line breaks that must end `out` before more text
    for piece in re.split(f"([{BLOCK}{PARAGRAPH}\n])", text):
        if piece in (BLOCK, PARAGRAPH):
            wanted = max(wanted, 1 if piece == BLOCK else 2)
            continue
        if piece != "\n" and not piece.strip():
            continue
        if out:
            out += "\n" * max(0, wanted - (len(out) - len(out.rstrip("\n"))))
        wanted = 0
        out += piece
    return out


def _drop_quote_containers(markup: str) -> str:
    """Replace each <div> that holds a quoted original (with everything inside it) by a
    quote mark. Nested <div>s are counted so the right closing tag ends it."""
    while match := HTML_QUOTE_CONTAINER.search(markup):
        start, depth, end = match.start(), 0, len(markup)
        for tag in HTML_DIV.finditer(markup, start):
            depth += -1 if tag.group(1) else 1
            if depth == 0:
                end = tag.end()
                break
        markup = markup[:start] + QUOTE_MARK + markup[end:]
    return markup


def strip_quotes(text: str) -> str:
    """`text` without quoted lines, attributions, forwarded originals and signatures.

    * Lines starting with ">" are quoted text; the "On ... wrote:" line above them (which
      may be wrapped over two lines) goes with them. Text after them is kept: it is a reply
      written below or between the quotes.
    * An attribution that no ">" line follows, "-----Original Message-----", Outlook's
      "From: ... / Sent: ..." header block and its line of underscores start an original
      that is not marked line by line: it and everything after it are left out.
    * A line that is exactly "-- " (or "--") starts the signature: it is left out with the
      rest. "Sent from my iPhone" and the like at the end are left out too.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if (
            line in SIGNATURE
            or ORIGINAL_MESSAGE.match(line)
            or SEPARATOR.match(line)
            or _outlook_header_at(lines, i)
        ):
            break
        span = _attribution_at(lines, i)
        if span:
            if _next_is_quoted(lines, i + span):
                i += span
                continue
            break
        if not line.lstrip().startswith(">"):
            kept.append(line.rstrip())
        i += 1
    while kept and (not kept[-1].strip() or DEVICE_SIGNATURE.match(kept[-1])):
        kept.pop()
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()


def _attribution_at(lines: list[str], i: int) -> int:
    """How many lines (1 or 2) an attribution starting at line i takes, or 0."""
    if ATTRIBUTION.match(lines[i]):
        return 1
    if (
        i + 1 < len(lines)
        and ATTRIBUTION_START.match(lines[i])
        and lines[i + 1].strip()
        and ATTRIBUTION.match(f"{lines[i].rstrip()} {lines[i + 1].strip()}")
    ):
        return 2
    return 0


def _next_is_quoted(lines: list[str], j: int) -> bool:
    for line in lines[j:]:
        if line.strip():
            return line.lstrip().startswith(">")
    return False


def _outlook_header_at(lines: list[str], i: int) -> bool:
    """A "From: ..." line with "Sent: ..." (or "Date: ...") among the next few lines."""
    if not HEADER_FROM.match(lines[i]):
        return False
    return any(HEADER_SENT.match(line) for line in lines[i + 1 : i + 5])


# --- Handling one inbound message ----------------------------------------------------------------

ADDRESS_HEADERS = ("Delivered-To", "X-Original-To", "To", "Cc")


def handle_inbound(raw: bytes, recipient: str | None = None) -> InboundResult:
    """Post the reply in `raw` (an RFC 5322 message as the mail server received it), if it
    is one; see the module's docstring for the rules.

    `recipient` is the envelope recipient the mail server passes (postfix's ${recipient});
    without it the reply address is looked for in the Delivered-To, X-Original-To, To and Cc
    headers.
    """
    result = _handle(raw, recipient)
    logger.info(
        "directory inbound: %s%s",
        result.status,
        f" post={result.post.pk}" if result.post is not None else "",
    )
    return result


def _handle(raw: bytes, recipient: str | None) -> InboundResult:
    message = _parse(raw)
    if message is None:
        return InboundResult(UNPARSEABLE, reason="not an e-mail message")
    if is_automatic(message):
        return InboundResult(IGNORED, reason="an automatic message")

    target = _reply_target(message, recipient)
    if target is None:
        return InboundResult(BAD_ADDRESS, reason="not a reply address we issued")
    thread_id, user_id = target
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return InboundResult(BAD_ADDRESS, reason="the member's account is closed")
    if not _sent_by(message, user):
        return InboundResult(UNKNOWN_SENDER, reason="not from the member's verified address")

    thread = Post.objects.filter(pk=thread_id, parent__isnull=True).first()
    refusal = _refusal(user, thread)
    if refusal is not None:
        return _refuse(message, raw, user, thread, refusal)
    try:
        text = reply_text(message)
    except Exception:  # a body the email package cannot take apart
        logger.warning("directory inbound: could not read a message body")
        text = ""
    if not text:
        return _refuse(message, raw, user, thread, "empty")

    post = None
    try:
        # Our own block, so a failure of what runs after the commit (queueing the reply's
        # delivery) is told apart from a reply that was not saved: the mail server would
        # retry a failed delivery, and must not post the same reply twice.
        with transaction.atomic():
            post = services.reply_create(
                thread=thread, author=user, body=text, source=Post.Source.EMAIL
            )
    except (PermissionDenied, ValidationError):  # changed since the checks above
        thread = Post.objects.filter(pk=thread.pk).first()
        return _refuse(message, raw, user, thread, _refusal(user, thread) or "not_allowed")
    except DatabaseError:
        raise
    except Exception:
        if post is None:
            raise
        logger.exception("directory inbound: post=%s saved, its delivery not queued", post.pk)
    return InboundResult(POSTED, post=post)


def _parse(raw: bytes) -> MIMEMessage | None:
    if not raw or not raw.strip():
        return None
    message = email.message_from_bytes(raw, policy=email.policy.default)
    if not message.keys():
        return None
    return message  # type: ignore[return-value]


def _header(message: Message, name: str) -> str:
    """A header's value as text, "" if missing or past repair."""
    try:
        return str(message.get(name, "") or "").strip()
    except Exception:
        return ""


def is_automatic(message: Message) -> bool:
    """An out-of-office reply, a bounce or list traffic (RFC 3834 and common practice)."""
    auto = _header(message, "Auto-Submitted").split(";")[0].strip().lower()
    if auto and auto != "no":
        return True
    if _header(message, "X-Autoreply") or _header(message, "X-Autorespond"):
        return True
    if _header(message, "Precedence").lower() in ("bulk", "junk", "list"):
        return True
    return message.get_content_type() == "multipart/report"  # delivery reports


def _addresses(message: Message, name: str) -> list[str]:
    """The addr-specs in every `name` header of `message`."""
    found = []
    try:
        headers = message.get_all(name) or []
    except Exception:
        return []
    for header in headers:
        try:
            found += [a.addr_spec for a in header.addresses]
        except Exception:  # an unstructured or unparseable header: take it as one address
            found.append(str(header).strip())
    return found


def _reply_target(message: Message, recipient: str | None) -> tuple[int, int] | None:
    """(thread id, user id) of the reply address the message was sent to: the envelope
    recipient if the mail server gave one, otherwise the first of ours in its headers."""
    if recipient is not None:
        return services.reply_target(recipient.strip().strip("<>"))
    for name in ADDRESS_HEADERS:
        for address in _addresses(message, name):
            target = services.reply_target(address)
            if target is not None:
                return target
    return None


def verified_addresses(user: User) -> set[str]:
    """The member's addresses we know are theirs, in lower case."""
    addresses = {user.email.lower()}
    addresses |= {
        a.lower()
        for a in EmailAddress.objects.filter(user=user, verified=True).values_list(
            "email", flat=True
        )
    }
    return addresses


def _sent_by(message: Message, user: User) -> bool:
    """Whether the message's From is exactly one address, one of the member's, and (when
    DIRECTORY_INBOUND_AUTHSERV_ID names our mail server) passed DMARC there."""
    senders = _addresses(message, "From")
    if len(senders) != 1 or senders[0].count("@") != 1:
        return False
    return senders[0].lower() in verified_addresses(user) and dmarc_passed(message)


def dmarc_passed(message: Message) -> bool:
    """True if our own mail server (its authserv-id in DIRECTORY_INBOUND_AUTHSERV_ID) added an
    Authentication-Results header (RFC 8601) saying dmarc=pass; always True when the setting
    is empty (a server that rejects DMARC failures itself). Headers from other servers, which
    a sender can write, are not believed."""
    authserv_id = settings.DIRECTORY_INBOUND_AUTHSERV_ID
    if not authserv_id:
        return True
    for value in message.get_all("Authentication-Results") or []:
        server, _sep, results = str(value).partition(";")
        if server.strip().split()[0:1] == [authserv_id] and re.search(
            r"(^|;)\s*dmarc=pass\b", results.replace("\n", " "), re.IGNORECASE
        ):
            return True
    return False


MESSAGE_ID = re.compile(r"^<[^<>\s]{1,250}>$")


def _refusal(user: User, thread: Post | None) -> str | None:
    """Why `user` may not reply to `thread` (a code of emails.REFUSAL_REASONS), or None."""
    if thread is None or thread.hidden_at is not None:
        return "gone"
    if services.posting_banned(user=user):
        return "banned"
    if thread.locked_at is not None:
        return "locked"
    return None


def _refuse(
    message: Message, raw: bytes, user: User, thread: Post | None, code: str
) -> InboundResult:
    """Tell the member, at their account's address, why their reply was not posted: recorded
    in the outbox (the worker sends it), once per message, however often the mail server
    hands it to us. It says why, never what they wrote."""
    message_id = _header(message, "Message-ID")
    if not MESSAGE_ID.match(message_id):
        message_id = ""
    seen = hashlib.sha256(message_id.encode() if message_id else raw).hexdigest()[:40]
    email_enqueue(
        key=f"{services.REFUSAL_EMAIL}:{user.pk}:{seen}",
        kind=services.REFUSAL_EMAIL,
        to=user.email,
        context={
            "user": user.pk,
            "thread": thread.pk if thread is not None and code != "gone" else None,
            "reason": code,
            "in_reply_to": message_id,
        },
    )
    return InboundResult(REFUSED, reason=str(REFUSAL_REASONS[code]))
