from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from tasks import schema as schemas
from tasks.export import export_jsonl
from tasks.forms import ImportForm, MemberAddForm, ProjectCreateForm
from tasks.markdown import render_markdown
from tasks.selectors import (
    annotations_by_rater,
    guideline_current,
    guideline_pending_for,
    import_for_manager,
    project_for_manager,
    project_for_user,
    project_list_for_user,
    project_members,
    project_role,
    user_can_create_projects,
)
from tasks.services import (
    ImportRejected,
    guideline_ack,
    import_create,
    membership_add,
    project_create,
)


@login_required
def home(request):
    projects = [(p, project_role(request.user, p)) for p in project_list_for_user(request.user)]
    return render(
        request,
        "tasks/home.html",
        {
            "projects": projects,
            "can_create": user_can_create_projects(request.user),
        },
    )


@login_required
def project_new(request):
    if not user_can_create_projects(request.user):
        raise Http404
    form = ProjectCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            project = project_create(
                user=request.user,
                name=form.cleaned_data["name"],
                kind=schemas.SINGLE_CHOICE,
                schema={"choices": form.cleaned_data["choices"]},
                instructions=form.cleaned_data["instructions"],
                overlap=form.cleaned_data["overlap"],
            )
        except schemas.SchemaError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("tasks:project-detail", project_id=project.pk)
    return render(request, "tasks/project-new.html", {"form": form})


@login_required
def project_detail(request, project_id):
    project = project_for_manager(request.user, project_id)
    return render(
        request,
        "tasks/project-detail.html",
        {
            "project": project,
            "members": project_members(project),
            "by_rater": annotations_by_rater(project),
            "imports": project.imports.all()[:10],
            "member_form": MemberAddForm(),
            "import_form": ImportForm(),
        },
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
def import_new(request, project_id):
    project = project_for_manager(request.user, project_id)
    form = ImportForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            import_create(project=project, user=request.user, upload=form.cleaned_data["file"])
        except ImportRejected as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, "Import started. You can leave this page; it goes on.")
    else:
        messages.error(request, "Choose a file to import.")
    return redirect("tasks:project-detail", project_id=project.pk)


@login_required
def import_status(request, import_id):
    job = import_for_manager(request.user, import_id)
    return render(request, "tasks/project-detail.html#import-row", {"job": job})


@login_required
def project_export(request, project_id):
    project = project_for_manager(request.user, project_id)
    response = StreamingHttpResponse(export_jsonl(project), content_type="application/x-ndjson")
    response["Content-Disposition"] = f'attachment; filename="vox-project-{project.pk}.jsonl"'
    return response


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
            "pending": guideline is not None
            and guideline_pending_for(request.user, project) is not None,
        },
    )
