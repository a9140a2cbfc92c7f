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
    # Trust rules at once after each gold answer, so tests can pin the exact answer that
    # triggers them; tests/quality/test_trust_delay.py covers the delay itself.
    settings.VOX_TRUST_CHECK_DELAY = 0


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


@pytest.fixture
def celery_workers(settings, tmp_path):
    """Start real Celery worker processes on the test database and a queue of their own.

    Yields start(**extra_env) -> Popen (with .log, its output file); every worker started
    is stopped at the end. Skips without a broker or without PostgreSQL, which the worker
    process must share with the test.
    """
    import os
    import subprocess
    import sys
    import uuid
    from pathlib import Path

    from django.conf import settings as django_settings

    if not django_settings.REDIS_URL:
        pytest.skip("needs a broker: set REDIS_URL")
    if connection.vendor != "postgresql":
        pytest.skip("the worker process needs a shared database: set DATABASE_URL to PostgreSQL")
    db = connection.settings_dict
    queue = f"vox-test-{uuid.uuid4().hex[:8]}"
    settings.VOX_JOBS, settings.VOX_JOBS_QUEUE = "celery", queue
    root = Path(__file__).resolve().parents[1]
    started = []

    def start(**extra_env):
        log = tmp_path / f"worker{len(started)}.log"
        env = {
            **os.environ,
            "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}"
            f":{db['PORT'] or 5432}/{db['NAME']}",
            "VOX_JOBS": "celery",
            "VOX_JOBS_QUEUE": queue,
            "VOX_MEDIA_ROOT": str(settings.MEDIA_ROOT),
            **extra_env,
        }
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool=solo",
                "-Q",
                queue,
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=root,
            env=env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        proc.log = log
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
