"""What the Vox API returns, as typed records.

Each class mirrors one component of the server's OpenAPI document (GET /api/schema/) and
names it in its docstring. Fields the server always sends are required here; fields it
leaves out for some callers or some states default to None. Keys the client does not know
yet (a newer server) are ignored, so an upgrade of the server does not break old scripts.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Self

ImportStatus = Literal["preview", "queued", "running", "done", "failed", "cancelled"]
JobStatus = Literal["queued", "running", "done", "failed"]
ProjectKind = Literal[
    "single_choice",
    "multi_choice",
    "likert",
    "pairwise",
    "ranking",
    "demonstration",
    "span_tagging",
    "rubric",
]

# An import stops here; "preview" waits for a commit, which a wait cannot bring about.
IMPORT_FINISHED = ("done", "failed", "cancelled", "preview")
JOB_FINISHED = ("done", "failed")


def _time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


class _Record:
    _times: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        values = {k: v for k, v in data.items() if k in known}
        for name in cls._times:
            if name in values:
                values[name] = _time(values[name])
        return cls(**values)


@dataclass(frozen=True)
class Project(_Record):
    """OpenAPI `Project`. The counts of labels are a manager's: annotators get None.
    `role` ("manager" or "annotator") comes with a single project only."""

    id: int
    name: str
    kind: ProjectKind
    created_at: datetime
    n_items: int
    instructions: str = ""
    schema: dict[str, Any] = field(default_factory=dict)
    overlap: int = 3
    n_complete: int | None = None
    n_annotations: int | None = None
    role: str | None = None

    _times = ("created_at",)


@dataclass(frozen=True)
class ImportLineError(_Record):
    """One entry of `ImportJob.errors`: the line of the file (0 for the job itself), the
    field at fault (e.g. `labels[1].value.choice`, or `(line)` for the whole line)."""

    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = "the import" if self.line == 0 else f"line {self.line}"
        return f"{where}, field {self.field}: {self.message}"


@dataclass(frozen=True)
class ImportJob(_Record):
    """OpenAPI `ImportJob`. An import with any error saves nothing: `n_saved` stays 0."""

    id: int
    project: int
    filename: str
    percent: int
    created_at: datetime
    status: ImportStatus = "queued"
    stage: str = ""
    size_bytes: int = 0
    n_records: int = 0
    n_saved: int = 0
    n_created: int = 0
    n_duplicates: int = 0
    n_labels: int = 0
    errors: list[ImportLineError] = field(default_factory=list)
    finished_at: datetime | None = None

    _times = ("created_at", "finished_at")

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ImportJob:
        job = super().from_json(data)
        errors = [ImportLineError.from_json(e) for e in data.get("errors") or []]
        return dataclasses.replace(job, errors=errors)

    @property
    def is_finished(self) -> bool:
        return self.status in IMPORT_FINISHED


@dataclass(frozen=True)
class ExportJob(_Record):
    """OpenAPI `ExportJob`. `download` is the file's path on the server once it is done."""

    id: int
    project: int
    format: str
    percent: int
    created_at: datetime
    download: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    status: JobStatus = "queued"
    n_total: int = 0
    n_done: int = 0
    size_bytes: int = 0
    error: str = ""
    finished_at: datetime | None = None

    _times = ("created_at", "finished_at")

    @property
    def is_finished(self) -> bool:
        return self.status in JOB_FINISHED


@dataclass(frozen=True)
class AggregationRun(_Record):
    """OpenAPI `AggregationRun`. `is_current` marks the run whose labels exports carry."""

    id: int
    project: int
    method: str
    created_at: datetime
    parameters: dict[str, Any] = field(default_factory=dict)
    trigger: str = "manager"
    status: JobStatus = "queued"
    phase: str = "queued"
    percent: int = 0
    attempts: int = 0
    is_current: bool = False
    started_at: datetime | None = None
    finished_at: datetime | None = None
    timings: dict[str, Any] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)
    error: str = ""

    _times = ("created_at", "started_at", "finished_at")

    @property
    def is_finished(self) -> bool:
        return self.status in JOB_FINISHED


@dataclass(frozen=True)
class ItemResult(_Record):
    """OpenAPI `ItemResult`: one item's aggregate in one run. The shapes of `label` and
    `distribution` depend on the project's kind (the server's docs/aggregation.md)."""

    item_id: int
    external_id: str | None
    label: Any
    confidence: float | None = None
    # Share of the votes on the most common answer; None for one vote, or until the
    # dashboard job after the run has written it.
    agreement: float | None = None
    distribution: dict[str, Any] = field(default_factory=dict)
    n_votes: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RaterScore(_Record):
    """OpenAPI `RaterScore`: the newest snapshot of one rater's measured quality. A measure
    the project's kind or data cannot support is None."""

    id: int
    rater: str
    computed_at: datetime
    n_annotations: int = 0
    gold_n: int = 0
    gold_accuracy_mean: float | None = None
    gold_accuracy_lower: float | None = None
    agreement_with_aggregate: float | None = None
    kappa_mean: float | None = None
    agreement_penalises: bool = True
    ds_confusion: list[list[float]] | None = None
    ds_accuracy: float | None = None
    mace_competence: float | None = None
    # Rating kinds: each rating given (columns) against the final rating (rows), and the
    # quadratic-weighted kappa against it.
    ordinal_confusion: list[list[int]] | None = None
    ordinal_kappa: float | None = None
    ranking_tau: float | None = None
    duration_ms_median: float | None = None
    active_ms_median: float | None = None
    fast_fraction: float | None = None
    straightline_streak: int | None = None
    modal_share: float | None = None
    position_left: int | None = None
    position_right: int | None = None
    position_share_left: float | None = None
    position_p_value: float | None = None

    _times = ("computed_at",)


MODEL_RUN_FINISHED = ("done", "failed")


@dataclass(frozen=True)
class ModelRun(_Record):
    """OpenAPI `ModelRun`: a model's per-item probabilities over the schema's labels. A
    failed upload saved nothing; its `errors` name the lines and fields."""

    id: int
    name: str
    created_at: datetime
    version: str = ""
    source: str = "upload"
    created_by: str | None = None
    finished_at: datetime | None = None
    status: str = "queued"
    percent: int = 0
    labels: list[str] = field(default_factory=list)
    n_items: int = 0
    n_epochs: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)

    _times = ("created_at", "finished_at")

    @property
    def is_finished(self) -> bool:
        return self.status in MODEL_RUN_FINISHED
