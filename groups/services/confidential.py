"""The confidential space: envelope encryption, threads, notices, shredding."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from society.models import User
from society.outbox import email_enqueue

from .. import crypto
from ..crypto import KeyDestroyed
from ..models import (
    AgendaItem,
    ConfidentialEntry,
    GroupKey,
    Membership,
)
from .context import current_group


def group_data_key(*, create: bool) -> bytes:
    schema = current_group().schema_name
    key = GroupKey.objects.first()
    if key is None:
        if not create or current_group().shredded_at is not None:
            raise KeyDestroyed
        data_key = crypto.new_data_key()
        GroupKey.objects.create(wrapped=crypto.wrap(data_key, schema=schema))
        return data_key
    return crypto.unwrap(key.wrapped, schema=schema)


@transaction.atomic
def confidential_entry_create(*, author: User, text: str, peers_only: bool = False):
    """Store a confidential note, encrypted with the group's data key (made on first use)."""
    if not text.strip():
        raise ValidationError(_("Write something first."))
    group = current_group()
    sealed = crypto.seal(group_data_key(create=True), text, schema=group.schema_name)
    entry = ConfidentialEntry.objects.create(
        author=author, peers_only=peers_only, ciphertext=sealed
    )
    _confidential_notify(entry)
    return entry


@transaction.atomic
def confidential_reply(*, thread: ConfidentialEntry, author: User, text: str) -> ConfidentialEntry:
    """A reply in a confidential thread; it shares the thread's audience."""
    if not text.strip():
        raise ValidationError(_("Write something first."))
    group = current_group()
    sealed = crypto.seal(group_data_key(create=True), text, schema=group.schema_name)
    entry = ConfidentialEntry.objects.create(
        author=author, parent=thread, peers_only=thread.peers_only, ciphertext=sealed
    )
    _confidential_notify(entry)
    return entry


def _confidential_notify(entry: ConfidentialEntry) -> None:
    """Tell the others who may read `entry` that something was posted, and nothing more: the
    group's name and a link, never its text (which is encrypted, and the threads have no
    other title). For a reply, the thread's author gets their own notice instead (a reply to
    their thread, linking to it); the replier is never told about their own post, and a
    peers-only thread's notices go to peers only (whatever role its author holds now).

    One outbox row per recipient, holding ids and which notice only; the worker renders it
    (groups.emails.confidential_notice)."""
    group = current_group()
    roles = [Membership.Role.POINT_PERSON, Membership.Role.MEMBER]
    if not entry.peers_only:
        roles.append(Membership.Role.FACILITATOR)
    audience = (
        Membership.objects.filter(is_active=True, role__in=roles)
        .exclude(user_id=entry.author_id)
        .values_list("user_id", "user__email")
        .order_by("user_id")
    )
    thread_id = entry.parent_id or entry.pk
    thread_author = entry.parent.author_id if entry.parent_id else None
    for user_id, address in audience:
        notice = "reply" if user_id == thread_author else "new"
        email_enqueue(
            key=f"confidential:{group.schema_name}:{entry.pk}:{user_id}",
            kind="confidential_notice",
            to=address,
            context={"thread": thread_id, "user": user_id, "notice": notice},
            group=group,
        )


def confidential_entry_text(*, entry: ConfidentialEntry) -> str:
    """The plaintext of an entry. Raises KeyDestroyed after crypto-shredding."""
    group = current_group()
    return crypto.open_sealed(
        group_data_key(create=False), entry.ciphertext, schema=group.schema_name
    )


def confidential_entries_texts(*, entries: list[ConfidentialEntry]) -> dict[int, str | None]:
    """The plaintexts of `entries` by pk, opening the group's data key once (and only if there
    are entries). None for each after crypto-shredding."""
    if not entries:
        return {}
    schema = current_group().schema_name
    try:
        key = group_data_key(create=False)
    except KeyDestroyed:
        return {entry.pk: None for entry in entries}
    return {entry.pk: crypto.open_sealed(key, entry.ciphertext, schema=schema) for entry in entries}


@transaction.atomic
def group_key_rewrap() -> bool:
    """Re-wrap this group's data key with the current KEK (after adding a new HORIZONTAL_KEYS
    entry first). Returns whether anything changed. Entries stay as they are."""
    key = GroupKey.objects.select_for_update().first()
    if key is None or key.wrapped.startswith(crypto.kek_id_current() + ":"):
        return False
    schema = current_group().schema_name
    key.wrapped = crypto.wrap(crypto.unwrap(key.wrapped, schema=schema), schema=schema)
    key.save(update_fields=["wrapped"])
    return True


@transaction.atomic
def confidential_destroy() -> None:
    """Destroy the group's confidential space for good: its data key, then every ciphertext
    (confidential entries and confidential meeting notes)."""
    GroupKey.objects.all().delete()
    ConfidentialEntry.objects.all().delete()
    AgendaItem.objects.filter(notes_sealed__isnull=False).update(notes_sealed=None)
