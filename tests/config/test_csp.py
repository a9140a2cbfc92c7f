"""Every reply carries a Content-Security-Policy that runs scripts only from Vox's own
static files, and no template needs more: no inline script, no inline event handler."""

import re
from pathlib import Path

import pytest
from django.core.wsgi import get_wsgi_application
from django.urls import reverse
from rest_framework.authtoken.models import Token

from annotation.fastlane import QueueFastLane
from tests.annotation.test_fast_lane import Wsgi

ROOT = Path(__file__).resolve().parents[2]
INLINE_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.IGNORECASE)


def templates():
    return [p for p in ROOT.rglob("templates/**/*.html") if ".venv" not in p.parts]


def test_no_template_has_an_inline_script_or_event_handler():
    assert len(templates()) > 20
    offenders = [
        str(p.relative_to(ROOT))
        for p in templates()
        if INLINE_HANDLER.search(p.read_text()) or INLINE_SCRIPT.search(p.read_text())
    ]
    assert offenders == []


def test_the_template_check_finds_an_inline_handler_and_script():
    assert INLINE_HANDLER.search('<input type="checkbox" onclick="x()">')
    assert INLINE_SCRIPT.search("<script>alert(1)</script>")
    assert not INLINE_SCRIPT.search('<script src="/static/js/a.js" defer></script>')
    assert not INLINE_HANDLER.search('<form action="/x" hx-post="/y">')


@pytest.mark.django_db
def test_pages_api_replies_and_the_fast_lane_carry_the_same_policy(client, project, rater):
    client.force_login(rater)
    policies = {
        client.get(reverse("home"))["Content-Security-Policy"],
        client.get(reverse("login"))["Content-Security-Policy"],
        client.get(reverse("api:my-standing", args=[project.pk]))["Content-Security-Policy"],
    }
    token = Token.objects.create(user=rater).key
    lane = Wsgi(QueueFastLane(get_wsgi_application()))
    _, headers, _ = lane.post(f"/api/projects/{project.pk}/next/", authorization=f"Token {token}")
    policies.add(headers["Content-Security-Policy"])
    (policy,) = policies
    assert "script-src 'self'" in policy and "unsafe-eval" not in policy
    assert "script-src 'self' 'unsafe-inline'" not in policy


@pytest.mark.django_db
def test_the_api_docs_load_nothing_from_another_origin(client):
    page = client.get(reverse("api:docs")).content.decode()
    assert "https://" not in page and "http://" not in page
    (src,) = re.findall(r'<script src="([^"]+)"', page)
    assert src.startswith("/static/") and "redoc" in src
