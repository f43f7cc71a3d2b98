#!/usr/bin/env bash
# Installs Atlassian's wiki markup <-> ADF transformer (the conformance oracle) into
# .cache/oracle/, copied from the read-only ../shared/oracles/wikimarkup/.
# Idempotent and quick: when the installed copy matches the pinned package.json, it does nothing.
# Skips (exit 0, with a warning) when node or npm is missing or the install fails, unless
# JIRABRIDGE_REQUIRE_ORACLE=1 (then it exits 1).
set -euo pipefail
cd "$(dirname "$0")/.."
src=${JIRABRIDGE_ORACLE_SRC:-../shared/oracles/wikimarkup}
if [ ! -f "$src/package.json" ]; then
  echo "oracle: $src not found, skipping (tests marked 'oracle' will be skipped)" >&2
  [ "${JIRABRIDGE_REQUIRE_ORACLE:-0}" = "1" ] && exit 1
  exit 0
fi
dest=.cache/oracle
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "oracle: node/npm not found, skipping (tests marked 'oracle' will be skipped)" >&2
  [ "${JIRABRIDGE_REQUIRE_ORACLE:-0}" = "1" ] && exit 1
  exit 0
fi
mkdir -p "$dest"
stamp="$dest/.installed"
if [ -f "$stamp" ] && [ -d "$dest/node_modules/@atlaskit/editor-wikimarkup-transformer" ] \
  && cmp -s "$src/package.json" "$dest/package.json" && cmp -s "$src/convert.js" "$dest/convert.js"; then
  exit 0
fi
cp "$src/package.json" "$src/convert.js" "$dest/"
[ -f "$src/README.md" ] && cp "$src/README.md" "$dest/"
if ! (cd "$dest" && npm install --no-package-lock --no-audit --no-fund --loglevel=error >/dev/null); then
  echo "oracle: npm install failed in $dest (tests marked 'oracle' will be skipped)" >&2
  # CI sets JIRABRIDGE_REQUIRE_ORACLE=1 so that a missing oracle fails the build
  [ "${JIRABRIDGE_REQUIRE_ORACLE:-0}" = "1" ] && exit 1
  exit 0
fi
touch "$stamp"
echo "oracle: installed in $dest" >&2
