#!/usr/bin/env bash
# Set up and run the whole test suite: lint, types, the C core under sanitizers, pytest.
# Under CI=true a missing tool or an unreachable PostgreSQL fails the run instead of skipping.
set -euo pipefail
source "$(dirname "$0")/setup.sh"
cd "$BANKKEYS_ROOT"

ensure_apt_packages gcc libc6-dev openssl libengine-gost-openssl softhsm2 gnutls-bin \
    poppler-utils zbar-tools
ensure_postgres
ensure_venv "[test]"

say "ruff"
"$VENV/bin/ruff" check src tests bench
"$VENV/bin/ruff" format --check src tests bench
say "mypy"
"$VENV/bin/mypy"
say "C core under AddressSanitizer + UndefinedBehaviorSanitizer"
scripts/ctest.sh
say "pytest"
"$VENV/bin/python" -m pytest -n auto "$@"
