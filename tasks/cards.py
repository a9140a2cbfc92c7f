"""Dataset cards: the README that sits beside an export.

A dataset hub reads a README.md with YAML front matter (license, pretty name, the files of
each split) and Markdown below it. The card names what a reader of the data needs and the
file itself cannot say: how many items, answers and raters went into it, how labels were
aggregated, under which guideline version, the label schema, and what each field means.
Vox does not know the license of the items a team imported, so the card says so instead
of guessing one.
"""

from __future__ import annotations

import json

from django.db.models import Count
from django.http import Http404
from django.utils import timezone

from tasks import kinds
from tasks.export import ExportOptions, export_stream
from tasks.models import ExportJob, Guideline

# What the rows of each format hold, in a sentence each, for the card's Fields section.
FIELDS = {
    "items_jsonl": "one row per item: data, meta, label and label_source, votes, soft_label, "
    "confidence, agreement, raters (pseudonyms), guideline_versions, run_id, method",
    "items_csv": "one row per item: the item's fields, meta, the label, vote counts, "
    "label_source and n_annotations",
    "preference_jsonl": "TRL preference rows: prompt, chosen, rejected (text, or message "
    "lists when conversational), margin, agreement (share who preferred chosen), n_raters, "
    "item_agreement, confidence, soft_label, raters, guideline_versions, run_id, method, meta",
    "unpaired_jsonl": "TRL unpaired preference (KTO) rows: prompt, completion, label, with "
    "the pair's provenance",
    "sft_messages": "TRL conversational SFT rows: messages (the prompt's turns and the "
    "rater's demonstration as the assistant's turn), meta, rater, guideline_version",
}


def _yaml_str(text: str) -> str:
    # JSON strings are valid YAML scalars, and quote whatever a project name holds.
    return json.dumps(text, ensure_ascii=False)


def export_card(job: ExportJob) -> str:
    """The card of a finished export whose file is still kept; Http404 otherwise. Both the
    page's link and the API's endpoint serve it through here."""
    if job.status != ExportJob.Status.DONE or not job.file:
        raise Http404
    return dataset_card(
        job.project,
        ExportOptions(format=job.format, **job.options),
        file_name=job.file.name.rsplit("/", 1)[-1],
        n_rows=job.n_rows,
        made_on=job.finished_at or job.created_at,
    )


def download_card(project, options: ExportOptions) -> str:
    """The card of a small project's download (streamed at once, without a job): the file
    is written again to count its rows, as the job counts the lines it writes."""
    n_rows = sum(piece.count("\n") for piece in export_stream(project, options))
    return dataset_card(
        project,
        options,
        file_name=f"vox-project-{project.pk}-{options.filename_suffix}",
        n_rows=n_rows,
        made_on=timezone.now(),
    )


def dataset_card(project, options: ExportOptions, *, file_name: str, n_rows: int, made_on) -> str:
    """The README.md for an export file `file_name` of `n_rows` rows (lines of the file)."""
    from aggregation.selectors import aggregation_run_current
    from annotation.models import Annotation

    label_kind = kinds.get(project.kind)
    answers = Annotation.objects.filter(project=project, item__is_gold=False).aggregate(
        n=Count("id"), raters=Count("rater", distinct=True)
    )
    n_gold = project.items.filter(is_gold=True).count()
    run = aggregation_run_current(project)
    guideline = Guideline.objects.filter(project=project).order_by("-version").first()
    front = [
        "---",
        "license: other",
        f"pretty_name: {_yaml_str(project.name)}",
        "tags:",
        "- vox",
        "- human-feedback",
        "configs:",
        "- config_name: default",
        "  data_files:",
        "  - split: train",
        f"    path: {_yaml_str(file_name)}",
        "---",
    ]
    aggregation = (
        f"Labels are the current aggregation run (run {run.pk}, method `{run.method}`, "
        f"finished {run.finished_at:%Y-%m-%d %H:%M} UTC); where a reviewer decided an item, "
        "their label overrides it (`label_source: adjudicated`), and before any run the "
        "raters' vote stands (`label_source: vote`)."
        if run is not None and run.finished_at is not None
        else "No aggregation run had finished: labels are the raters' vote (`label_source: vote`)."
    )
    gold = (
        f"{n_gold} gold items (checks on raters) are marked `is_gold` in item files and "
        "left out of training files."
        if n_gold
        else "The project has no gold items."
    )
    body = [
        f"# {project.name}",
        "",
        f"Human labels collected with Vox: a {label_kind.label.lower()} project, exported "
        f"as `{options.format}` on {made_on:%Y-%m-%d}.",
        "",
        "## Counts",
        "",
        f"- rows in `{file_name}`: {n_rows:,}",
        f"- items: {project.n_items:,} ({project.overlap} rater"
        f"{'s' if project.overlap != 1 else ''} asked per item)",
        f"- answers: {answers['n']:,} from {answers['raters']:,} raters (named by pseudonym only)",
        f"- {gold}",
        "",
        "## How the labels were made",
        "",
        aggregation,
        "",
        f"Guidelines: version {guideline.version}." if guideline else "Guidelines: none published.",
        "",
        "## Fields",
        "",
        FIELDS.get(options.format, f"rows of the {options.format} format; see the Vox docs."),
        "",
        "## Label schema",
        "",
        "```json",
        json.dumps({"kind": project.kind, "schema": project.schema}, indent=2, ensure_ascii=False),
        "```",
        "",
        "## License",
        "",
        "The items are the project team's, under whatever terms they came with; set the "
        "`license` above before publishing.",
        "",
    ]
    return "\n".join(front + [""] + body)
