#!/usr/bin/env bash
# Sets up everything Lutra needs on a Debian machine: system packages (deps/*.apt), a virtualenv at
# .venv and the Python packages (pyproject.toml + deps/*.pip). Safe to run again: it only installs
# what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

want=$(cat deps/*.apt 2>/dev/null | sed 's/#.*//' | tr -s ' \t' '\n' | sed '/^$/d' | sort -u)
missing=()
for pkg in $want; do
  # installed as a package, or its command is already provided (e.g. node/npm installed another way)
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" && continue
  command -v "$pkg" >/dev/null 2>&1 && continue
  missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing system packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  $PY -m venv .venv
fi
stamp=.venv/.lutra-deps
digest=$(cat pyproject.toml deps/*.pip 2>/dev/null | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$digest" ]; then
  echo "setup: installing Python packages"
  .venv/bin/python -m pip install -q --upgrade pip wheel
  extra=$(cat deps/*.pip 2>/dev/null | sed 's/#.*//' | sed '/^\s*$/d' || true)
  # shellcheck disable=SC2086
  .venv/bin/python -m pip install -q -e ".[test]" $extra
  echo "$digest" > "$stamp"
fi
for hook in scripts/setup.d/*.sh; do
  [ -e "$hook" ] && bash "$hook"
done
echo "setup: ready"
