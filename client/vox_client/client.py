"""The Vox API over HTTP, one method per thing a script does.

Every call that the server refuses raises VoxError with the server's own message (DRF's
`{"detail": ...}` or `{"field": ["message"]}`), so callers can print it as it is.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import requests

from vox_client.models import (
    AggregationRun,
    ExportJob,
    ImportJob,
    ItemResult,
    ModelRun,
    Project,
    RaterScore,
)

DEFAULT_TIMEOUT = 60.0
CHUNK = 1 << 16


class VoxError(Exception):
    """The server refused a request, or could not be reached (status is then None)."""

    def __init__(self, message: str, *, status: int | None = None, body: Any = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.body = body

    def __str__(self) -> str:
        return self.message


class JobFailed(VoxError):
    """A job (import, export, aggregation run) ended without its result."""

    def __init__(self, message: str, job):
        super().__init__(message)
        self.job = job


def error_message(body: Any) -> str:
    """DRF's error bodies as one line per field: `field: message`."""
    if isinstance(body, dict):
        if set(body) == {"detail"}:
            return str(body["detail"])
        if {"line", "field", "message"} <= set(body):  # a line of a file Vox refused
            return f"line {body['line']}, field {body['field']}: {body['message']}"
        lines = []
        for key, value in body.items():
            messages = value if isinstance(value, list) else [value]
            for message in messages:
                text = error_message(message) if isinstance(message, dict) else str(message)
                lines.append(text if key in ("detail", "non_field_errors") else f"{key}: {text}")
        return "\n".join(lines)
    if isinstance(body, list):
        return "\n".join(error_message(b) for b in body)
    return str(body)


class Client:
    """A session with one Vox server, authenticated by an API token.

    >>> vox = Client.login("http://127.0.0.1:8000", "mona", "secret")
    >>> project = vox.project_create(name="Toxicity", kind="single_choice",
    ...                              schema={"choices": ["toxic", "fine"]})
    """

    def __init__(self, url: str, token: str | None = None, *, timeout: float = DEFAULT_TIMEOUT):
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.http = requests.Session()
        self.http.headers["Accept"] = "application/json"
        if token:
            self.http.headers["Authorization"] = f"Token {token}"

    @classmethod
    def login(cls, url: str, username: str, password: str, **kwargs) -> Client:
        """Trade a username and password for the user's API token (POST /api/token/)."""
        client = cls(url, **kwargs)
        body = client._json(
            "POST", "/api/token/", json={"username": username, "password": password}
        )
        return cls(url, body["token"], **kwargs)

    @classmethod
    def from_env(cls, **kwargs) -> Client:
        """VOX_URL and VOX_TOKEN from the environment."""
        url, token = os.environ.get("VOX_URL"), os.environ.get("VOX_TOKEN")
        if not url or not token:
            raise VoxError("set VOX_URL and VOX_TOKEN (or run `vox login`)")
        return cls(url, token, **kwargs)

    # --- HTTP -----------------------------------------------------------------------------

    def _request(self, method: str, path: str, **kwargs) -> requests.Response:
        url = self.url + path
        kwargs.setdefault("timeout", self.timeout)
        try:
            response = self.http.request(method, url, **kwargs)
        except requests.RequestException as exc:
            raise VoxError(f"cannot reach {self.url}: {exc}") from None
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = response.text.strip()[:500] or response.reason
            raise VoxError(
                f"{response.status_code} {response.reason}: {error_message(body)}",
                status=response.status_code,
                body=body,
            )
        return response

    def _json(self, method: str, path: str, **kwargs) -> Any:
        response = self._request(method, path, **kwargs)
        try:
            return response.json()
        except ValueError:
            raise VoxError(
                f"{method} {path} answered {response.status_code} without JSON",
                status=response.status_code,
            ) from None

    def _pages(self, path: str, *, limit: int = 1000) -> Iterator[dict]:
        """Every row of a limit/offset paginated list, a page at a time. Offsets are
        counted here rather than following `next`, whose host is whatever the server
        believes it is called (behind a proxy, not always the address used here)."""
        offset = 0
        while True:
            page = self._json("GET", path, params={"limit": limit, "offset": offset})
            yield from page["results"]
            offset += len(page["results"])
            if not page["next"] or not page["results"]:
                return

    def _download(self, path: str, dest: Path | BinaryIO, params=None) -> int:
        response = self._request("GET", path, params=params, stream=True)
        written = 0
        with response:
            if isinstance(dest, Path):
                with dest.open("wb") as fh:
                    for chunk in response.iter_content(CHUNK):
                        written += fh.write(chunk)
            else:
                for chunk in response.iter_content(CHUNK):
                    written += dest.write(chunk)
        return written

    @staticmethod
    def _wait(fetch: Callable, job, *, on_progress=None, timeout: float, interval: float):
        deadline = time.monotonic() + timeout
        while True:
            if on_progress is not None:
                on_progress(job)
            if job.is_finished:
                return job
            if time.monotonic() > deadline:
                raise JobFailed(
                    f"gave up after {timeout:g} s: job {job.id} is still {job.status}", job
                )
            time.sleep(interval)
            job = fetch(job)

    # --- Projects -------------------------------------------------------------------------

    def projects(self) -> list[Project]:
        return [Project.from_json(p) for p in self._json("GET", "/api/projects/")]

    def project(self, project_id: int) -> Project:
        return Project.from_json(self._json("GET", f"/api/projects/{project_id}/"))

    def project_create(
        self,
        *,
        name: str,
        kind: str,
        schema: dict | None = None,
        instructions: str = "",
        overlap: int | None = None,
    ) -> Project:
        body: dict[str, Any] = {"name": name, "kind": kind, "schema": schema or {}}
        body["instructions"] = instructions
        if overlap is not None:
            body["overlap"] = overlap
        return Project.from_json(self._json("POST", "/api/projects/", json=body))

    # --- Imports --------------------------------------------------------------------------

    def import_start(
        self, project_id: int, path: str | Path, *, preview: bool = False
    ) -> ImportJob:
        """Upload a JSONL, CSV or JSON-array file; the server checks and saves it as a job.
        The file type comes from its name (.jsonl, .ndjson, .csv, .json)."""
        path = Path(path)
        with path.open("rb") as fh:
            body = self._json(
                "POST",
                f"/api/projects/{project_id}/imports/",
                files={"file": (path.name, fh)},
                data={"preview": "true" if preview else "false"},
            )
        return ImportJob.from_json(body)

    def import_get(self, import_id: int) -> ImportJob:
        return ImportJob.from_json(self._json("GET", f"/api/imports/{import_id}/"))

    def import_wait(
        self, job: ImportJob | int, *, on_progress=None, timeout: float = 3600, interval=0.5
    ) -> ImportJob:
        """Poll until the import is done, failed, cancelled or held for preview. A failed
        import is returned, not raised: its `errors` say which lines to fix."""
        job = self.import_get(job) if isinstance(job, int) else job
        fetch = lambda j: self.import_get(j.id)  # noqa: E731
        return self._wait(fetch, job, on_progress=on_progress, timeout=timeout, interval=interval)

    # --- Model runs -----------------------------------------------------------------------

    def model_run_upload(
        self,
        project_id: int,
        path: str | Path,
        *,
        name: str,
        version: str = "",
        ids_path: str | Path | None = None,
        epochs_path: str | Path | None = None,
        id_field: str = "item_id",
    ) -> ModelRun:
        """Upload a model's predicted probabilities: JSONL lines {"item_id" or
        "external_id", "probs", optional "epochs"}, or a .npy (n, K) with `ids_path` (one
        id a line) and optionally `epochs_path`. Refused uploads raise VoxError naming the
        lines; big ones load as a job (wait with model_run_wait)."""
        files = {"file": Path(path)}
        if ids_path is not None:
            files["ids_file"] = Path(ids_path)
        if epochs_path is not None:
            files["epochs_file"] = Path(epochs_path)
        handles = {k: p.open("rb") for k, p in files.items()}
        try:
            body = self._json(
                "POST",
                f"/api/projects/{project_id}/model-runs/",
                files={k: (files[k].name, fh) for k, fh in handles.items()},
                data={"name": name, "version": version, "id_field": id_field},
            )
        finally:
            for fh in handles.values():
                fh.close()
        return ModelRun.from_json(body)

    def model_run(self, project_id: int, run_id: int) -> ModelRun:
        return ModelRun.from_json(
            self._json("GET", f"/api/projects/{project_id}/model-runs/{run_id}/")
        )

    def model_run_wait(
        self, project_id: int, run: ModelRun | int, *, on_progress=None, timeout=3600, interval=0.5
    ) -> ModelRun:
        run = self.model_run(project_id, run) if isinstance(run, int) else run
        fetch = lambda r: self.model_run(project_id, r.id)  # noqa: E731
        return self._wait(fetch, run, on_progress=on_progress, timeout=timeout, interval=interval)

    def noisy_cv_start(self, project_id: int) -> ModelRun:
        """Start Vox's own noisy cross-validation (TF-IDF and logistic regression on the
        current labels); wait for it with model_run_wait."""
        return ModelRun.from_json(
            self._json("POST", f"/api/projects/{project_id}/model-runs/noisy-cv/")
        )

    def suspects(self, project_id: int, *, reason: str = "", page: int = 1) -> dict[str, Any]:
        """The labels the model run in use doubts most, ranked, with their reasons."""
        params = {"page": page, **({"reason": reason} if reason else {})}
        return self._json("GET", f"/api/projects/{project_id}/suspects/", params=params)

    # --- Exports --------------------------------------------------------------------------

    def export_formats(self) -> list[str]:
        """The export formats this server offers, read from its OpenAPI document."""
        schema = self._json("GET", "/api/schema/", params={"format": "json"})
        components = schema["components"]["schemas"]
        ref = components["ExportRequest"]["properties"]["type"]
        ref = ref.get("allOf", [ref])[0].get("$ref", "")
        return list(components[ref.rsplit("/", 1)[-1]]["enum"])

    def export_start(
        self, project_id: int, *, format: str = "items_jsonl", annotations=True, ties="exclude"
    ) -> ExportJob:
        """Ask the server to write an export file as a job; `export_wait` then fetch it."""
        body = {"type": format, "annotations": annotations, "ties": ties}
        return ExportJob.from_json(
            self._json("POST", f"/api/projects/{project_id}/exports/", json=body)
        )

    def export_get(self, export_id: int) -> ExportJob:
        return ExportJob.from_json(self._json("GET", f"/api/exports/{export_id}/"))

    def export_wait(
        self, job: ExportJob | int, *, on_progress=None, timeout: float = 3600, interval=0.5
    ) -> ExportJob:
        job = self.export_get(job) if isinstance(job, int) else job
        fetch = lambda j: self.export_get(j.id)  # noqa: E731
        job = self._wait(fetch, job, on_progress=on_progress, timeout=timeout, interval=interval)
        if job.status == "failed":
            raise JobFailed(f"export {job.id} failed: {job.error or 'no reason given'}", job)
        return job

    def export_download(self, job: ExportJob | int, dest: Path | BinaryIO) -> int:
        """Write a finished export's file to dest; returns the bytes written."""
        job = self.export_get(job) if isinstance(job, int) else job
        if not job.download:
            raise VoxError(f"export {job.id} has no file (it is {job.status})")
        return self._download(job.download, dest)

    def export_stream(
        self,
        project_id: int,
        dest: Path | BinaryIO,
        *,
        format: str = "items_jsonl",
        annotations=True,
        ties="exclude",
    ) -> int:
        """Stream an export straight from the server, with no job and no stored file."""
        params = {"type": format, "annotations": str(annotations).lower(), "ties": ties}
        return self._download(f"/api/projects/{project_id}/export/", dest, params=params)

    # --- Aggregation ----------------------------------------------------------------------

    def aggregation_start(
        self, project_id: int, *, method: str | None = None, parameters: dict | None = None
    ) -> AggregationRun:
        """Queue a run (the project's default method when None). A request while the same
        method is queued returns that run."""
        body: dict[str, Any] = {}
        if method:
            body["method"] = method
        if parameters is not None:
            body["parameters"] = parameters
        path = f"/api/projects/{project_id}/aggregation-runs/"
        return AggregationRun.from_json(self._json("POST", path, json=body))

    def aggregation_runs(self, project_id: int) -> list[AggregationRun]:
        """The project's runs, newest first."""
        path = f"/api/projects/{project_id}/aggregation-runs/"
        return [AggregationRun.from_json(r) for r in self._pages(path)]

    def aggregation_run(self, project_id: int, run_id: int) -> AggregationRun:
        path = f"/api/projects/{project_id}/aggregation-runs/{run_id}/"
        return AggregationRun.from_json(self._json("GET", path))

    def aggregation_wait(
        self, run: AggregationRun, *, on_progress=None, timeout: float = 3600, interval=0.5
    ) -> AggregationRun:
        fetch = lambda r: self.aggregation_run(r.project, r.id)  # noqa: E731
        run = self._wait(fetch, run, on_progress=on_progress, timeout=timeout, interval=interval)
        if run.status == "failed":
            raise JobFailed(f"aggregation run {run.id} failed: {run.error or 'no reason'}", run)
        return run

    def aggregation_results(self, project_id: int, run_id: int) -> Iterator[ItemResult]:
        """The run's label per item, in item order, fetched a page at a time."""
        path = f"/api/projects/{project_id}/aggregation-runs/{run_id}/results/"
        return (ItemResult.from_json(r) for r in self._pages(path))

    def rater_scores(self, project_id: int) -> list[RaterScore]:
        """Each rater's newest quality snapshot, by username."""
        rows = self._json("GET", f"/api/projects/{project_id}/rater-scores/")
        return [RaterScore.from_json(r) for r in rows]
