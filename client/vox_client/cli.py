"""The `vox` command: a Vox server from a shell or a script.

Data goes to stdout (JSON with --json, JSON lines for results and exports), progress and
messages to stderr. Exit status: 0 done, 1 the server refused or a job failed (its message
is printed as the server gave it), 2 a usage or local file problem.
"""

from __future__ import annotations

import argparse
import dataclasses
import getpass
import json
import os
import sys
from datetime import datetime
from pathlib import Path

from vox_client.client import Client, VoxError

USAGE_ERROR = 2


class UsageError(Exception):
    pass


# --- Credentials ------------------------------------------------------------------------------


def credentials_path() -> Path:
    if os.environ.get("VOX_CONFIG"):
        return Path(os.environ["VOX_CONFIG"])
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "vox" / "credentials.json"


def credentials_save(url: str, token: str) -> Path:
    path = credentials_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    # Created owner-only before the token is written, so it is never readable by others.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump({"url": url, "token": token}, fh)
    return path


def client_for(args) -> Client:
    """Flags first, then VOX_URL and VOX_TOKEN, then what `vox login` saved."""
    saved: dict = {}
    path = credentials_path()
    if path.exists():
        try:
            saved = json.loads(path.read_text())
        except ValueError as exc:
            raise UsageError(f"{path} is not valid JSON ({exc}); run `vox login` again") from None
    url = args.url or os.environ.get("VOX_URL") or saved.get("url")
    token = os.environ.get("VOX_TOKEN") or saved.get("token")
    if not url:
        raise UsageError("no server: pass --url, set VOX_URL, or run `vox login`")
    if not token:
        raise UsageError("no token: set VOX_TOKEN or run `vox login`")
    return Client(url, token)


# --- Output -----------------------------------------------------------------------------------


def _plain(value):
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def emit(args, value, text: str) -> None:
    print(json.dumps(_plain(value), ensure_ascii=False) if args.json else text)


def note(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Progress:
    """One line on stderr per change of a job's state, or one redrawn line on a terminal."""

    def __init__(self, label: str, quiet: bool = False):
        self.label, self.quiet, self.last = label, quiet, None
        self.tty = sys.stderr.isatty()

    def __call__(self, job) -> None:
        # The stage says where a job is, or where it failed; once done it adds nothing.
        stage = getattr(job, "stage", "") or getattr(job, "phase", "")
        if job.status not in ("running", "failed"):
            stage = ""
        line = f"{self.label} {job.id}: {job.status}" + (f", {stage}" if stage else "")
        line += f" {job.percent}%"
        if self.quiet or line == self.last:
            return
        self.last = line
        end = "" if self.tty and not job.is_finished else "\n"
        print(("\r" if self.tty else "") + line, end=end, file=sys.stderr, flush=True)


# --- Commands ---------------------------------------------------------------------------------


def cmd_login(args) -> int:
    url = args.url or os.environ.get("VOX_URL")
    if not url:
        raise UsageError("pass --url or set VOX_URL")
    username = args.username or input("Username: ")
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = os.environ.get("VOX_PASSWORD") or getpass.getpass("Password: ")
    client = Client.login(url, username, password)
    if args.print_token:
        print(client.token)
    else:
        path = credentials_save(client.url, client.token)
        note(f"logged in to {client.url} as {username}; token saved in {path}")
    return 0


def _read_json(path: str):
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}, line {exc.lineno}, column {exc.colno}: {exc.msg}") from None


def cmd_project_create(args) -> int:
    """The file is a whole project ({"name", "kind", "schema", ...}) or, with --name and
    --kind, just its label schema; flags override the file."""
    spec = _read_json(args.file)
    if not isinstance(spec, dict):
        raise UsageError(f"{args.file}: expected a JSON object")
    if "kind" not in spec and "schema" not in spec:
        spec = {"schema": spec}
    for key in ("name", "kind", "instructions", "overlap"):
        if getattr(args, key) is not None:
            spec[key] = getattr(args, key)
    missing = [key for key in ("name", "kind") if not spec.get(key)]
    if missing:
        raise UsageError(
            f"{args.file}: no {' or '.join(missing)} (put it in the file or pass --{missing[0]})"
        )
    unknown = set(spec) - {"name", "kind", "schema", "instructions", "overlap"}
    if unknown:
        raise UsageError(f"{args.file}: unknown field {sorted(unknown)[0]}")
    project = client_for(args).project_create(**spec)
    emit(args, project, f"project {project.id} created: {project.name} ({project.kind})")
    return 0


def cmd_projects(args) -> int:
    projects = client_for(args).projects()
    lines = [f"{p.id}\t{p.kind}\t{p.n_items} items\t{p.name}" for p in projects]
    emit(args, projects, "\n".join(lines) or "no projects")
    return 0


def cmd_project_show(args) -> int:
    p = client_for(args).project(args.project)
    emit(args, p, f"{p.id}\t{p.kind}\t{p.n_items} items\t{p.name}\t(you: {p.role})")
    return 0


def _import_report(args, job) -> int:
    if job.status == "failed":
        for error in job.errors:
            note(str(error))
        note(f"import {job.id} failed with {len(job.errors)} error(s); nothing was saved")
        emit(args, job, f"import {job.id}: failed")
        return 1
    text = (
        f"import {job.id}: {job.status}, {job.n_created} items created, "
        f"{job.n_duplicates} duplicates, {job.n_labels} labels"
    )
    emit(args, job, text)
    return 0 if job.status in ("done", "preview", "queued", "running") else 1


def cmd_import(args) -> int:
    client = client_for(args)
    job = client.import_start(args.project, args.file, preview=args.preview)
    if not args.no_wait:
        job = client.import_wait(
            job, on_progress=Progress("import", args.quiet), timeout=args.timeout
        )
    return _import_report(args, job)


def cmd_wait(args) -> int:
    client = client_for(args)
    if args.what == "import":
        job = client.import_wait(
            args.id, on_progress=Progress("import", args.quiet), timeout=args.timeout
        )
        return _import_report(args, job)
    if args.what == "export":
        job = client.export_wait(
            args.id, on_progress=Progress("export", args.quiet), timeout=args.timeout
        )
        emit(args, job, f"export {job.id}: {job.status}, {job.size_bytes} bytes")
        return 0
    if args.project is None:
        raise UsageError("vox wait run needs the project: vox wait run RUN --project ID")
    run = client.aggregation_run(args.project, args.id)
    run = client.aggregation_wait(
        run, on_progress=Progress("run", args.quiet), timeout=args.timeout
    )
    emit(args, run, f"run {run.id} ({run.method}): {run.status}")
    return 0


def cmd_model_run(args) -> int:
    client = client_for(args)
    run = client.model_run_upload(
        args.project,
        args.file,
        name=args.name,
        version=args.version or "",
        ids_path=args.ids,
        epochs_path=args.epochs,
        id_field=args.id_field,
    )
    run = client.model_run_wait(
        args.project, run, on_progress=Progress("model run", args.quiet), timeout=args.timeout
    )
    return _model_run_report(args, run)


def cmd_noisy_cv(args) -> int:
    client = client_for(args)
    run = client.noisy_cv_start(args.project)
    run = client.model_run_wait(
        args.project, run, on_progress=Progress("noisy-cv", args.quiet), timeout=args.timeout
    )
    return _model_run_report(args, run)


def _model_run_report(args, run) -> int:
    text = f"model run {run.id} ({run.name}): {run.status}, {run.n_items} items"
    for e in run.errors[:20]:
        text += f"\n  line {e.get('line')}, field {e.get('field')}: {e.get('message')}"
    emit(args, run, text)
    return 0 if run.status == "done" else 1


def cmd_suspects(args) -> int:
    body = client_for(args).suspects(args.project, reason=args.reason or "", page=args.page)
    lines = [
        f"{r['rank']:>4}  item {r['item_id']}  {r['label']} (model: {r['model_label']})  "
        f"{', '.join(r['reasons'])}"
        for r in body.get("results", [])
    ]
    emit(args, body, "\n".join(lines) or body.get("note", "no suspects"))
    return 0


def cmd_formats(args) -> int:
    formats = client_for(args).export_formats()
    emit(args, formats, "\n".join(formats))
    return 0


def cmd_export(args) -> int:
    client = client_for(args)
    options = {"format": args.format, "annotations": not args.no_annotations, "ties": args.ties}
    to_stdout = args.output in (None, "-")
    dest = sys.stdout.buffer if to_stdout else Path(args.output)
    if args.stream:
        n = client.export_stream(args.project, dest, **options)
    else:
        job = client.export_start(args.project, **options)
        job = client.export_wait(
            job, on_progress=Progress("export", args.quiet), timeout=args.timeout
        )
        n = client.export_download(job, dest)
    if to_stdout:
        sys.stdout.flush()
    else:
        note(f"wrote {n} bytes to {args.output}")
    return 0


def cmd_aggregate(args) -> int:
    client = client_for(args)
    parameters = None
    if args.parameters is not None:
        try:
            parameters = json.loads(args.parameters)
        except json.JSONDecodeError as exc:
            raise UsageError(f"--parameters is not JSON: {exc}") from None
    run = client.aggregation_start(args.project, method=args.method, parameters=parameters)
    if not args.no_wait:
        run = client.aggregation_wait(
            run, on_progress=Progress("run", args.quiet), timeout=args.timeout
        )
    emit(args, run, f"run {run.id} ({run.method}): {run.status}")
    return 0


def cmd_runs(args) -> int:
    runs = client_for(args).aggregation_runs(args.project)
    lines = [
        f"{r.id}\t{r.method}\t{r.status}\t{'current' if r.is_current else ''}\t{r.created_at:%Y-%m-%d %H:%M}"
        for r in runs
    ]
    emit(args, runs, "\n".join(lines) or "no runs")
    return 0


def cmd_results(args) -> int:
    # Always JSON lines: results are data for the next program, however many there are.
    for result in client_for(args).aggregation_results(args.project, args.run):
        print(json.dumps(_plain(result), ensure_ascii=False))
    return 0


def _score(value) -> str:
    return "-" if value is None else f"{value:.3f}"


def cmd_scores(args) -> int:
    scores = client_for(args).rater_scores(args.project)
    lines = ["rater\tannotations\tgold_n\tgold_acc\tagreement\tds_accuracy"] + [
        f"{s.rater}\t{s.n_annotations}\t{s.gold_n}\t{_score(s.gold_accuracy_mean)}\t"
        f"{_score(s.agreement_with_aggregate)}\t{_score(s.ds_accuracy)}"
        for s in scores
    ]
    emit(args, scores, "\n".join(lines))
    return 0


# --- Arguments --------------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--url", help="the server, e.g. http://127.0.0.1:8000 (else VOX_URL)")
    common.add_argument("--json", action="store_true", help="print JSON instead of text")
    common.add_argument("--quiet", "-q", action="store_true", help="no progress lines")
    common.add_argument("--timeout", type=float, default=3600, help="seconds to wait for a job")

    top = argparse.ArgumentParser(prog="vox", description=__doc__.split("\n\n")[0])
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name, func, help):
        p = sub.add_parser(name, parents=[common], help=help, description=help)
        p.set_defaults(func=func)
        return p

    p = command("login", cmd_login, "trade a username and password for an API token and save it")
    p.add_argument("--username", "-u")
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    p.add_argument("--print-token", action="store_true", help="print the token, save nothing")

    command("projects", cmd_projects, "list your projects")
    p = command("project", cmd_project_show, "show one project")
    p.add_argument("project", type=int)

    p = command("create", cmd_project_create, "create a project from a JSON file")
    p.add_argument(
        "file", help='{"name", "kind", "schema", "instructions", "overlap"}, or a schema'
    )
    p.add_argument("--name")
    p.add_argument("--kind")
    p.add_argument("--instructions")
    p.add_argument("--overlap", type=int)

    p = command("import", cmd_import, "import items from JSONL, CSV or a JSON array")
    p.add_argument("project", type=int)
    p.add_argument("file")
    p.add_argument("--preview", action="store_true", help="hold it for a look before saving")
    p.add_argument("--no-wait", action="store_true", help="start it and return")

    p = command("wait", cmd_wait, "wait for an import, export or aggregation run to end")
    p.add_argument("what", choices=["import", "export", "run"])
    p.add_argument("id", type=int)
    p.add_argument("--project", type=int, help="the run's project (for runs)")

    command("formats", cmd_formats, "list the export formats the server offers")

    p = command("export", cmd_export, "export a project's items and labels")
    p.add_argument("project", type=int)
    p.add_argument("--format", "-f", default="items_jsonl", help="see `vox formats`")
    p.add_argument("--output", "-o", help="file to write (default: stdout)")
    p.add_argument("--no-annotations", action="store_true", help="leave out raw annotations")
    p.add_argument("--ties", choices=["exclude", "mark"], default="exclude")
    p.add_argument("--stream", action="store_true", help="stream now instead of a file job")

    p = command("aggregate", cmd_aggregate, "start an aggregation run and wait for it")
    p.add_argument("project", type=int)
    p.add_argument("--method", help="default: the project's method")
    p.add_argument("--parameters", help="the method's parameters, as JSON")
    p.add_argument("--no-wait", action="store_true", help="start it and return")

    p = command("model-run", cmd_model_run, "upload a model's probabilities and wait for them")
    p.add_argument("project", type=int)
    p.add_argument("file", help='JSONL lines {"item_id", "probs"}, or a .npy (n, K) with --ids')
    p.add_argument("--name", required=True)
    p.add_argument("--version")
    p.add_argument("--ids", help="for a .npy: the item ids, one a line")
    p.add_argument("--epochs", help="for a .npy: (epochs, n, K) probabilities per epoch")
    p.add_argument("--id-field", default="item_id", choices=["item_id", "external_id"])

    p = command("noisy-cv", cmd_noisy_cv, "fit Vox's own cross-validated model on the labels")
    p.add_argument("project", type=int)

    p = command("suspects", cmd_suspects, "list the labels the model run in use doubts most")
    p.add_argument("project", type=int)
    p.add_argument("--reason", help="only suspects with this reason")
    p.add_argument("--page", type=int, default=1)

    p = command("runs", cmd_runs, "list a project's aggregation runs")
    p.add_argument("project", type=int)

    p = command("results", cmd_results, "print a run's label per item as JSON lines")
    p.add_argument("project", type=int)
    p.add_argument("run", type=int)

    p = command("scores", cmd_scores, "show each rater's newest scores")
    p.add_argument("project", type=int)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except UsageError as exc:
        note(f"vox: {exc}")
        return USAGE_ERROR
    except VoxError as exc:
        note(f"vox: {exc}")
        return 1
    except KeyboardInterrupt:
        note("vox: interrupted")
        return 130
    except BrokenPipeError:
        return 0
    except OSError as exc:  # a local file: unreadable import, unwritable output
        note(f"vox: {exc}")
        return USAGE_ERROR


if __name__ == "__main__":
    sys.exit(main())
