"""API token authentication that reads the user in one written-out statement.

DRF's TokenAuthentication builds the same query through the ORM on every request; on the
work queue's endpoints, which annotators call twice per label, compiling it cost more than
running it. Behaviour is DRF's: unknown tokens and inactive users are refused.
"""

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from config import rows


@rows.statement("token_user")
def TOKEN_USER() -> str:
    user = get_user_model()
    return f"""
        SELECT {rows.columns(user, "u")} FROM {user._meta.db_table} u
        JOIN {Token._meta.db_table} t ON t.user_id = u.id WHERE t.key = %s
    """  # noqa: S608 - names come from the models, the key is a parameter


class FastTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        with connection.cursor() as cursor:
            rows.execute(cursor, TOKEN_USER, [key])
            row = cursor.fetchone()
        if row is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        user = rows.build(get_user_model(), row)
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return user, key
