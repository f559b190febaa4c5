#!/usr/bin/env bash
# Everything corpus-kit needs on a fresh Debian machine (run as root): the
# Debian packages, a docker daemon when none answers, and the npm dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(docker.io debootstrap git xz-utils curl ca-certificates nginx supervisor redis-server docker-registry apache2-utils
  util-linux  # flock(1), the kit's cross-process locks
  openssh-server openssl  # render's sshd -t, ca
  logrotate python3-venv)  # run by the stack's cron; a venv for circus (below)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# render validates sshd_config with sshd -t, which needs the privilege separation
# directory the ssh service creates at boot.
mkdir -p -m 0755 /run/sshd

if ! docker version --format '{{.Server.Version}}' >/dev/null 2>&1; then
  echo "setup: starting dockerd"
  # No bridge and no iptables: the kit's containers use --network none or --network host.
  nohup dockerd --bridge=none --iptables=false --ip6tables=false >/tmp/corpus-kit-dockerd.log 2>&1 &
  for _ in $(seq 1 60); do
    docker version --format '{{.Server.Version}}' >/dev/null 2>&1 && break
    sleep 1
  done
  docker version --format 'setup: dockerd {{.Server.Version}} is up' || { tail -20 /tmp/corpus-kit-dockerd.log; exit 1; }
fi

# circus (the alternate supervisor, `supervisor: circus`) is not packaged by
# Debian: from PyPI into its own venv, its two commands linked onto PATH.
if ! command -v circusd >/dev/null 2>&1; then
  echo "setup: installing circus (PyPI) into /opt/circus"
  /usr/bin/python3 -m venv /opt/circus   # Debian's python (python3-venv); another python3 may come first on PATH
  /opt/circus/bin/pip install -q circus==0.19.0
  ln -sf /opt/circus/bin/circusd /opt/circus/bin/circusctl /usr/local/bin/
fi
npm ci --no-audit --no-fund
