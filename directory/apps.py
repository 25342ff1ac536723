from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "directory"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from society.models import Institution, User

        post_save.connect(_account_saved, sender=User, dispatch_uid="directory.account_saved")
        post_save.connect(
            _institution_saved, sender=Institution, dispatch_uid="directory.institution_saved"
        )


FOLLOWED = {"institution", "institution_id", "time_zone"}


def _account_saved(sender, instance, created, update_fields=None, **kwargs) -> None:
    """A directory entry shows, and is searched by, its account's institution and time zone:
    keep it in step when they may have changed."""
    if created or (update_fields is not None and not FOLLOWED & set(update_fields)):
        return
    from .services import profile_follow_account

    profile_follow_account(user=instance)


def _institution_saved(sender, instance, created, **kwargs) -> None:
    """Members are found by their institution's name: a renamed institution renames it in
    their directory entries' search text."""
    if created:
        return
    from .services import profiles_follow_institution

    profiles_follow_institution(institution=instance)
