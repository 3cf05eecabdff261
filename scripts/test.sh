#!/usr/bin/env bash
# Set up and run the whole test suite: lint, types, the C core under sanitizers, pytest.
# Under CI=true a missing tool or an unreachable PostgreSQL fails the run instead of skipping.
set -euo pipefail
source "$(dirname "$0")/setup.sh"
cd "$BANKKEYS_ROOT"

ensure_apt_packages gcc libc6-dev openssl libengine-gost-openssl softhsm2 gnutls-bin \
    poppler-utils zbar-tools chromium
ensure_postgres
ensure_venv "[test]"

say "test file names"
# pytest's default import mode needs unique test module basenames across folders.
dupes=$(find tests -name 'test_*.py' -printf '%f\n' | sort | uniq -d)
[ -z "$dupes" ] || { echo "duplicate test module names: $dupes"; exit 1; }
say "ruff"
"$VENV/bin/ruff" check src tests bench
"$VENV/bin/ruff" format --check src tests bench
say "mypy"
"$VENV/bin/mypy"
say "C core under AddressSanitizer + UndefinedBehaviorSanitizer"
scripts/ctest.sh
say "pytest"
"$VENV/bin/python" -m pytest -n auto "$@"
