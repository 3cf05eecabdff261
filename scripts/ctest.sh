#!/usr/bin/env bash
# Build every tests/c/test_*.c against the C core (not the Python bindings, py_*.c) with ASan and
# UBSan, and run it. Any sanitizer report or failed check exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${TMPDIR:-/tmp}/bankkeys-ctest"
mkdir -p "$out"
core=()
for f in src/bankkeys/gost/_c/*.c src/bankkeys/pki/_c/*.c; do
    case "$(basename "$f")" in py_*) ;; *) core+=("$f") ;; esac
done
status=0
for t in tests/c/test_*.c; do
    [ -e "$t" ] || continue
    exe="$out/$(basename "$t" .c)"
    ${CC:-gcc} -std=c11 -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -DBK_NO_FORCE_INLINE \
        -fno-sanitize-recover=all -Wall -Wextra -Werror -Isrc/bankkeys/gost/_c -Isrc/bankkeys/pki/_c -Itests/c \
        "$t" "${core[@]}" -o "$exe"
    if ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 "$exe"; then
        echo "ok   $t"
    else
        echo "FAIL $t"; status=1
    fi
done
exit $status
