from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from modelruns.suggestions import suggestion_status
from quality.flags import flags_by_rater
from quality.forms import GoldForm, GoldImportForm, PolicyForm, RaterActionForm
from quality.selectors import calibration_status, policy_for, pool_sizes, trust_of
from quality.services import gold_create, gold_import_jsonl, policy_update
from raters.models import Membership
from raters.services import rater_action
from tasks import schema as schemas
from tasks.selectors import project_for_manager


@login_required
def quality_page(request, project_id):
    """The manager's quality rules, gold pools and raters, with actions."""
    project = project_for_manager(request.user, project_id)
    policy = policy_for(project)
    policy_form = PolicyForm(request.POST or None, instance=policy, prefix="policy")
    if request.method == "POST" and policy_form.is_valid():
        try:
            policy_update(
                project=project,
                **{f: policy_form.cleaned_data[f] for f in policy_form.changed_data},
            )
        except schemas.SchemaError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, "Quality rules saved.")
            return redirect("quality:page", project_id=project.pk)
    rows = calibration_status(project)
    flags = flags_by_rater(project)
    for row in rows:
        row["trust"] = trust_of(row["membership"])
        row["flags"] = flags.get(row["membership"].user_id, [])
    return render(
        request,
        "quality/page.html",
        {
            "project": project,
            "policy_form": policy_form,
            "rows": rows,
            "pools": pool_sizes(project),
            "gold_form": GoldForm(),
            "import_form": GoldImportForm(),
            "action_form": RaterActionForm(),
            "suggestions": suggestion_status(project),
        },
    )


@require_POST
@login_required
def gold_new(request, project_id):
    project = project_for_manager(request.user, project_id)
    form = GoldForm(request.POST)
    if form.is_valid():
        try:
            gold_create(project=project, user=request.user, **form.cleaned_data)
        except schemas.SchemaError as exc:
            messages.error(request, f"Gold item not saved: {exc}")
        else:
            messages.success(request, "Gold item added.")
    else:
        messages.error(
            request,
            "Gold item not saved: "
            + "; ".join(f"{field}: {', '.join(errs)}" for field, errs in form.errors.items()),
        )
    return redirect("quality:page", project_id=project.pk)


@require_POST
@login_required
def gold_import(request, project_id):
    project = project_for_manager(request.user, project_id)
    form = GoldImportForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "Choose a pool and a JSONL file.")
        return redirect("quality:page", project_id=project.pk)
    created, errors = gold_import_jsonl(
        project=project,
        lines=form.cleaned_data["file"],
        pool=form.cleaned_data["pool"],
        user=request.user,
    )
    if errors:
        messages.error(
            request,
            "Nothing imported. "
            + "; ".join(f"line {e.line}, {e.field}: {e.message}" for e in errors[:10]),
        )
    else:
        messages.success(request, f"{created} gold items added.")
    return redirect("quality:page", project_id=project.pk)


@require_POST
@login_required
def rater_act(request, project_id, membership_id):
    project = project_for_manager(request.user, project_id)
    membership = get_object_or_404(Membership, pk=membership_id, project=project)
    form = RaterActionForm(request.POST)
    if form.is_valid():
        try:
            rater_action(membership=membership, actor=request.user, **form.cleaned_data)
        except ValueError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request, f"{membership.user.username}: {form.cleaned_data['action']} done."
            )
    else:
        messages.error(request, "Choose an action and give a reason.")
    return redirect("quality:page", project_id=project.pk)
