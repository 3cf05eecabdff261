#!/usr/bin/env bash
# Regenerate the guides' screenshots (docs/screenshots/*.png): the journey tests take them while
# they walk each journey in Chromium (SQLite runs only; PostgreSQL runs are skipped here).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
rm -f docs/screenshots/*.png
BANKKEYS_SCREENSHOTS=docs "$VENV/bin/python" -m pytest tests/journeys -n 2 -p no:cacheprovider \
    -k "not postgresql and not demo" "$@"
ls -1 docs/screenshots/*.png | wc -l | xargs echo "screenshots:"
