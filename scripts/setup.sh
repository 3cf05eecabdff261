# shellcheck shell=bash
# Shared by scripts/run.sh and scripts/test.sh: system packages, the virtualenv, the package build.
# Sourced, not executed.

BANKKEYS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${BANKKEYS_VENV:-$BANKKEYS_ROOT/.venv}"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# Install Debian packages that are missing, when we can (root + apt). Otherwise say what is missing;
# the tests that need them skip with the reason (or fail under CI=true).
ensure_apt_packages() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        say "installing system packages: ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
        say "cannot install (not root or no apt): ${missing[*]} — tests needing them will skip"
    fi
}

ensure_postgres() {
    command -v pg_isready >/dev/null || { say "PostgreSQL client not found"; return 0; }
    if ! pg_isready -q -h 127.0.0.1 -p 5432; then
        if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
            say "starting PostgreSQL"
            pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
            for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
        fi
    fi
    pg_isready -q -h 127.0.0.1 -p 5432 || say "PostgreSQL is not reachable at 127.0.0.1:5432"
}

# pip, without this machine's noise about absent local index folders; keeps pip's exit status.
pip_quiet() {
    local status
    set +o pipefail
    "$VENV/bin/python" -m pip "$@" 2>&1 | { grep -v "^WARNING: Location '.*' is ignored" || :; }
    status=${PIPESTATUS[0]}
    set -o pipefail
    return "$status"
}

# Create the virtualenv and (re)build the package with its C extension, editable.
ensure_venv() {
    local extras="${1:-}"
    if [ ! -x "$VENV/bin/python" ]; then
        say "creating virtualenv $VENV"
        python3 -m venv "$VENV"
    fi
    pip_quiet install -q --upgrade "pip>=23" "setuptools>=77" wheel
    say "building bankkeys (C extension included)"
    pip_quiet install -q --no-build-isolation -e "$BANKKEYS_ROOT${extras}"
}
