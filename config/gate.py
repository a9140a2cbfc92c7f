"""One request at a time per web worker, with annotators' "next" ahead of the queue.

A worker process runs one request at a time (bin/serve): Django and the work queue gain
nothing from more threads in one interpreter but GIL hand-offs. Requests that arrive while
it is busy used to wait in the server's own first-come queue. Under load most of a
request's time is that wait, and it was the same for every kind of request: at 32
annotators a "next" waited behind every submit queued before it.

This gate keeps the one-at-a-time rule but chooses who goes next. The server runs a few
threads per worker (`--blocking-threads`); each request's thread waits here for its turn,
and a waiting "next" goes before waiting submits and everything else. The rater is
looking at an empty screen during a "next"; a submit's answer is only a receipt (the
browser has the next item prefetched, and API clients can send the next request first).
The work done is the same, so throughput is too; submits wait longer by what nexts gain.

Nothing waits for ever: a request that has waited more than `MAX_WAIT_S` goes first, in
arrival order, whatever it is.

The worker's threads take turns on one set of database connections, as one thread would:
a connection per thread cost the database server about a sixth more CPU per label here
(docs/workbench.md). The turn lasts until the server closes the response, so a streamed
response (an export) keeps the connection to itself while it is sent.
"""

from __future__ import annotations

import threading
import time
from collections import deque

from django.db import connections

# Beyond this, arrival order wins over kind, so a stream of nexts cannot hold submits back.
MAX_WAIT_S = 0.5


class NextFirst:
    """WSGI middleware: the wrapped application runs for one request at a time, waiting
    nexts first, until the server closes the response."""

    def __init__(self, app, *, urgent):
        # urgent(environ) says whether a request goes first (the queue's "next").
        self.app, self._is_urgent = app, urgent
        self._mutex = threading.Lock()
        self._busy = False
        # Waiting requests, oldest first: (arrival time, lock the holder releases for it).
        self._urgent: deque = deque()
        self._other: deque = deque()
        self._shared: dict | None = None  # alias: the worker's connection wrapper

    def __call__(self, environ, start_response):
        self._enter(self._is_urgent(environ))
        try:
            self._take_connections()
            body = self.app(environ, start_response)
        except BaseException:
            self._leave()
            raise
        if isinstance(body, list):  # nothing left to run: the fast lane's answers
            self._leave()
            return body
        if not getattr(body, "streaming", True):
            # A Django response already in memory: closing it runs the end-of-request
            # signal, which may close the shared connection, so that happens in turn too.
            try:
                chunks = list(body)
                body.close()
            finally:
                self._leave()
            return chunks
        return _ClosingBody(body, self._leave)

    def _take_connections(self) -> None:
        # Django keeps connections per thread; under the gate, at most one thread of this
        # process uses them at a time, so they can be the same ones for all of its threads.
        if self._shared is None:
            self._shared = {alias: connections[alias] for alias in connections}
            for wrapper in self._shared.values():
                wrapper.inc_thread_sharing()
        for alias, wrapper in self._shared.items():
            connections[alias] = wrapper

    def _enter(self, urgent: bool) -> None:
        with self._mutex:
            if not self._busy:
                self._busy = True
                return
            turn = threading.Lock()
            turn.acquire()
            (self._urgent if urgent else self._other).append((time.monotonic(), turn))
        turn.acquire()  # released by the request before us, which hands its turn over

    def _leave(self) -> None:
        with self._mutex:
            waiting = self._pick()
            if waiting is None:
                self._busy = False
            else:
                waiting.release()  # the gate stays busy: it passes to that request

    def _pick(self):
        urgent, other = self._urgent, self._other
        # The oldest other request goes first when no next waits, or when it has waited
        # too long and longer than the oldest next.
        overdue = other and time.monotonic() - other[0][0] > MAX_WAIT_S
        if other and (not urgent or (overdue and other[0][0] < urgent[0][0])):
            return other.popleft()[1]
        if urgent:
            return urgent.popleft()[1]
        return None


class _ClosingBody:
    """A response body that gives the turn back once the server has closed it."""

    def __init__(self, body, release):
        self._body, self._release = body, release

    def __iter__(self):
        return iter(self._body)

    def close(self):
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            self._give_back()

    def _give_back(self):
        release, self._release = self._release, None
        if release is not None:
            release()

    # WSGI servers call close(), granian on a dropped client too; if one ever did not, the
    # turn still comes back when the body is let go of, not never.
    __del__ = _give_back
