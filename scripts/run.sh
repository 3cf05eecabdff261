#!/usr/bin/env bash
# Set up and start bankkeys on its embedded defaults (SQLite, software token, demo data).
set -euo pipefail
source "$(dirname "$0")/setup.sh"
cd "$BANKKEYS_ROOT"
ensure_apt_packages gcc libc6-dev
ensure_venv ""
exec "$VENV/bin/bankkeys" demo "$@"
