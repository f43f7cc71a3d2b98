#!/usr/bin/env bash
# Installs Atlassian's wiki markup <-> ADF transformer (the conformance oracle) into
# .cache/oracle/, copied from the read-only ../shared/oracles/wikimarkup/.
# Idempotent and quick: when the installed copy matches the pinned package.json, it does nothing.
# Prints the path of convert.js on success. Skips (exit 0) when node or npm is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
src=${JIRABRIDGE_ORACLE_SRC:-../shared/oracles/wikimarkup}
[ -d "$src" ] || src=/work/shared/oracles/wikimarkup
dest=.cache/oracle
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "oracle: node/npm not found, skipping (tests marked 'oracle' will be skipped)" >&2
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
(cd "$dest" && npm install --no-package-lock --no-audit --no-fund --loglevel=error >/dev/null)
touch "$stamp"
echo "oracle: installed in $dest" >&2
