"""Middleware of Vox's own."""

from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.messages.storage import default_storage
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
