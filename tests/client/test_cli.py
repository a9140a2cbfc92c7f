"""The `vox` command against a live server, from login to rater scores."""

import csv
import io
import json

import pytest
from rest_framework.authtoken.models import Token

from tasks.models import ImportJob, Item, Project
from tests.client.conftest import PASSWORD

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# Six items, three outside raters each. c0 and c1 always give the truth; c2 says "no"
# to everything, so it is wrong on the three "yes" items.
TRUTH = ["yes", "no", "yes", "no", "yes", "no"]


def records():
    for i, truth in enumerate(TRUTH):
        labels = [
            {"rater": "c0", "value": truth},
            {"rater": "c1", "value": truth},
            {"rater": "c2", "value": "no"},
        ]
        yield {"external_id": f"t{i}", "text": f"text {i}", "labels": labels}


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def ok(result):
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result


def refused(result):
    """The command failed the way a user should see it: a message, no traceback."""
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and result.stderr.strip()
    return result.stderr


def test_the_vox_command_takes_a_project_from_login_to_rater_scores(server, owner, vox, tmp_path):
    login = ok(
        vox(
            "login",
            "--url",
            server,
            "--username",
            "petra",
            "--password-stdin",
            input=PASSWORD + "\n",
        )
    )
    assert f"logged in to {server} as petra" in login.stderr
    saved = json.loads((tmp_path / "vox-credentials.json").read_text())
    assert saved == {"url": server, "token": Token.objects.get(user=owner).key}
    assert (tmp_path / "vox-credentials.json").stat().st_mode & 0o077 == 0

    spec = tmp_path / "project.json"
    spec.write_text(
        json.dumps(
            {
                "name": "Spam or not",
                "kind": "single_choice",
                "schema": {"choices": ["yes", "no"]},
                "overlap": 3,
            }
        )
    )
    project = json.loads(ok(vox("create", spec, "--json")).stdout)
    assert (project["name"], project["kind"], project["overlap"]) == (
        "Spam or not",
        "single_choice",
        3,
    )
    pid = project["id"]
    assert Project.objects.get(pk=pid).memberships.get(user=owner).role == "manager"

    # A bad line names itself and its field, and nothing of the file is saved.
    rows = list(records())
    rows[1]["labels"][0]["value"] = "maybe"
    bad = write_jsonl(tmp_path / "bad.jsonl", rows)
    stderr = refused(vox("import", pid, bad))
    assert "line 2, field labels[0].value: must be one of yes, no" in stderr
    assert "failed with 1 error(s); nothing was saved" in stderr
    assert not Item.objects.filter(project_id=pid).exists()
    assert ImportJob.objects.get(project_id=pid).status == "failed"

    good = write_jsonl(tmp_path / "good.jsonl", records())
    imported = ok(vox("import", pid, good, "--json"))
    job = json.loads(imported.stdout)
    assert (job["status"], job["n_created"], job["n_labels"]) == ("done", 6, 18)
    assert f"import {job['id']}: done" in imported.stderr  # the progress lines
    again = json.loads(ok(vox("wait", "import", job["id"], "--json")).stdout)
    assert again["id"] == job["id"] and again["status"] == "done"
    shown = json.loads(ok(vox("project", pid, "--json")).stdout)
    assert (shown["n_items"], shown["n_annotations"], shown["role"]) == (6, 18, "manager")

    # Every format the server offers is either written or refused with the server's reason.
    formats = ok(vox("formats")).stdout.split()
    assert {"items_jsonl", "items_csv", "preference_jsonl"} <= set(formats)
    for fmt in formats:
        out = tmp_path / f"export.{fmt}"
        result = vox("export", pid, "--format", fmt, "--output", out)
        if fmt in ("items_jsonl", "items_csv"):
            ok(result)
            assert f"wrote {out.stat().st_size} bytes" in result.stderr
        else:
            assert "type: " in refused(result)
    lines = [
        json.loads(line) for line in (tmp_path / "export.items_jsonl").read_text().splitlines()
    ]
    assert sorted(r["external_id"] for r in lines) == [f"t{i}" for i in range(6)]
    assert all(len(r["annotations"]) == 3 for r in lines)
    table = list(csv.DictReader(io.StringIO((tmp_path / "export.items_csv").read_text())))
    assert len(table) == 6
    streamed = ok(vox("export", pid, "--stream", "--no-annotations")).stdout.splitlines()
    assert len(streamed) == 6 and all("annotations" not in json.loads(r) for r in streamed)

    run = json.loads(ok(vox("aggregate", pid, "--method", "dawid_skene", "--json")).stdout)
    assert (run["method"], run["status"], run["is_current"]) == ("dawid_skene", "done", True)
    assert (
        json.loads(ok(vox("wait", "run", run["id"], "--project", pid, "--json")).stdout)["status"]
        == "done"
    )
    listed = ok(vox("runs", pid)).stdout
    assert f"{run['id']}\tdawid_skene\tdone\tcurrent" in listed

    results = [json.loads(line) for line in ok(vox("results", pid, run["id"])).stdout.splitlines()]
    assert [r["external_id"] for r in results] == [f"t{i}" for i in range(6)]
    assert [r["label"] for r in results] == TRUTH
    assert all(0.5 < r["confidence"] <= 1 for r in results)

    scores = {s["rater"]: s for s in json.loads(ok(vox("scores", pid, "--json")).stdout)}
    assert set(scores) == {"ext:c0", "ext:c1", "ext:c2"}
    assert all(s["n_annotations"] == 6 for s in scores.values())
    # The rater who says "no" to everything is the one measured as least accurate.
    assert scores["ext:c2"]["ds_accuracy"] < min(
        scores["ext:c0"]["ds_accuracy"], scores["ext:c1"]["ds_accuracy"]
    )
    text = ok(vox("scores", pid)).stdout
    assert text.splitlines()[0].startswith("rater\tannotations") and "ext:c2\t6\t" in text


def test_vox_takes_its_server_and_token_from_the_environment(server, owner, vox):
    token = Token.objects.create(user=owner)
    Project.objects.create(name="Elsewhere", kind="single_choice", schema={"choices": ["a", "b"]})
    result = ok(vox("projects", "--json", env={"VOX_URL": server, "VOX_TOKEN": token.key}))
    assert json.loads(result.stdout) == []  # a project the owner is not a member of stays hidden
    assert "no token" in vox("projects", env={"VOX_URL": server}).stderr


def test_the_servers_refusals_are_printed_as_messages_not_tracebacks(server, owner, vox, tmp_path):
    stderr = refused(
        vox("login", "--url", server, "-u", "petra", "--password-stdin", input="wrong\n")
    )
    assert "400 Bad Request" in stderr and "Unable to log in" in stderr
    assert "Invalid token." in refused(
        vox("projects", env={"VOX_URL": server, "VOX_TOKEN": "0" * 40})
    )
    assert "cannot reach http://127.0.0.1:9" in refused(
        vox("projects", env={"VOX_URL": "http://127.0.0.1:9", "VOX_TOKEN": "x"})
    )

    env = {"VOX_URL": server, "VOX_TOKEN": Token.objects.create(user=owner).key}
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps({"choices": ["only"]}))
    stderr = refused(
        vox("create", schema, "--name", "One choice", "--kind", "single_choice", env=env)
    )
    assert "400 Bad Request: choices" in stderr and not Project.objects.exists()
    assert "404" in refused(vox("export", 999999, env=env))

    # Local mistakes are usage errors (exit 2), named by file and line.
    schema.write_text('{"choices": ["a",\n "b"')
    broken = vox("create", schema, "--name", "x", "--kind", "single_choice", env=env)
    assert broken.returncode == 2 and f"{schema}, line 2" in broken.stderr
    missing = vox("import", 1, tmp_path / "nope.jsonl", env=env)
    assert (
        missing.returncode == 2
        and "nope.jsonl" in missing.stderr
        and "Traceback" not in missing.stderr
    )


def test_vox_uploads_a_model_run_says_which_line_is_wrong_and_lists_suspects(
    server, owner, vox, tmp_path
):
    from tasks.services import items_insert, project_create

    token = Token.objects.create(user=owner)
    env = {"VOX_URL": server, "VOX_TOKEN": token.key}
    project = project_create(
        user=owner, name="Topics", kind="single_choice", schema={"choices": ["yes", "no"]}
    )
    items_insert(project=project, records=[{"text": f"text {i}"} for i in range(3)])
    ids = list(Item.objects.filter(project=project).order_by("pk").values_list("pk", flat=True))
    good = write_jsonl(
        tmp_path / "probs.jsonl", [{"item_id": pk, "probs": [0.9, 0.1]} for pk in ids]
    )
    run = json.loads(
        ok(vox("model-run", project.pk, good, "--name", "bert", "--json", "-q", env=env)).stdout
    )
    assert (run["name"], run["status"], run["n_items"]) == ("bert", "done", 3)
    bad = write_jsonl(
        tmp_path / "bad.jsonl",
        [{"item_id": ids[0], "probs": [0.9, 0.1]}, {"item_id": ids[1], "probs": [0.9, 0.9]}],
    )
    stderr = refused(vox("model-run", project.pk, bad, "--name", "broken", env=env))
    assert "line 2" in stderr and "probs" in stderr
    listed = ok(vox("suspects", project.pk, "--json", env=env))
    assert "results" in json.loads(listed.stdout)
