"""How the directory's e-mails read, rendered by the worker when it sends them
(society.outbox records them; crossschema.outbox sends them): join requests, each post to the
members who want every post, digests, and the refusal of a reply sent by e-mail.

Each renderer reads the database at sending time, the member's address included, and raises
EmailNoLongerApplies when the e-mail should not go out any more (a post hidden by a moderator,
a member who changed how they want the posts or closed their account)."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMessage
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from society.models import MembershipIndex, OutboundEmail, User
from society.outbox import EmailNoLongerApplies
from society.urls_helpers import group_url, society_url

from .models import JoinRequest, Post, Subscription
from .services import (
    DIGEST_PERIODS,
    author_name,
    digest_posts,
    post_email_key,
    reply_address,
    unsubscribe_token,
)

# Why a reply sent by e-mail was not posted (the refusal records the code, not the sentence).
REFUSAL_REASONS = {
    "gone": gettext_lazy("the post you replied to is no longer shown."),
    "banned": gettext_lazy("you may not post to the directory at the moment."),
    "locked": gettext_lazy("this thread is locked: it takes no more replies."),
    "empty": gettext_lazy("we found no new text in it (quoted text and signatures are left out)."),
    "not_allowed": gettext_lazy("you may not reply to this post."),
}


def join_request(email: OutboundEmail) -> EmailMessage:
    """A member asks to join: to each point-person, with the member's message (not their
    profile) and the link to answer. Checked when it is sent: the request is still pending,
    and the reader still a point-person of the group (the message is for them alone), at
    their address as it is now."""
    request = (
        JoinRequest.objects.select_related("user", "group")
        .filter(pk=email.context["request"], status=JoinRequest.Status.PENDING)
        .first()
    )
    if request is None:
        raise EmailNoLongerApplies
    point_person = (
        MembershipIndex.objects.select_related("user")
        .filter(group=request.group, is_point_person=True, user__is_active=True)
        .filter(Q(user_id=email.context.get("user")) | Q(user__email__iexact=email.to))
        .first()
    )
    if point_person is None:
        raise EmailNoLongerApplies
    name = author_name(request.user)
    body = render_to_string(
        "directory/emails/join_request.txt",
        {"request": request, "name": name, "url": group_url(request.group.slug, "/join-requests/")},
    )
    subject = _("%(name)s asks to join %(group)s") % {"name": name, "group": request.group}
    return EmailMessage(subject=subject, body=body, to=[point_person.user.email])


def join_declined(email: OutboundEmail) -> EmailMessage:
    """The group said no: told kindly, with nothing about who decided."""
    request = JoinRequest.objects.select_related("group").get(pk=email.context["request"])
    body = render_to_string("directory/emails/join_declined.txt", {"group": request.group})
    subject = _("About your request to join %(group)s") % {"group": request.group}
    return EmailMessage(subject=subject, body=body, to=[email.to])


def list_headers(*, user: User) -> dict[str, str]:
    """RFC 2919 List-Id and RFC 8058 one-click unsubscribe, for every directory list e-mail."""
    unsubscribe = society_url(f"/directory/unsubscribe/{unsubscribe_token(user=user)}/")
    return {
        "List-Id": f"{settings.SOCIETY_NAME} directory <{settings.DIRECTORY_LIST_ID}>",
        "List-Unsubscribe": f"<{unsubscribe}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "Precedence": "list",
        "Auto-Submitted": "auto-generated",
    }


def directory_post(email: OutboundEmail) -> EmailMessage:
    """A post or reply, to a member who wants every post, who can reply from their mail
    program (the Reply-To is signed for them and the thread). A reply is threaded under the
    thread's e-mail to the same member. Not sent if a moderator hid it (or its thread), or
    the member no longer wants every post."""
    post = (
        Post.objects.select_related("author__profile", "parent")
        .filter(pk=email.context["post"])
        .first()
    )
    if post is None or post.hidden_at is not None or post.thread.hidden_at is not None:
        raise EmailNoLongerApplies
    user = User.objects.filter(
        pk=email.context["user"],
        is_active=True,
        directory_subscription__delivery=Subscription.Delivery.EACH,
    ).first()
    if user is None:
        raise EmailNoLongerApplies
    thread = post.thread
    subject = f"[{settings.SOCIETY_NAME} directory] {thread.title}"
    if post.parent_id:
        subject = f"Re: {subject}"
    body = render_to_string(
        "directory/emails/post.txt",
        {
            "post": post,
            "thread": thread,
            "author": author_name(post.author),
            "url": society_url(f"/directory/posts/{thread.pk}/"),
            "settings_url": society_url("/directory/settings/"),
        },
    )
    headers = {**list_headers(user=user), "Reply-To": reply_address(post=post, user=user)}
    if post.parent_id:
        first = (
            OutboundEmail.objects.filter(key=post_email_key(thread.pk, user.pk))
            .values_list("message_id", flat=True)
            .first()
        )
        if first:
            headers["In-Reply-To"] = headers["References"] = first
    return EmailMessage(subject, body, to=[user.email], headers=headers)


def directory_digest(email: OutboundEmail) -> EmailMessage:
    """A daily or weekly digest: the posts made in its period (`since`, `until`] that are
    still shown when it is sent. Not sent if none is left, or the member no longer wants a
    digest."""
    subscription = (
        Subscription.objects.select_related("user")
        .filter(
            pk=email.context["subscription"],
            user__is_active=True,
            delivery__in=list(DIGEST_PERIODS),
        )
        .first()
    )
    if subscription is None:
        raise EmailNoLongerApplies
    posts = digest_posts(
        since=datetime.fromisoformat(email.context["since"]),
        until=datetime.fromisoformat(email.context["until"]),
    )
    if not posts:
        raise EmailNoLongerApplies  # each hidden by a moderator since
    weekly = email.context.get("delivery") == Subscription.Delivery.WEEKLY
    label = _("weekly digest") if weekly else _("daily digest")
    body = render_to_string(
        "directory/emails/digest.txt",
        {
            "label": label,
            "items": [
                {
                    "post": p,
                    "author": author_name(p.author),
                    "url": society_url(f"/directory/posts/{p.thread.pk}/"),
                }
                for p in posts
            ],
            "settings_url": society_url("/directory/settings/"),
        },
    )
    count = len(posts)
    subject = f"[{settings.SOCIETY_NAME} directory] Your {label}: {count} new post" + (
        "s" if count != 1 else ""
    )
    user = subscription.user
    return EmailMessage(subject, body, to=[user.email], headers=list_headers(user=user))


def directory_refusal(email: OutboundEmail) -> EmailMessage:
    """Why a reply the member sent by e-mail was not posted, at their account's address, in
    reply to their message. Nothing of what they wrote is repeated; the thread is linked only
    while it is shown."""
    user = User.objects.filter(pk=email.context["user"], is_active=True).first()
    if user is None:
        raise EmailNoLongerApplies
    thread_id = email.context.get("thread")
    shown = (
        thread_id is not None and Post.objects.filter(pk=thread_id, hidden_at__isnull=True).exists()
    )
    body = render_to_string(
        "directory/emails/reply_refused.txt",
        {
            "reason": REFUSAL_REASONS[email.context["reason"]],
            "url": society_url(f"/directory/posts/{thread_id}/") if shown else None,
        },
    )
    headers = {"Auto-Submitted": "auto-replied"}  # RFC 3834: no out-of-office reply to this
    if email.context.get("in_reply_to"):
        headers["In-Reply-To"] = headers["References"] = email.context["in_reply_to"]
    return EmailMessage(_("Your reply was not posted"), body, to=[user.email], headers=headers)
