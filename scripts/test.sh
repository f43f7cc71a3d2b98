#!/usr/bin/env bash
# The one command that runs every check: set-up, lint, types, and the whole test suite.
#   scripts/test.sh            everything
#   scripts/test.sh -k foo     extra arguments go to pytest
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/services.sh
# CI must compare with Atlassian's transformer for real, never skip it.
if [ "${CI:-}" = "true" ]; then export JIRABRIDGE_REQUIRE_ORACLE=1; fi
bash scripts/oracle.sh
export JIRABRIDGE_TEST_PG_URL=${JIRABRIDGE_TEST_PG_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test}
echo "== ruff"
.venv/bin/ruff check src tests bench
.venv/bin/ruff format --check src tests bench
echo "== mypy (strict, package)"
.venv/bin/mypy
echo "== pytest"
.venv/bin/pytest -n "${JIRABRIDGE_TEST_WORKERS:-2}" "$@"
echo "== wiki markup <-> ADF conformance against Atlassian's transformer"
.venv/bin/python bench/markup_conformance.py
