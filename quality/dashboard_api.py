"""The dashboards' figures as JSON. Managers only: everyone else gets 404."""

from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from quality import dashboards as sel
from tasks.selectors import project_for_manager


def _table(request, projects):
    args = {
        "sort": request.query_params.get("sort", "risk"),
        "descending": request.query_params.get("dir") == "desc",
        "filters": [f for f in request.query_params.getlist("flag") if f in sel.FILTERS],
        "stage": request.query_params.get("stage", ""),
        "q": request.query_params.get("q", "")[:100],
    }
    rows = sel.calibration_table(projects, **args)
    return Response({"count": len(rows), "results": [r.as_json() for r in rows]})


class RatersAllApi(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        return _table(request, sel.projects_managed(request.user))


class RatersApi(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, project_id):
        return _table(request, [project_for_manager(request.user, project_id)])


class RaterApi(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT, operation_id="dashboard_rater_detail")
    def get(self, request, project_id, membership_id):
        m = sel.membership_for_manager(request.user, project_id, membership_id)
        return Response(sel.rater_detail_json(sel.rater_detail(m)))


class AgreementApi(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, project_id):
        return Response(sel.agreement_matrix(project_for_manager(request.user, project_id)))


class ProjectOverviewApi(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, project_id):
        project = project_for_manager(request.user, project_id)
        return Response(sel.project_overview_json(sel.project_overview(project)))


class ReviewQueueApi(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, project_id):
        project = project_for_manager(request.user, project_id)
        return Response({"results": sel.review_queue(project, limit=200)})
