#!/usr/bin/env bash
# Installs Lutra as a systemd service on this machine (Debian), as root:
#   sudo deploy/install.sh
# Copies the project to /opt/lutra, sets it up there (system packages, .venv), creates the `lutra`
# user and /var/lib/lutra, installs /etc/lutra/lutra.env (kept if it exists) and the unit, starts it.
set -euo pipefail
[ "$(id -u)" -eq 0 ] || { echo "run as root (sudo)" >&2; exit 1; }
src=$(cd "$(dirname "$0")/.." && pwd)
dest=/opt/lutra

id lutra >/dev/null 2>&1 || useradd --system --home-dir /var/lib/lutra --shell /usr/sbin/nologin lutra
install -d -o lutra -g lutra -m 0750 /var/lib/lutra
install -d -m 0755 /etc/lutra
if [ "$src" != "$dest" ]; then
  mkdir -p "$dest"
  (cd "$src" && tar --exclude=.venv --exclude=data --exclude=.git -cf - .) | (cd "$dest" && tar -xf -)
fi
bash "$dest/scripts/setup.sh"
[ -f /etc/lutra/lutra.env ] || install -m 0640 -g lutra "$dest/deploy/lutra.env" /etc/lutra/lutra.env
install -m 0644 "$dest/deploy/lutra.service" /etc/systemd/system/lutra.service
if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  systemctl enable --now lutra
  systemctl --no-pager status lutra | head -5
else
  echo "systemd is not running here: the unit is installed; start it with 'systemctl enable --now lutra'"
fi
