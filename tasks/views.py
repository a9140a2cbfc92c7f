import json
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from config import jsonbody
from config.converters import posted_ids
from tasks import kinds
from tasks import schema as schemas
from tasks.cards import download_card
from tasks.cards import export_card as export_card_text
from tasks.export import FORMATS, ExportOptions, ExportRefused, export_jsonl, export_stream
from tasks.forms import (
    ExportForm,
    GuidelineForm,
    ImportForm,
    MemberAddForm,
    MembersAddForm,
    ProjectForm,
    field_label,
    schema_from_post,
)
from tasks.kinds.keys import item_fields
from tasks.markdown import render_markdown
from tasks.selectors import (
    BROWSE_STATES,
    annotations_by_rater,
    browse_cursor_parse,
    export_for_manager,
    guideline_ack_status,
    guideline_current,
    guideline_pending_for,
    import_for_manager,
    item_change_refusal,
    item_filters_parse,
    item_for_manager,
    items_browse,
    project_for_manager,
    project_for_user,
    project_list_with_roles,
    project_members,
    user_can_create_projects,
)
from tasks.services import BULK_ACTIONS as SERVICE_BULK_ACTIONS
from tasks.services import (
    ImportRejected,
    ItemHasAnswers,
    export_create,
    guideline_ack,
    guideline_publish,
    import_cancel,
    import_commit,
    import_create,
    import_preview,
    item_delete,
    item_update,
    items_bulk_apply,
    members_add,
    membership_add,
    project_create,
    project_update,
)

BY_RATER_INLINE_MAX = 100_000


@login_required
def home(request):
    return render(
        request,
        "tasks/home.html",
        {
            "projects": project_list_with_roles(request.user),
            "can_create": user_can_create_projects(request.user),
        },
    )


# --- Project and schema editor --------------------------------------------------------------


def _schema_defaults(kind: str) -> dict:
    try:
        return schemas.schema_validate(kind, {})
    except schemas.SchemaError:
        return {}  # choice kinds have no default choices


def _schema_context(kind: str, schema: dict | None, *, locked_kind: bool = False) -> dict:
    label_kind = kinds.get(kind)
    schema = {**_schema_defaults(kind), **(schema or {})}
    return {
        "kind": kind,
        "kinds": schemas.KIND_LABELS.items(),
        "schema_template": label_kind.schema_template,
        "s": schema,
        "locked_kind": locked_kind,
        **label_kind.schema_editor_context(schema),
    }


def _schema_error(form, exc: schemas.SchemaError) -> None:
    form.add_error(None, f"{field_label(exc.field)}: {exc.message}")


@login_required
def project_new(request):
    if not user_can_create_projects(request.user):
        raise Http404
    form = ProjectForm(request.POST or None)
    kind = request.POST.get("kind") or request.GET.get("kind") or schemas.SINGLE_CHOICE
    if kind not in schemas.KINDS:
        kind = schemas.SINGLE_CHOICE
    schema = schema_from_post(kind, request.POST) if request.method == "POST" else None
    if request.method == "POST" and form.is_valid():
        try:
            project = project_create(
                user=request.user,
                name=form.cleaned_data["name"],
                kind=kind,
                schema=schema,
                instructions=form.cleaned_data["instructions"],
                overlap=form.cleaned_data["overlap"],
            )
        except schemas.SchemaError as exc:
            _schema_error(form, exc)
        else:
            return redirect("tasks:project-detail", project_id=project.pk)
    return render(
        request,
        "tasks/project-form.html",
        {"form": form, "project": None, **_schema_context(kind, schema)},
    )


@login_required
def project_settings(request, project_id):
    project = project_for_manager(request.user, project_id)
    started = project.n_annotations > 0
    if request.method == "POST":
        form = ProjectForm(request.POST)
        kind = request.POST.get("kind") or project.kind
        kind_error = None
        if kind not in schemas.KINDS:
            # Say so, and keep the editor of the project's own kind on screen.
            kind_error = schemas.SchemaError("kind", f"must be one of {', '.join(schemas.KINDS)}")
            kind = project.kind
        schema = schema_from_post(kind, request.POST)
        if not form.is_valid() and kind_error is not None:
            _schema_error(form, kind_error)
        elif form.is_valid():
            try:
                project_update(
                    project=project,
                    kind=kind,
                    schema=schema,
                    name=form.cleaned_data["name"],
                    instructions=form.cleaned_data["instructions"],
                    overlap=form.cleaned_data["overlap"],
                )
            except schemas.SchemaError as exc:
                _schema_error(form, exc)
            else:
                messages.success(request, "Project settings saved.")
                return redirect("tasks:project-detail", project_id=project.pk)
    else:
        form = ProjectForm(
            initial={
                "name": project.name,
                "kind": project.kind,
                "instructions": project.instructions,
                "overlap": project.overlap,
            }
        )
        kind, schema = project.kind, project.schema
    return render(
        request,
        "tasks/project-form.html",
        {
            "form": form,
            "project": project,
            "started": started,
            **_schema_context(kind, schema, locked_kind=project.n_items > 0),
        },
    )


@login_required
def schema_fields(request):
    """The schema editor's fields for one kind (swapped in when the kind changes)."""
    kind = request.GET.get("kind")
    if kind not in schemas.KINDS:
        raise Http404
    return render(request, "tasks/project-form.html#schema-fields", _schema_context(kind, None))


@login_required
def schema_row(request):
    """One blank row of a repeated group: a choice, a Likert dimension or a pairwise flag."""
    row = request.GET.get("row")
    templates = {
        name: template
        for kind in kinds.KINDS
        for name, template in kinds.get(kind).schema_rows.items()
    }
    if row not in templates:
        raise Http404
    return render(request, templates[row], {"row": {}})


@login_required
def project_detail(request, project_id):
    project = project_for_manager(request.user, project_id)
    return render(
        request,
        "tasks/project-detail.html",
        {
            "project": project,
            "members": project_members(project),
            "guideline": guideline_current(project),
            "imports": project.imports.exclude(status="cancelled")[:10],
            "exports": project.exports.all()[:5],
            "member_form": MemberAddForm(),
            "members_form": MembersAddForm(prefix="members"),
            "import_form": ImportForm(),
            "export_form": ExportForm(),
            "item_fields": item_fields(kinds.get(project.kind)),
            # Small projects download at once, so their card comes from the form too.
            "small_export": project.n_items <= settings.VOX_EXPORT_STREAM_MAX_ITEMS,
            "preference_ok": kinds.get(project.kind).makes_preferences,
            "kind_formats": [
                (fmt, title)
                for fmt, (title, _, _) in kinds.get(project.kind).export_formats.items()
            ],
            # Counting a big project's annotations per rater takes a while: then the table
            # loads after the page, which renders from kept counters alone.
            "by_rater": annotations_by_rater(project)
            if project.n_annotations <= BY_RATER_INLINE_MAX
            else None,
        },
    )


@login_required
def project_by_rater(request, project_id):
    """Per-annotator counts, loaded after the page so a big project's page renders at once."""
    project = project_for_manager(request.user, project_id)
    return render(
        request,
        "tasks/project-detail.html#by-rater",
        {"project": project, "by_rater": annotations_by_rater(project)},
    )


@require_POST
@login_required
def member_add(request, project_id):
    project = project_for_manager(request.user, project_id)
    form = MemberAddForm(request.POST)
    if form.is_valid():
        try:
            membership_add(project=project, **form.cleaned_data)
        except schemas.SchemaError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request, f"{form.cleaned_data['username']} added as {form.cleaned_data['role']}."
            )
    return redirect("tasks:project-detail", project_id=project.pk)


@require_POST
@login_required
def members_add_many(request, project_id):
    project = project_for_manager(request.user, project_id)
    form = MembersAddForm(request.POST, request.FILES, prefix="members")
    if not form.is_valid():
        messages.error(request, "Choose a role.")
        return redirect("tasks:project-detail", project_id=project.pk)
    try:
        added = members_add(project=project, text=form.text(), role=form.cleaned_data["role"])
    except (schemas.SchemaError, forms.ValidationError) as exc:
        problem = (
            f"{exc.field}: {exc.message}"
            if isinstance(exc, schemas.SchemaError)
            else exc.messages[0]
        )
        messages.error(request, f"Nobody was added. {problem}")
    else:
        messages.success(request, f"{len(added)} member{'s' if len(added) != 1 else ''} added.")
    return redirect("tasks:project-detail", project_id=project.pk)


# --- Import ---------------------------------------------------------------------------------


@require_POST
@login_required
def import_new(request, project_id):
    project = project_for_manager(request.user, project_id)
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "Choose a file to import.")
        return redirect("tasks:project-detail", project_id=project.pk)
    try:
        job = import_create(
            project=project, user=request.user, upload=form.cleaned_data["file"], preview=True
        )
    except ImportRejected as exc:
        messages.error(request, str(exc))
        return redirect("tasks:project-detail", project_id=project.pk)
    return redirect("tasks:import-preview", import_id=job.pk)


@login_required
def import_preview_page(request, import_id):
    job = import_for_manager(request.user, import_id)
    if request.method == "POST":
        if request.POST.get("action") == "cancel":
            import_cancel(job=job)
            messages.info(request, f"Import of {job.filename} cancelled; nothing was saved.")
        else:
            import_commit(job=job)
            messages.success(request, "Import started. You can leave this page; it goes on.")
        return redirect("tasks:project-detail", project_id=job.project_id)
    if job.status != job.Status.PREVIEW:
        return redirect("tasks:project-detail", project_id=job.project_id)
    preview = import_preview(job=job)
    fields = [f["field"] for f in preview["fields"]]
    rows = [
        {
            "line": r["line"],
            "cells": [_preview_cell(r["record"], f) for f in fields],
        }
        for r in preview["rows"]
    ]
    return render(
        request,
        "tasks/import-preview.html",
        {"job": job, "project": job.project, "preview": preview, "rows": rows},
    )


def _preview_cell(record, field: str) -> str:
    if not isinstance(record, dict) or field not in record:
        return "—"
    value = record[field]
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= 160 else text[:160] + "…"


@login_required
def import_status(request, import_id):
    job = import_for_manager(request.user, import_id)
    # A finished import also updates the page's counters, which were drawn before it.
    context = {"job": job, "oob_counts": job.is_finished}
    return render(request, "tasks/project-detail.html#import-row", context)


# --- Export ---------------------------------------------------------------------------------


def _export_response(project, options: ExportOptions):
    ext, content_type = FORMATS[options.format]
    response = StreamingHttpResponse(export_stream(project, options), content_type=content_type)
    response["Content-Disposition"] = (
        f'attachment; filename="vox-project-{project.pk}-{options.filename_suffix}"'
    )
    return response


@login_required
def project_export(request, project_id):
    """Every item with its raw annotations, as JSON lines, streamed."""
    project = project_for_manager(request.user, project_id)
    response = StreamingHttpResponse(export_jsonl(project), content_type="application/x-ndjson")
    response["Content-Disposition"] = f'attachment; filename="vox-project-{project.pk}.jsonl"'
    return response


def _download_options(request, project):
    """The export options a GET of the export form asks for, or the page to go back to with
    the reason; 404 for a form that is not one."""
    form = ExportForm(request.GET)
    if not form.is_valid():
        raise Http404
    try:
        options = form.options()
        options.check(project)
    except ExportRefused as exc:
        messages.error(request, str(exc))
        return None, redirect("tasks:project-detail", project_id=project.pk)
    return options, None


@login_required
def export_download_now(request, project_id):
    project = project_for_manager(request.user, project_id)
    options, back = _download_options(request, project)
    return back or _export_response(project, options)


@login_required
def export_download_card(request, project_id):
    """The dataset card of the download the export form would give now (small projects)."""
    project = project_for_manager(request.user, project_id)
    options, back = _download_options(request, project)
    if back:
        return back
    if project.n_items > settings.VOX_EXPORT_STREAM_MAX_ITEMS:
        messages.error(request, "Large projects export in the background; each job has its card.")
        return redirect("tasks:project-detail", project_id=project.pk)
    return _card_response(download_card(project, options))


def _card_response(text: str) -> HttpResponse:
    response = HttpResponse(text, content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="README.md"'
    return response


@require_POST
@login_required
def export_new(request, project_id):
    """Small projects download at once; large ones become a job with a progress bar."""
    project = project_for_manager(request.user, project_id)
    form = ExportForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose an export format.")
        return redirect("tasks:project-detail", project_id=project.pk)
    try:
        options = form.options()
        options.check(project)
    except ExportRefused as exc:
        messages.error(request, str(exc))
        return redirect("tasks:project-detail", project_id=project.pk)
    if project.n_items <= settings.VOX_EXPORT_STREAM_MAX_ITEMS:
        query = urlencode({k: v for k, v in form.cleaned_data.items() if v not in (False, None)})
        # The form's second button asks for the dataset card of the same download.
        target = "tasks:export-now-card" if request.POST.get("card") else "tasks:export-now"
        return redirect(reverse(target, args=[project.pk]) + "?" + query)
    export_create(project=project, user=request.user, options=options)
    messages.success(request, "Export started. You can leave this page; the file will wait here.")
    return redirect("tasks:project-detail", project_id=project.pk)


@login_required
def export_status(request, export_id):
    job = export_for_manager(request.user, export_id)
    return render(request, "tasks/project-detail.html#export-row", {"job": job})


@login_required
def export_file(request, export_id):
    job = export_for_manager(request.user, export_id)
    if job.status != job.Status.DONE or not job.file:
        raise Http404
    return FileResponse(
        job.file.open("rb"), as_attachment=True, filename=job.file.name.rsplit("/", 1)[-1]
    )


@login_required
def export_card(request, export_id):
    """The dataset card (README.md) of a finished export, to publish beside its file."""
    return _card_response(export_card_text(export_for_manager(request.user, export_id)))


# --- Guidelines -----------------------------------------------------------------------------


@login_required
def guideline_read(request, project_id):
    """The current guidelines; annotators acknowledge a new version here before labeling."""
    project = project_for_user(request.user, project_id)
    guideline = guideline_current(project)
    if request.method == "POST" and guideline is not None:
        guideline_ack(guideline=guideline, user=request.user)
        return redirect("annotation:label", project_id=project.pk)
    return render(
        request,
        "tasks/guideline.html",
        {
            "project": project,
            "guideline": guideline,
            "body": render_markdown(guideline.body) if guideline else "",
            "examples": _examples(project, guideline),
            "pending": guideline is not None
            and guideline_pending_for(request.user, project) is not None,
        },
    )


def _examples(project, guideline) -> list[dict]:
    if guideline is None:
        return []
    return [
        {"value": value, "label": label, "html": render_markdown(guideline.examples[value])}
        for value, label in schemas.label_options(project.kind, project.schema)
        if value in guideline.examples
    ]


@login_required
def guideline_edit(request, project_id):
    """Write and publish a new version, with worked examples; see who has acknowledged."""
    project = project_for_manager(request.user, project_id)
    current = guideline_current(project)
    options = schemas.label_options(project.kind, project.schema)
    if request.method == "POST":
        form = GuidelineForm(request.POST)
        examples = {value: request.POST.get(f"example_{value}", "") for value, _ in options}
        if form.is_valid():
            try:
                guideline = guideline_publish(
                    project=project,
                    user=request.user,
                    body=form.cleaned_data["body"],
                    examples=examples,
                )
            except schemas.SchemaError as exc:
                _schema_error(form, exc)
            else:
                messages.success(
                    request,
                    f"Version {guideline.version} published. Annotators confirm it before "
                    "their next item.",
                )
                return redirect("tasks:guideline-edit", project_id=project.pk)
    else:
        form = GuidelineForm(initial={"body": current.body if current else ""})
        examples = dict(current.examples) if current else {}
    return render(
        request,
        "tasks/guideline-edit.html",
        {
            "project": project,
            "form": form,
            "current": current,
            "options": [
                {"value": v, "label": label, "text": examples.get(v, "")} for v, label in options
            ],
            "acks": guideline_ack_status(project, current),
            "preview": render_markdown(form["body"].value() or ""),
        },
    )


@require_POST
@login_required
def guideline_preview(request, project_id):
    project_for_manager(request.user, project_id)
    text = request.POST.get("body") or next(
        (v for k, v in request.POST.items() if k.startswith("example_")), ""
    )
    return render(request, "tasks/guideline-edit.html#preview", {"preview": render_markdown(text)})


# --- Item browser ---------------------------------------------------------------------------

# The bulk actions' names are the service's (tasks.services.BULK_ACTIONS); these are their
# labels in the item browser, in the same order.
BULK_ACTIONS = dict(
    zip(
        SERVICE_BULK_ACTIONS,
        (
            "Set priority",
            "Send back for more labels",
            "Promote to gold (from the aggregate)",
            "Add tag",
            "Remove tag",
            "Delete (items without answers)",
        ),
        strict=True,
    )
)


def _browser_context(request, project) -> dict:
    filters, errors = item_filters_parse(request.GET)
    after, cursor_error = browse_cursor_parse(request.GET.get("after"))
    if cursor_error:
        errors.append(cursor_error)
    page = items_browse(project, filters, after=after)
    query = filters.query()
    return {
        "project": project,
        "filters": filters,
        "filter_errors": errors,
        "page": page,
        "states": BROWSE_STATES.items(),
        "actions": BULK_ACTIONS.items(),
        "filter_query": urlencode(query),
        "next_query": urlencode({**query, "after": page.next_after}) if page.next_after else "",
        "is_first_page": after is None,
    }


@login_required
def item_browser(request, project_id):
    project = project_for_manager(request.user, project_id)
    context = _browser_context(request, project)
    template = "tasks/item-browser.html"
    if request.htmx and not request.htmx.boosted:
        template += "#item-table"
    return render(request, template, context)


def _back_to_browser(request, project):
    # Back to the page and filters the manager acted from, never to another site.
    back = request.POST.get("back", "")
    url = reverse("tasks:item-browser", args=[project.pk])
    if back.startswith("?") and back.isprintable() and len(back) < 4000:
        url += back
    return redirect(url)


@login_required
def item_edit(request, project_id, item_id):
    project = project_for_manager(request.user, project_id)
    item = item_for_manager(project, item_id)
    if request.method == "GET" and (refusal := item_change_refusal(item)):
        messages.error(request, refusal)
        return _back_to_browser(request, project)
    text = json.dumps(item.data, ensure_ascii=False, indent=2)
    error = None
    if request.method == "POST":
        text = request.POST.get("data", "")
        try:
            record = jsonbody.loads(text)
            item_update(item=item, record=record)
        except jsonbody.BadJson as exc:
            error = f"data: {exc}"
        except schemas.SchemaError as exc:
            error = f"{field_label(exc.field)}: {exc.message}"
        except ItemHasAnswers as exc:
            messages.error(request, str(exc))
            return _back_to_browser(request, project)
        else:
            messages.success(request, f"Item {item.pk} saved.")
            return _back_to_browser(request, project)
    return render(
        request,
        "tasks/item-edit.html",
        {
            "project": project,
            "item": item,
            "text": text,
            "error": error,
            "back": (request.POST.get("back") or request.GET.get("back", "")).lstrip("?"),
        },
        # An invalid edit is still a page to correct, and htmx swaps only 2xx.
        status=200,
    )


@require_POST
@login_required
def item_delete_one(request, project_id, item_id):
    project = project_for_manager(request.user, project_id)
    item = item_for_manager(project, item_id)
    try:
        item_delete(item=item)
    except ItemHasAnswers as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Item {item_id} deleted.")
    return _back_to_browser(request, project)


@require_POST
@login_required
def items_bulk(request, project_id):
    project = project_for_manager(request.user, project_id)
    item_ids = posted_ids(request.POST, "item_ids")
    action = request.POST.get("action", "")
    if not item_ids:
        messages.error(request, "Check at least one item.")
        return _back_to_browser(request, project)
    try:
        outcome = items_bulk_apply(
            project=project,
            item_ids=item_ids,
            action=action,
            user=request.user,
            params=request.POST,
        )
    except schemas.SchemaError as exc:
        messages.error(request, f"Nothing was changed. {field_label(exc.field)}: {exc.message}")
        return _back_to_browser(request, project)
    text = f"{outcome.done} item{'s' if outcome.done != 1 else ''} {outcome.note}."
    if outcome.skipped:
        text += f" {outcome.skipped} skipped: {outcome.why}."
    messages.success(request, text)
    return _back_to_browser(request, project)
