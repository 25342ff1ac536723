"""The Django admin sees public rows only (people, institutions, the group registry).

Never group content. Whatever must go through a service is read-only here: groups (their
address names their schema and every link), an institution's sign-in and domains (kept in
step with its allauth provider app and audited by society.services.institution_save, at
/manage/institutions/), and whether an account is active (closed through
society.services.account_deactivate). Nothing can be deleted: a user's rows reach into group
schemas, and a group's row owns its schema.
"""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import ValidationError

from .models import Institution, PeerGroup, User
from .services import account_deactivate


class NoDeleteAdmin(admin.ModelAdmin):
    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


@admin.register(User)
class UserAdmin(NoDeleteAdmin, BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "institution", "is_society_admin", "is_active"]
    search_fields = ["email", "full_name"]
    list_filter = ["is_society_admin", "is_active", "is_staff"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["full_name", "institution", "time_zone"]}),
        ("Roles", {"fields": ["is_active", "is_society_admin", "is_staff", "is_superuser"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]
    # The institution comes from the e-mail domain and sign-in; the zone is the member's own.
    readonly_fields = ["institution", "time_zone", "is_active"]
    filter_horizontal = []
    actions = ["deactivate"]

    @admin.action(description="Deactivate the selected accounts")
    def deactivate(self, request, queryset) -> None:
        done = 0
        for user in queryset:
            try:
                account_deactivate(user=user, actor=request.user)
            except ValidationError as exc:
                self.message_user(request, " ".join(exc.messages), messages.ERROR)
            else:
                done += 1
        self.message_user(request, f"{done} account(s) deactivated.", messages.SUCCESS)


@admin.register(Institution)
class InstitutionAdmin(NoDeleteAdmin):
    """View only: institutions are added and changed at /manage/institutions/."""

    list_display = ["name", "slug", "sign_in", "require_sso"]
    search_fields = ["name"]
    exclude = ["saml_metadata_xml"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PeerGroup)
class PeerGroupAdmin(NoDeleteAdmin):
    """View only: groups are made by approving an application (or `manage.py group_provision`)
    and steered by their point-persons."""

    list_display = ["name", "slug", "status", "created_at", "ready_at"]
    fields = ["name", "slug", "schema_name", "status", "provision_error", "created_at", "ready_at"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
