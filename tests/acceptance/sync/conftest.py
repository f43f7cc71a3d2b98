"""Fixtures of the sync acceptance tests: a state store on SQLite, and on PostgreSQL.

``store_url`` is the URL of an empty store of its own per test: a SQLite file in the test's
``tmp_path``, or a fresh schema ``jbt_<random>`` of the PostgreSQL database
(``JIRABRIDGE_TEST_PG_URL``, default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``),
named in the URL itself (libpq ``options=-csearch_path=...``) so that a ``jirabridge``
subprocess given only the URL lands in the same schema; dropped afterwards. Parallel workers
(``pytest -n 2``) never share a schema.

Which tests run on which store: every test taking ``store`` or ``store_url`` runs on SQLite;
the workflow, faults and kill-backfill modules (``PG_MODULES``: status walks, comments,
deletes, links, sprints, conflicts, the hundred edits, lost/duplicated webhooks, a site
down, echo, bad webhooks, the SIGKILL backfill and its deterministic crash tests) run on
PostgreSQL too; ``test_fields`` (value translation, nothing store-specific) on SQLite only.
Every module on both took 139 s against 72 s for the SQLite-only suite before (``pytest -n 2``,
shared 2-core machine), past the ~60 s budget; the 20-kill test alone is ~60 s per store.
Deselect the PostgreSQL half with ``-m "not postgres"`` where no server runs.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, text

from jirabridge.sync.store import Store, open_store

PG_URL = os.environ.get(
    "JIRABRIDGE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
PG_MODULES = frozenset({"test_workflow", "test_faults", "test_kill_backfill"})
"""Modules whose store tests run on PostgreSQL as well as on SQLite."""


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "store_url" not in metafunc.fixturenames:
        return
    kinds = [pytest.param("sqlite", id="sqlite")]
    if metafunc.module.__name__.rsplit(".", 1)[-1] in PG_MODULES:
        kinds.append(pytest.param("postgres", id="postgres", marks=pytest.mark.postgres))
    metafunc.parametrize("store_url", kinds, indirect=True)


def pg_url_in_schema(schema: str) -> str:
    """``PG_URL`` with ``schema`` first on the search path of every connection it makes."""
    joiner = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{joiner}options={quote(f'-csearch_path={schema}', safe='')}"


@pytest.fixture
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty store of this test's own (see the module docstring)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state.db'}"
        return
    schema = "jbt_" + uuid.uuid4().hex[:16]
    admin = create_engine(PG_URL)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        yield pg_url_in_schema(schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = open_store(store_url)
    yield s
    s.dispose()
