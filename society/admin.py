"""The Django admin: society admins look up public rows (people, institutions, the group
registry). Never group content, and nothing that lets anyone act as a member.

It opens for `is_society_admin` accounts only (Django's staff and superuser flags give nothing
here), lists only society's own models (allauth's provider apps hold client secrets, its
tokens and addresses are members' data, beat's schedule is the operators'), and whatever must
go through a service is read-only: groups (their address names their schema and every link),
institutions (their sign-in and domains are kept in step with allauth and audited by
society.services.institution_save, at /manage/institutions/), and accounts, whose passwords,
flags, institution and time zone no admin may set; an account is closed through
society.services.account_deactivate. Nothing can be added or deleted here.
"""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from .admin_site import is_society_admin as _is_society_admin
from .models import Institution, PeerGroup, User
from .services import account_deactivate


class ReadOnlyAdmin(admin.ModelAdmin):
    """Society admins may look; changing goes through the services and their pages."""

    def has_module_permission(self, request) -> bool:
        return _is_society_admin(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return _is_society_admin(request)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


@admin.register(User)
class UserAdmin(ReadOnlyAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "institution", "is_society_admin", "is_active"]
    search_fields = ["email", "full_name"]
    list_filter = ["is_society_admin", "is_active"]
    fields = ["email", "full_name", "institution", "time_zone", "is_active", "is_society_admin"]
    actions = ["deactivate"]

    def has_deactivate_permission(self, request) -> bool:
        return _is_society_admin(request)

    @admin.action(description="Deactivate the selected accounts", permissions=["deactivate"])
    def deactivate(self, request, queryset) -> None:
        done = 0
        for user in queryset.filter(is_active=True):
            try:
                account_deactivate(user=user, actor=request.user)
            except ValidationError as exc:
                self.message_user(request, " ".join(exc.messages), messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(request, f"{done} account(s) deactivated.", messages.SUCCESS)


@admin.register(Institution)
class InstitutionAdmin(ReadOnlyAdmin):
    """Institutions are added and changed at /manage/institutions/."""

    list_display = ["name", "slug", "sign_in", "require_sso"]
    search_fields = ["name"]
    fields = ["name", "slug", "email_domains", "sign_in", "require_sso", "saml_entity_id"]


@admin.register(PeerGroup)
class PeerGroupAdmin(ReadOnlyAdmin):
    """Groups are made by approving an application (or `manage.py group_provision`) and
    steered by their point-persons."""

    list_display = ["name", "slug", "status", "created_at", "ready_at"]
    fields = ["name", "slug", "schema_name", "status", "provision_error", "created_at", "ready_at"]
