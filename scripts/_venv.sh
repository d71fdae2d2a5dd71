# Shared by scripts/run and scripts/test: create .venv and install the project.
# PYTHON picks the interpreter (default python3, 3.11 or newer).
ensure_venv() {
  local python="${PYTHON:-python3}"
  if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "Renkei needs Python 3.11 or newer; '$python' is not. Set PYTHON=/path/to/python3.11." >&2
    exit 1
  fi
  if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
  fi
  # shellcheck disable=SC1091
  source .venv/bin/activate
  local extras="${1:-}"
  local stamp=".venv/.installed${extras:+-$extras}"
  if [ -z "$extras" ]; then
    # Any install with extras includes the base install.
    for other in .venv/.installed*; do
      if [ -f "$other" ] && [ "$other" -nt pyproject.toml ]; then stamp="$other"; fi
    done
  fi
  # Reinstall only when pyproject.toml changed since the last install.
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    python -m pip install --quiet --upgrade pip
    python -m pip install --quiet -e ".${extras:+[$extras]}"
    touch "$stamp"
  fi
}
