"""The confidential space."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from ..crypto import KeyDestroyed
from ..forms import ConfidentialForm, ReplyForm
from ..models import ConfidentialEntry
from ..permissions import access_confidential_thread, access_participation, can_see_peers_only
from ..services.confidential import (
    confidential_entry_create,
    confidential_entry_text,
    confidential_reply,
)


@require_http_methods(["GET", "POST"])
def confidential(request: HttpRequest) -> HttpResponse:
    access_participation(request.membership)
    form = ConfidentialForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            peers_only = form.cleaned_data["peers_only"] and can_see_peers_only(request.membership)
            entry = confidential_entry_create(
                author=request.user, text=form.cleaned_data["text"], peers_only=peers_only
            )
            return redirect("groups:confidential-thread", pk=entry.pk)
        status = 400
    else:
        status = 200
    threads = ConfidentialEntry.objects.filter(parent=None).select_related("author")
    if not can_see_peers_only(request.membership):
        threads = threads.filter(peers_only=False)
    try:
        items = [(t, confidential_entry_text(entry=t)) for t in threads]
    except KeyDestroyed:
        items = []
    return render(
        request,
        "groups/confidential.html",
        {
            "threads": items,
            "form": form,
            "can_peers_only": can_see_peers_only(request.membership),
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
def confidential_thread(request: HttpRequest, pk: int) -> HttpResponse:
    thread = access_confidential_thread(request.membership, pk=pk)
    form = ReplyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        confidential_reply(thread=thread, author=request.user, text=form.cleaned_data["text"])
        return redirect("groups:confidential-thread", pk=pk)
    entries = [thread, *thread.replies.select_related("author").order_by("pk")]
    return render(
        request,
        "groups/confidential_thread.html",
        {
            "thread": thread,
            "form": form,
            "entries": [(e, confidential_entry_text(entry=e)) for e in entries],
        },
        status=400 if request.method == "POST" else 200,
    )
