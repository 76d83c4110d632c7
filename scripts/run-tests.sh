#!/usr/bin/env bash
# Run the whole pytest suite twice: on SQLite, then on PostgreSQL + Redis.
#
#   scripts/run-tests.sh [--only sqlite|pg] [PYTEST ARGS / TARGETS...]
#
#   pass 1  SQLite: PROPENSITY_TEST_DATABASE_URL / PROPENSITY_TEST_REDIS_URL
#           are unset, the suite makes its own temp SQLite files.
#   pass 2  PostgreSQL + Redis: run under scripts/test-services.sh, which
#           starts throwaway servers and exports those two variables.
#   Before both, scripts/ensure-chromium.sh installs Debian's Chromium for
#   the browser tests (tests/web/) when it is missing.
#
# Stops at the first failing pass. pytest's exit code 5 ("no tests
# collected") counts as a failure. Exit code: the failing pass's pytest code.
#
# Environment:
#   PYTHON       interpreter with pytest installed (default: .venv/bin/python)
#   PYTEST_ARGS  options for every pass (default: "-q -p no:cacheprovider -n 2");
#                shell quoting is honoured, e.g. PYTEST_ARGS='-q -k "a and b"'
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

only=all
if [[ "${1:-}" == "--only" ]]; then
  only="${2:?--only needs sqlite or pg}"
  shift 2
fi
case "$only" in all | sqlite | pg) ;; *) echo "--only: expected sqlite or pg, got '$only'" >&2; exit 2 ;; esac

PYTHON="${PYTHON:-.venv/bin/python}"
PYTEST_ARGS="${PYTEST_ARGS--q -p no:cacheprovider -n 2}"
eval "pytest_args=($PYTEST_ARGS)"
pytest_cmd=("$PYTHON" -m pytest "${pytest_args[@]}" "$@")

summary=()

# The browser tests (tests/web/) drive Debian's Chromium; install it once, before any pass.
scripts/ensure-chromium.sh

# run_pass LABEL COMMAND... : runs COMMAND, records the result, returns its code.
run_pass() {
  local label="$1" rc t0=$SECONDS
  shift
  printf '\n== tests on %s ==\n' "$label"
  set +e
  "$@"
  rc=$?
  set -e
  local took=$((SECONDS - t0))
  if ((rc == 0)); then
    summary+=("$label: passed (${took}s)")
  elif ((rc == 5)); then
    echo "!! pytest collected no tests on $label: treated as a failure" >&2
    summary+=("$label: FAILED, no tests collected (${took}s)")
  else
    summary+=("$label: FAILED, pytest exit $rc (${took}s)")
  fi
  return "$rc"
}

finish() {
  local rc=$1 joined
  joined="$(printf '%s; ' "${summary[@]}")"
  if ((rc == 0)); then
    printf '\n== summary: all passes OK: %s==\n' "$joined"
  else
    printf '\n== summary: FAILED (exit %s): %s==\n' "$rc" "$joined" >&2
  fi
  exit "$rc"
}

if [[ "$only" == all || "$only" == sqlite ]]; then
  run_pass "SQLite" env -u PROPENSITY_TEST_DATABASE_URL -u PROPENSITY_TEST_REDIS_URL \
    "${pytest_cmd[@]}" || finish $?
fi
if [[ "$only" == all || "$only" == pg ]]; then
  run_pass "PostgreSQL + Redis" scripts/test-services.sh "${pytest_cmd[@]}" || finish $?
fi
finish 0
