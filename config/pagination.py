"""The API's pagination: limit and offset, both bounded, so that `?limit=` or `?offset=`
past what the database's bigint holds is a short page, never a 500."""

from rest_framework.pagination import LimitOffsetPagination

MAX_OFFSET = 10**12


class Pagination(LimitOffsetPagination):
    default_limit = 100
    max_limit = 1000

    def get_offset(self, request):
        return min(super().get_offset(request), MAX_OFFSET)
