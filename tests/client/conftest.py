"""A live Vox server and the client in this repository (client/) pointed at it.

The server is pytest-django's live_server: the real app on a real port, in this process.
Its jobs run on the server's background thread (VOX_JOBS=thread, as in `make run`), so an
import, export or aggregation run answers "queued" first and the client has to wait for it.
The client is imported from client/ and the `vox` command runs from it in a subprocess,
so the tests drive this checkout's code whether or not `make install` put it in the venv.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission

from tests.factories import UserFactory

CLIENT_DIR = Path(__file__).resolve().parents[2] / "client"
if str(CLIENT_DIR) not in sys.path:
    sys.path.insert(0, str(CLIENT_DIR))

PASSWORD = "pw-for-tests"


@pytest.fixture
def server(live_server, settings):
    settings.VOX_JOBS = "thread"
    return live_server.url


@pytest.fixture
def owner(db):
    """A user who may create projects (the permission, not an admin)."""
    user = UserFactory(username="petra")
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="tasks", codename="add_project")
    )
    return user


@pytest.fixture
def vox(tmp_path):
    """Run the `vox` command: vox("projects", env={...}, input="...") -> CompletedProcess.
    Its saved credentials live in this test's tmp_path, never the user's home."""

    def run(*args, env=None, input=None):
        environ = {
            k: v for k, v in os.environ.items() if k not in ("VOX_URL", "VOX_TOKEN", "PYTHONPATH")
        }
        environ.update(
            PYTHONPATH=str(CLIENT_DIR),
            VOX_CONFIG=str(tmp_path / "vox-credentials.json"),
            **(env or {}),
        )
        return subprocess.run(
            [sys.executable, "-m", "vox_client", *map(str, args)],
            env=environ,
            input=input,
            capture_output=True,
            text=True,
            timeout=180,
            cwd=tmp_path,
        )

    return run
