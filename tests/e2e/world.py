"""The demo world in a test database, served by a live server the module keeps: what the page
sweep and the screenshots look at (the same data `make start` shows)."""

from __future__ import annotations

import threading
from contextlib import contextmanager

from django.conf import settings
from django.core.management import call_command
from django.core.servers.basehttp import ThreadedWSGIServer
from django.test import override_settings

from tests.conftest import analyze, load_divisions

DEMO_ROLES = ("city", "county", "station", "room", "analyst", "security", "auditor", "agency")


def demo_world_create() -> None:
    """Everything `shegong setup --demo` makes, on the divisions already loaded."""
    from shegong.accounts.demo import demo_agency_user_create, demo_users_create
    from shegong.casework.demo import demo_casework_create
    from shegong.funding.demo import demo_funding_create
    from shegong.network.demo import demo_network_create
    from shegong.network.services import seed_article_standard
    from shegong.projects.demo import demo_projects_create
    from shegong.projects.services import seed_default_indicator_tree
    from shegong.workforce.demo import demo_workforce_create

    with override_settings(DEMO_MODE=True):
        seed_article_standard()
        seed_default_indicator_tree()
        demo_users_create()
        demo_network_create()
        demo_workforce_create()
        demo_projects_create()
        demo_funding_create()
        demo_casework_create()
        demo_agency_user_create()


def flush_database() -> None:
    """Empty every table. On SQLite the append-only triggers (ledger movements, the audit
    trail) refuse the flush's DELETEs: they are lifted for it and put back, as they were."""
    from django.db import connection

    triggers = []
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
            triggers = cursor.fetchall()
            for name, _sql in triggers:
                cursor.execute(f'DROP TRIGGER "{name}"')
    try:
        call_command("flush", interactive=False, verbosity=0)
    finally:
        with connection.cursor() as cursor:
            for _name, sql in triggers:
                cursor.execute(sql)


class SerialServer(ThreadedWSGIServer):
    """The live server's threads read requests side by side (an idle connection the browser
    opened ahead blocks nobody), but the application answers one request at a time: on
    SQLite every thread shares the test database's one in-memory connection, and pages whose
    panels load side by side deadlocked on it."""

    answering = threading.Lock()

    def set_app(self, application):
        def one_at_a_time(environ, start_response):
            if environ["PATH_INFO"].startswith(settings.STATIC_URL):
                # as in production (WhiteNoise), the browser keeps static files
                start_response = cached(start_response)
            with self.answering:
                result = application(environ, start_response)
                try:
                    return list(result)
                finally:
                    if hasattr(result, "close"):
                        result.close()

        super().set_app(one_at_a_time)


def cached(start_response):
    """``start_response`` with a day's ``Cache-Control`` added to a successful answer."""

    def start(status, headers, *args):
        if status.startswith("200"):
            headers = [*headers, ("Cache-Control", "max-age=86400")]
        return start_response(status, headers, *args)

    return start


@contextmanager
def demo_world_served(django_db_blocker):
    """Build the demo world, serve it, and leave the database as the other tests expect it
    (flushed, divisions loaded). Yields the server's base URL.

    Not pytest-django's ``live_server``: that one flushes the database after every test,
    and the world is built once for a whole module."""
    from pytest_django.live_server_helper import LiveServer

    with django_db_blocker.unblock():
        flush_database()
        load_divisions()
        demo_world_create()
        # fresh tables have no statistics: without them the planner picks plans that take
        # the city's pages past the browser's patience
        analyze()
        server = LiveServer("localhost", start=False)
        # one answer at a time (see SerialServer)
        server.thread.server_class = SerialServer
        server.start()
        server._live_server_modified_settings.enable()
        try:
            yield server.url
        finally:
            server._live_server_modified_settings.disable()
            server.stop()
            flush_database()
            load_divisions()
            # and the demo world's statistics must not outlive it: planned for a city's
            # worth of rows, the later tests' small worlds took minutes a query
            analyze()
