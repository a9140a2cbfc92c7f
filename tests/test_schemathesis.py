"""Property-based requests generated from the OpenAPI document (/api/schema/) by
Schemathesis, against the whole WSGI application (fast lane included), as a manager
holding a token on a project with items: no operation answers with a server error."""

import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def api_schema(db):
    from config.wsgi import application

    return schemathesis.openapi.from_wsgi("/api/schema/", application)


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture
def token(project, manager, rater, items):
    return Token.objects.create(user=manager).key


@schema.parametrize()
@hypothesis_settings(
    max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None
)
def test_no_api_operation_answers_generated_input_with_a_server_error(case, token):
    case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=[not_a_server_error])
