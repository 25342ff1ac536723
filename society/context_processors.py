from django.conf import settings
from django.http import HttpRequest

from .urls_helpers import society_url


def site(request: HttpRequest) -> dict[str, object]:
    """What base.html needs on every page: society name, links home, the current group.

    The group is named only to its members: a refusal page must not confirm what it refuses.
    """
    group = getattr(request, "group", None)
    user = getattr(request, "user", None)  # none on a page refused before sign-in is read
    return {
        "society_name": settings.SOCIETY_NAME,
        "society_home_url": society_url("/"),
        "current_group": group if getattr(request, "membership", None) else None,
        "login_url": settings.LOGIN_URL,
        # A member who has not saved their account page yet: every page says so (their
        # times are in UTC until they choose a zone), with a link back to where they are.
        "account_unset": bool(
            user is not None
            and user.is_authenticated
            and getattr(user, "settings_confirmed_at", False) is None
        ),
    }
