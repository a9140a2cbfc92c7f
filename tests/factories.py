import factory
from django.contrib.auth import get_user_model

from raters.models import Membership
from tasks import schema as schemas
from tasks.models import Item, Project


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pw-for-tests")


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    name = factory.Sequence(lambda n: f"Project {n}")
    kind = schemas.SINGLE_CHOICE
    schema = factory.LazyFunction(
        lambda: schemas.schema_validate(schemas.SINGLE_CHOICE, {"choices": ["yes", "no"]})
    )
    overlap = 3


class ItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Item

    project = factory.SubFactory(ProjectFactory)
    data = factory.Sequence(lambda n: {"text": f"item text {n}"})

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create:
            Project.objects.filter(pk=instance.project_id).update(
                n_items=Item.objects.filter(project_id=instance.project_id).count()
            )


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    project = factory.SubFactory(ProjectFactory)
    user = factory.SubFactory(UserFactory)
    role = Membership.Role.ANNOTATOR
