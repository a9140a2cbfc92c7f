"""Shared fixtures: three personas (manager, rater, outsider) around one project.

Tests run on the database that DATABASE_URL names (PostgreSQL in CI), else SQLite.
Background jobs run inline unless a test asks for a real Celery worker.
"""

import pytest
from django.db import connection

from raters.models import Membership
from tests.factories import ItemFactory, MembershipFactory, ProjectFactory, UserFactory


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL"))


@pytest.fixture(autouse=True)
def _jobs_inline_and_media_in_tmp(settings, tmp_path):
    settings.VOX_JOBS = "eager"
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def project(db):
    return ProjectFactory(overlap=2)


@pytest.fixture
def manager(project):
    user = UserFactory(username="mona")
    MembershipFactory(project=project, user=user, role=Membership.Role.MANAGER)
    return user


@pytest.fixture
def rater(project):
    user = UserFactory(username="rita")
    MembershipFactory(project=project, user=user, role=Membership.Role.ANNOTATOR)
    return user


@pytest.fixture
def outsider(db):
    """An annotator of another project."""
    user = UserFactory(username="otto")
    MembershipFactory(user=user, role=Membership.Role.ANNOTATOR)
    return user


@pytest.fixture
def items(project):
    return ItemFactory.create_batch(5, project=project)


def make_raters(project, n, prefix="r"):
    users = []
    for i in range(n):
        user = UserFactory(username=f"{prefix}{i}")
        MembershipFactory(project=project, user=user, role=Membership.Role.ANNOTATOR)
        users.append(user)
    return users
