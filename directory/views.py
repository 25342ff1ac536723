"""The society directory's pages (base host). Signed-in members only, except the one-click
unsubscribe, which a mail program calls without a session (RFC 8058)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from society.inputs import parse_int
from society.models import PeerGroup, User
from society.permissions import access_society_management
from society.selectors import group_ids_for_user
from society.urls_helpers import is_safe_redirect

from . import selectors, services
from .forms import (
    DeliveryForm,
    JoinRequestForm,
    ModerationForm,
    PostForm,
    ProfileForm,
    ReplyForm,
    SearchForm,
)
from .models import ModerationEvent, Post, Profile


def _fail(request: HttpRequest, exc: ValidationError | PermissionDenied) -> None:
    text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
    messages.error(request, text or _("That is not allowed."))


@login_required
@require_http_methods(["GET"])
def search(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET or None)
    result = None
    if form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "page"}
        data["institution"] = data["institution"].pk if data["institution"] else None
        result = selectors.profile_search(
            viewer=request.user, page=form.cleaned_data["page"] or 1, **data
        )
    elif not request.GET:
        result = selectors.profile_search(viewer=request.user)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "directory/search.html",
        {
            "form": form,
            "result": result,
            "query": query.urlencode(),
            "my_profile": Profile.objects.filter(user=request.user).first(),
        },
        status=200 if result is not None else 400,
    )


@login_required
@require_http_methods(["GET", "POST"])
def profile_edit(request: HttpRequest) -> HttpResponse:
    profile = services.profile_draft(user=request.user)
    form = ProfileForm(request.POST if request.method == "POST" else None, instance=profile)
    if request.method == "POST" and form.is_valid():
        try:
            services.profile_save(user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Your profile is saved."))
            return redirect("directory:profile-edit")
    if profile.pk:
        profile.refresh_from_db()
    return render(
        request,
        "directory/profile_form.html",
        {"form": form, "profile": profile},
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET"])
def profile_detail(request: HttpRequest, pk: int) -> HttpResponse:
    profile = selectors.profile_get_visible(viewer=request.user, pk=pk)
    if profile is None:
        raise Http404
    return render(request, "directory/profile_detail.html", {"profile": profile})


@login_required
@require_http_methods(["GET"])
def suggestions(request: HttpRequest) -> HttpResponse:
    profile = services.profile_get(user=request.user)
    looking = profile is not None and profile.looking_for_group
    found = selectors.peer_suggestions(profile=profile) if looking else []
    return render(
        request,
        "directory/suggestions.html",
        {"profile": profile, "looking": looking, "suggestions": found},
    )


# --- Posts ---------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def post_list(request: HttpRequest) -> HttpResponse:
    form = PostForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            post = services.post_create(author=request.user, **form.cleaned_data)
        except (ValidationError, PermissionDenied) as exc:
            _fail(request, exc)
        else:
            messages.success(request, _("Posted. Members who want every post get it now."))
            return redirect("directory:post-detail", pk=post.pk)
    kind = request.GET.get("kind", "")
    kind = kind if kind in Post.Kind.values else ""
    page = parse_int(request.GET.get("page"), min=1, max=10_000, default=1)
    posts, has_next = selectors.post_list(viewer=request.user, kind=kind, page=page)
    return render(
        request,
        "directory/post_list.html",
        {
            "form": form,
            "posts": posts,
            "has_next": has_next,
            "page": page,
            "kind": kind,
            "kinds": [c for c in Post.Kind.choices if c[0] != Post.Kind.REPLY],
            "banned": services.posting_banned(user=request.user),
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def post_detail(request: HttpRequest, pk: int) -> HttpResponse:
    found = selectors.thread_get(viewer=request.user, pk=pk)
    if found is None:
        raise Http404
    thread, replies = found
    form = ReplyForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.reply_create(
                thread=thread, author=request.user, body=form.cleaned_data["body"]
            )
        except (ValidationError, PermissionDenied) as exc:
            _fail(request, exc)
        else:
            messages.success(request, _("Your reply is posted."))
            return redirect("directory:post-detail", pk=pk)
    return render(
        request,
        "directory/post_detail.html",
        {
            "thread": thread,
            "replies": replies,
            "form": form,
            "moderation": ModerationForm() if request.user.is_society_admin else None,
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def post_moderate(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    access_society_management(request.user)
    post = get_object_or_404(Post, pk=pk)
    form = ModerationForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give a reason: it is recorded."))
    else:
        try:
            services.post_moderate(
                post=post, by=request.user, action=action, reason=form.cleaned_data["reason"]
            )
            messages.success(request, _("Done, and the reason is recorded."))
        except ValidationError as exc:
            _fail(request, exc)
    return redirect("directory:post-detail", pk=post.thread.pk)


@login_required
@require_POST
def member_ban(request: HttpRequest, pk: int) -> HttpResponse:
    access_society_management(request.user)
    member = get_object_or_404(User, pk=pk)
    form = ModerationForm(request.POST)
    banned = request.POST.get("banned") == "1"
    if not form.is_valid():
        messages.error(request, _("Give a reason: it is recorded."))
    else:
        services.member_ban_set(
            member=member, by=request.user, banned=banned, reason=form.cleaned_data["reason"]
        )
        messages.success(request, _("Done, and the reason is recorded."))
    back = request.POST.get("back", "")
    if is_safe_redirect(back, path_only=True) and back.startswith("/directory/"):
        return redirect(back)
    return redirect("directory:moderation")


@login_required
@require_http_methods(["GET"])
def moderation(request: HttpRequest) -> HttpResponse:
    access_society_management(request.user)
    events = ModerationEvent.objects.select_related("post__parent", "member", "by")[:100]
    return render(request, "directory/moderation.html", {"events": events})


# --- Delivery -------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def delivery_settings(request: HttpRequest) -> HttpResponse:
    subscription = services.subscription_get(user=request.user)
    form = DeliveryForm(
        request.POST if request.method == "POST" else None,
        initial={"delivery": subscription.delivery},
    )
    if request.method == "POST" and form.is_valid():
        services.subscription_set(user=request.user, delivery=form.cleaned_data["delivery"])
        messages.success(request, _("Saved."))
        return redirect("directory:settings")
    return render(
        request,
        "directory/settings.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


@csrf_exempt  # RFC 8058: the mail program POSTs without a session or a form of ours
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks (link scanners must not unsubscribe anyone); POST unsubscribes at once."""
    if request.method == "POST":
        user = services.unsubscribe_by_token(token=token)
        if user is None:
            raise Http404
        return render(request, "directory/unsubscribed.html")
    if services.unsubscribe_token_user(token=token) is None:
        raise Http404
    return render(request, "directory/unsubscribe.html", {"token": token})


# --- Groups with open seats -----------------------------------------------------------------------


@login_required
@require_http_methods(["GET"])
def open_groups(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "directory/open_groups.html",
        {
            "groups": selectors.groups_with_open_seats(),
            "mine": selectors.join_requests_for(user=request.user),
            "member_of": group_ids_for_user(user=request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def join_request(request: HttpRequest, slug: str) -> HttpResponse:
    group = get_object_or_404(PeerGroup, slug=slug)
    if not services.group_is_open(group):
        raise Http404
    form = JoinRequestForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.join_request_create(
                user=request.user, group=group, message=form.cleaned_data["message"]
            )
        except ValidationError as exc:
            _fail(request, exc)
        else:
            messages.success(request, _("Your request is with the group's point-person."))
            return redirect("directory:open-groups")
    return render(
        request,
        "directory/join_request.html",
        {"group": group, "form": form},
        status=400 if form.errors else 200,
    )
