import factory
from django.utils import timezone

from society.models import Institution, User


class InstitutionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Institution
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"University {n}")
    email_domains = factory.LazyAttribute(lambda o: [o.name.lower().replace(" ", "") + ".edu"])


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.edu")
    full_name = factory.Faker("name")
    institution = factory.SubFactory(InstitutionFactory)
    # A member who has been here before: they saved their account page once (an account made
    # by invitation and sign-in has none, and is asked: tests/society/test_account.py).
    settings_confirmed_at = factory.LazyFunction(timezone.now)
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()
