#!/usr/bin/env bash
# The one command that runs every check: set-up, lint, types, and the whole test suite.
#   scripts/test.sh            everything
#   scripts/test.sh -k foo     extra arguments go to pytest
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/services.sh
if [ -f scripts/oracle.sh ]; then bash scripts/oracle.sh; fi
export JIRABRIDGE_TEST_PG_URL=${JIRABRIDGE_TEST_PG_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test}
echo "== ruff"
.venv/bin/ruff check src tests bench
.venv/bin/ruff format --check src tests bench
echo "== mypy (strict, package)"
.venv/bin/mypy
echo "== pytest"
.venv/bin/pytest -n "${JIRABRIDGE_TEST_WORKERS:-2}" "$@"
