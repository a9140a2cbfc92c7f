"""Managers add many members at once, and a bad line adds nobody."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from raters.models import Membership
from tests.factories import UserFactory


def test_a_manager_pastes_usernames_with_roles_and_each_joins_once(client, manager, project):
    for name in ("ann", "ben", "cat"):
        UserFactory(username=name)
    client.force_login(manager)
    page = client.get(reverse("tasks:project-detail", args=[project.pk])).content.decode()
    assert 'name="members-usernames"' in page and page.count('id="id_file"') == 1
    response = client.post(
        reverse("tasks:members-add", args=[project.pk]),
        {"members-usernames": "ann\n\nben,manager\r\nann\ncat", "members-role": "annotator"},
        follow=True,
    )
    assert "3 members added." in response.content.decode()
    roles = dict(
        Membership.objects.filter(
            project=project, user__username__in=["ann", "ben", "cat"]
        ).values_list("user__username", "role")
    )
    assert roles == {"ann": "annotator", "ben": "manager", "cat": "annotator"}


def test_an_unknown_name_or_role_is_named_by_line_and_nobody_is_added(client, manager, project):
    UserFactory(username="ann")
    client.force_login(manager)
    url = reverse("tasks:members-add", args=[project.pk])
    for text, message in (
        ("ann\nzed", "line 2: no user named &#x27;zed&#x27;"),
        ("ann,boss", "line 1: role must be one of manager, annotator"),
    ):
        page = client.post(
            url, {"members-usernames": text, "members-role": "annotator"}, follow=True
        ).content.decode()
        assert f"Nobody was added. {message}" in page
    assert not Membership.objects.filter(project=project, user__username="ann").exists()


def test_usernames_come_from_an_uploaded_file_too(client, manager, project):
    UserFactory(username="dan")
    client.force_login(manager)
    upload = SimpleUploadedFile("people.csv", "\ufeffdan,annotator\n".encode())
    client.post(
        reverse("tasks:members-add", args=[project.pk]),
        {"members-file": upload, "members-role": "manager"},
    )
    assert Membership.objects.get(project=project, user__username="dan").role == "annotator"


def test_someone_who_is_not_the_manager_cannot_add_members(client, rater, project):
    UserFactory(username="eve")
    client.force_login(rater)
    response = client.post(
        reverse("tasks:members-add", args=[project.pk]),
        {"members-usernames": "eve", "members-role": "manager"},
    )
    assert response.status_code == 404
    assert not Membership.objects.filter(user__username="eve").exists()
