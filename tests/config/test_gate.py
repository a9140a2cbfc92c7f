"""The web worker's gate (config/gate.py): one request at a time, annotators' next first.

The requests here run on real threads against the real middleware, as granian's threads
call it; the applications behind it only record when each request got its turn.
"""

import threading
import time

import pytest
from django.core.wsgi import get_wsgi_application
from django.db import connection, connections

from annotation.fastlane import is_next
from config import gate
from config.gate import NextFirst
from tests.annotation.test_fast_lane import wsgi_environ

NEXT = "/api/projects/1/next/"
SUBMIT = "/api/projects/1/annotations/"


def environ(path, method="POST"):
    return wsgi_environ(path, method)


class Recorder:
    """A WSGI application that notes each request as it starts; requests whose path is in
    `hold` wait until the test lets them go."""

    def __init__(self):
        self.started: list[str] = []
        self.running = 0
        self.most_at_once = 0
        self.hold: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        path = environ["PATH_INFO"]
        with self._lock:
            self.started.append(path)
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        if path in self.hold:
            assert self.hold[path].wait(10)
        time.sleep(0.001)
        with self._lock:
            self.running -= 1
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [path.encode()]


def send(app, path):
    thread = threading.Thread(target=lambda: app(environ(path), lambda *a: None))
    thread.start()
    return thread


def wait_for_waiting(app, n):
    deadline = time.monotonic() + 5
    while len(app._urgent) + len(app._other) < n:
        assert time.monotonic() < deadline, "requests never reached the gate"
        time.sleep(0.001)


def busy_gate():
    """A gate whose turn a held request has: what comes next waits."""
    inner = Recorder()
    inner.hold["/busy/"] = threading.Event()
    app = NextFirst(inner, urgent=is_next)
    threads = [send(app, "/busy/")]
    while inner.started != ["/busy/"]:
        time.sleep(0.001)
    return inner, app, threads


def test_a_waiting_next_goes_before_submits_that_arrived_earlier():
    inner, app, threads = busy_gate()
    for i, path in enumerate(["/s0/", "/s1/", NEXT]):
        threads.append(send(app, path))
        wait_for_waiting(app, i + 1)
    inner.hold["/busy/"].set()
    for thread in threads:
        thread.join(10)
    assert inner.started == ["/busy/", NEXT, "/s0/", "/s1/"]
    assert inner.most_at_once == 1


def test_a_request_that_waited_past_the_limit_goes_first_whatever_it_is(monkeypatch):
    monkeypatch.setattr(gate, "MAX_WAIT_S", 0.05)
    inner, app, threads = busy_gate()
    threads.append(send(app, SUBMIT))
    wait_for_waiting(app, 1)
    time.sleep(0.1)
    threads.append(send(app, NEXT))
    wait_for_waiting(app, 2)
    inner.hold["/busy/"].set()
    for thread in threads:
        thread.join(10)
    assert inner.started == ["/busy/", SUBMIT, NEXT]


def test_only_a_post_to_next_counts_as_next():
    inner, app, threads = busy_gate()
    get_next = threading.Thread(target=lambda: app(environ(NEXT, "GET"), lambda *a: None))
    get_next.start()
    wait_for_waiting(app, 1)
    threads += [get_next, send(app, "/api/projects/1/next/extra/")]
    wait_for_waiting(app, 2)
    assert len(app._urgent) == 0
    inner.hold["/busy/"].set()
    for thread in threads:
        thread.join(10)


def test_many_threads_at_once_still_run_one_request_at_a_time():
    inner = Recorder()
    app = NextFirst(inner, urgent=is_next)
    threads = [send(app, NEXT if i % 2 else SUBMIT) for i in range(40)]
    for thread in threads:
        thread.join(10)
    assert len(inner.started) == 40
    assert inner.most_at_once == 1


class Streamed:
    """A streamed body, as Django's StreamingHttpResponse is: `streaming` and close()."""

    streaming = True

    def __init__(self):
        self.closed = False

    def __iter__(self):
        yield b"chunk"

    def close(self):
        self.closed = True


def test_a_streamed_response_keeps_the_turn_until_the_server_closes_it():
    body = Streamed()
    inner = Recorder()

    def export_or_record(environ, start_response):
        if environ["PATH_INFO"] == "/export/":
            return body
        return inner(environ, start_response)

    app = NextFirst(export_or_record, urgent=is_next)
    response = app(environ("/export/", "GET"), lambda *a: None)
    assert list(response) == [b"chunk"]
    waiting = send(app, NEXT)
    waiting.join(0.2)
    assert waiting.is_alive() and inner.started == []
    response.close()
    waiting.join(10)
    assert body.closed and inner.started == [NEXT]


@pytest.mark.django_db(transaction=True)
def test_a_django_response_gives_the_turn_back_before_the_server_sends_it():
    app = NextFirst(get_wsgi_application(), urgent=is_next)
    statuses = []
    body = app(environ("/healthz", "GET"), lambda status, headers: statuses.append(status))
    # Not iterated or closed yet, as a server may hold it while it writes: the next
    # request gets its turn all the same.
    other = threading.Thread(
        target=lambda: app(environ("/healthz", "GET"), lambda s, h: statuses.append(s))
    )
    other.start()
    other.join(10)
    assert not other.is_alive()
    assert statuses == ["200 OK", "200 OK"] and b"".join(body)


@pytest.mark.django_db(transaction=True)
def test_every_thread_of_a_worker_queries_through_the_same_connection():
    seen = []

    def query(environ, start_response):
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            assert cursor.fetchone() == (1,)
        seen.append((threading.current_thread().name, connections["default"]))
        start_response("200 OK", [])
        return [b""]

    app = NextFirst(query, urgent=is_next)
    threads = [send(app, NEXT) for _ in range(4)]
    for thread in threads:
        thread.join(10)
    app._shared["default"].close()  # opened on one of those threads, which have ended
    assert len({name for name, _ in seen}) == 4
    assert len({id(wrapper) for _, wrapper in seen}) == 1
