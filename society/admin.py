"""The Django admin sees public rows only (people, institutions, the group registry).

Never group content.
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import Institution, PeerGroup, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
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
    filter_horizontal = []


@admin.register(Institution)
class InstitutionAdmin(admin.ModelAdmin):
    list_display = ["name"]
    search_fields = ["name"]


@admin.register(PeerGroup)
class PeerGroupAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "status", "created_at", "ready_at"]
    readonly_fields = ["schema_name", "status", "provision_error", "created_at", "ready_at"]
    fields = ["name", "slug", *readonly_fields]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # deleting a row would orphan its schema; groups conclude instead
