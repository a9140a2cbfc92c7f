from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from modelruns.charts import data_map_svg
from modelruns.forms import ModelRunUploadForm, RelabelForm
from modelruns.selectors import (
    REASONS,
    data_map_names,
    model_run_for_project,
    model_run_in_use,
    model_run_list,
    suspect_page,
    suspects_for_project,
)
from modelruns.services import ModelRunRejected, model_run_pin, model_run_upload, noisy_cv_request
from tasks import schema as schemas
from tasks.selectors import project_for_manager
from tasks.services import items_bulk_apply


def _errors_text(exc: ModelRunRejected) -> str:
    return "; ".join(f"line {e.line}, {e.field}: {e.message}" for e in exc.errors[:10])


@login_required
def model_runs(request, project_id):
    project = project_for_manager(request.user, project_id)
    form = ModelRunUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                run = model_run_upload(
                    project=project,
                    user=request.user,
                    name=data["name"],
                    version=data["version"],
                    file=data["file"],
                    ids_file=data["ids_file"],
                    epochs_file=data["epochs_file"],
                    id_field=data["id_field"] or "item_id",
                )
            except ModelRunRejected as exc:
                messages.error(request, "Nothing saved. " + _errors_text(exc))
            else:
                if run.is_finished:
                    messages.success(request, f"{run}: {run.n_items} predictions saved.")
                else:
                    messages.info(request, f"{run}: loading in the background.")
                return redirect("modelruns:list", project_id=project.pk)
        else:
            messages.error(request, "Give a name and a file.")
    return render(
        request,
        "modelruns/model-runs.html",
        {
            "project": project,
            "form": form,
            "runs": model_run_list(project)[:50],
            "in_use": model_run_in_use(project),
        },
    )


@require_POST
@login_required
def noisy_cv(request, project_id):
    project = project_for_manager(request.user, project_id)
    try:
        noisy_cv_request(project=project, user=request.user)
    except ModelRunRejected as exc:
        messages.error(request, _errors_text(exc))
    else:
        messages.info(request, "Vox's noisy cross-validation is running.")
    return redirect("modelruns:list", project_id=project.pk)


@require_POST
@login_required
def model_run_pin_form(request, project_id, run_id):
    project = project_for_manager(request.user, project_id)
    run = model_run_for_project(project, run_id)
    pin = request.POST.get("pinned") == "1"
    try:
        model_run_pin(project=project, run=run if pin else None)
    except ModelRunRejected as exc:
        messages.error(request, _errors_text(exc))
    else:
        messages.success(
            request, f"{run} is the model in use." if pin else "The latest finished run is in use."
        )
    return redirect("modelruns:list", project_id=project.pk)


@login_required
def suspects(request, project_id):
    project = project_for_manager(request.user, project_id)
    table = suspects_for_project(project)
    reason = request.GET.get("reason", "")
    if reason not in REASONS:
        reason = ""
    try:
        number = int(request.GET.get("page", "1"))
    except ValueError:
        number = 1
    page = suspect_page(project, table, reason=reason, page=number)
    chart = None
    if table.data_map is not None:
        dm = table.data_map
        chart = data_map_svg(
            dm.confidence, dm.variability, dm.correctness, names=data_map_names(table)
        )
    return render(
        request,
        "modelruns/suspects.html",
        {
            "project": project,
            "table": table,
            "page": page,
            "reason": reason,
            "reasons": [
                (n, REASONS[n], table.reason_counts.get(n, 0)) for n in table.reason_counts
            ],
            "chart": chart,
        },
    )


@require_POST
@login_required
def suspects_relabel(request, project_id):
    project = project_for_manager(request.user, project_id)
    data = request.POST
    if "one" in request.GET:  # a row's own button: that item alone, not the ticked ones
        data = data.copy()
        data.setlist("item_ids", [request.GET["one"]])
    form = RelabelForm(data)
    back = reverse("modelruns:suspects", args=[project.pk])
    if request.POST.get("next", "").startswith(back):
        back = request.POST["next"]
    if not form.is_valid():
        messages.error(request, "Tick at least one item, and ask for 1 to 20 more labels.")
        return redirect(back)
    try:
        outcome = items_bulk_apply(
            project=project,
            item_ids=form.cleaned_data["item_ids"],
            action="relabel",
            user=request.user,
            params={"extra_labels": form.cleaned_data["extra_labels"]},
        )
    except schemas.SchemaError as exc:
        messages.error(request, str(exc))
    else:
        note = f"{outcome.done} item(s) {outcome.note}."
        if outcome.skipped:
            note += f" {outcome.skipped} skipped: {outcome.why}."
        messages.success(request, note)
    return redirect(back)
