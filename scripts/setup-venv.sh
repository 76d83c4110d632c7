#!/usr/bin/env bash
# Create the virtualenv (if missing) and install the project with its dev
# extras. Called by `make setup`, which skips it while the stamp file is newer
# than pyproject.toml.
#
#   scripts/setup-venv.sh [VENV_DIR]      (default .venv; PYTHON=python3)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
VENV="${1:-.venv}"
PYTHON="${PYTHON:-python3}"

as_root() {
  if [[ $EUID -eq 0 ]]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"
  else return 1
  fi
}

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  if command -v python3.11 >/dev/null 2>&1; then
    PYTHON=python3.11
  else
    echo "setup: $PYTHON is not Python >= 3.11 (set PYTHON=...)" >&2
    exit 1
  fi
fi

if [[ ! -x "$VENV/bin/python" ]]; then
  echo "setup: creating $VENV with $PYTHON ($("$PYTHON" --version 2>&1))"
  rm -rf -- "$VENV"
  if ! "$PYTHON" -m venv "$VENV"; then
    # Debian's own python3 ships venv's pip bootstrap separately.
    rm -rf -- "$VENV"
    pyver="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
    echo "setup: '$PYTHON -m venv' failed; installing python${pyver}-venv from the Debian packages" >&2
    command -v apt-get >/dev/null 2>&1 || { echo "setup: no apt-get; install the venv module for $PYTHON" >&2; exit 1; }
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "python${pyver}-venv" >/dev/null
    "$PYTHON" -m venv "$VENV"
  fi
fi

pip=("$VENV/bin/python" -m pip --disable-pip-version-check)
"${pip[@]}" install --quiet --upgrade pip
"${pip[@]}" install --progress-bar off -e '.[dev]'
