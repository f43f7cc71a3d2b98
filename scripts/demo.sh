#!/usr/bin/env bash
# The one command that runs the main job: set-up, then `jirabridge demo` (arguments pass through).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/jirabridge demo "$@"
