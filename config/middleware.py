"""Middleware of Vox's own."""

from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.messages.storage import default_storage
from django.http import HttpResponseBadRequest, JsonResponse
from django.utils.functional import SimpleLazyObject, empty


class LazyMessageMiddleware(MessageMiddleware):
    """Django's message middleware, with the storage built only when a request uses it.

    The stock middleware builds a cookie-and-session storage, with its signer, on every
    request; the work queue's API requests never show a message, and that was a measurable
    share of their time. A storage never built was never read or added to, and Django's
    own `update` would then write nothing, so skipping it changes nothing.
    """

    def process_request(self, request):
        request._messages = SimpleLazyObject(lambda: default_storage(request))

    def process_response(self, request, response):
        messages = getattr(request, "_messages", None)
        if isinstance(messages, SimpleLazyObject) and messages._wrapped is empty:
            return response
        return super().process_response(request, response)


def _nul_field(request) -> str | None:
    """The first part of the request that holds a NUL character: the path, a query
    parameter or a form field (names and values). JSON bodies are checked by their parser
    (config.jsonbody), uploaded files by the importer."""
    if "\x00" in request.path_info:
        return "the URL path"
    sources = [request.GET]
    if request.method == "POST" and request.content_type in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        sources.append(request.POST)
    for source in sources:
        for key, values in source.lists():
            if "\x00" in key or any("\x00" in v for v in values):
                return key.replace("\x00", "\\u0000")
    return None


class RejectNulMiddleware:
    """A 400 naming the field for any NUL character in the path, the query or a form.

    PostgreSQL refuses NUL in text and jsonb, so a NUL that reaches a query is an error
    deep in some view, a 500; no field of Vox has a use for one. One check here covers
    every page and endpoint, the ones not written yet included.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        field = _nul_field(request)
        if field is None:
            return self.get_response(request)
        message = f"{field} contains a NUL character (\\u0000)"
        if request.path_info.startswith("/api/"):
            return JsonResponse({"detail": message, "field": field}, status=400)
        return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
