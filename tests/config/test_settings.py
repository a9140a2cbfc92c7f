import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


# The caller's own settings, and the browser tests' async switch, must not leak in.
IGNORED_ENV = (
    "DEBUG",
    "SECRET_KEY",
    "VOX_JOBS",
    "DATABASE_URL",
    "REDIS_URL",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
)


def manage(*args, **env):
    base = {k: v for k, v in os.environ.items() if k not in IGNORED_ENV}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**base, **env},
        timeout=120,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DEBUG": "maybe"}, "DEBUG='maybe' is not a boolean"),
        ({"DEBUG": "0"}, "SECRET_KEY must be set when DEBUG=0"),
        ({"VOX_LEASE_SECONDS": "soon"}, "VOX_LEASE_SECONDS='soon' is not an integer"),
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL='mysql://x' must start with one of"),
        ({"VOX_JOBS": "celery"}, "VOX_JOBS=celery needs REDIS_URL"),
    ],
)
def test_a_bad_environment_value_stops_vox_with_the_variable_named(env, message):
    result = manage("check", **env)
    assert result.returncode != 0
    assert message in result.stderr


def test_the_deploy_check_is_clean_with_production_settings():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="vox.example.org",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_openapi_schema_is_served(admin_client):
    response = admin_client.get("/api/schema/")
    assert response.status_code == 200
    assert b"/api/projects/{project_id}/annotations/" in response.content
    assert admin_client.get("/api/docs/").status_code == 200
