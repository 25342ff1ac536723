from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest


class AccountAdapter(DefaultAccountAdapter):
    """Accounts come from institutional sign-in and invitations, not from an open sign-up form."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False
