#!/usr/bin/env bash
# Installs the system packages the benchmark and tests need, idempotently (Debian/Ubuntu):
#   postfix  - for the smtp-source / smtp-sink test tools used by `npm run bench`
#   openssl  - for TLS test certificates
#   rspamd, spamassassin, spamd - the spam daemons the rspamd and spamassassin plugin tests start
#              on loopback high ports (test/helpers/daemons.ts); their system services are stopped
#   haproxy, swaks, ansible, ansible-lint, python3-apt - the front-door end-to-end test
#              (test/e2e): a private Postfix instance, HAProxy and two Hermod nodes configured by
#              the Ansible roles; swaks sends. The system HAProxy service is stopped too.
#   prometheus - for promtool, which checks the alert rules and dashboard queries under ops/
#              (test/ops/ops-artifacts.test.ts); the Prometheus server itself is stopped
# Postfix is preseeded to "No configuration" and any daemon the package started is stopped:
# only the tools are needed, no MTA should listen on port 25.
# Run as root (or via sudo).
set -euo pipefail

packages=(postfix openssl rspamd spamassassin spamd haproxy swaks ansible ansible-lint python3-apt prometheus)

if [ "$(id -u)" -ne 0 ]; then
  echo "install-system-deps: run as root (sudo $0)" >&2
  exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-system-deps: apt-get not found; install ${packages[*]} with your package manager" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive

missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  echo "postfix postfix/mailname string localhost" | debconf-set-selections
  apt-get update
  apt-get install -y --no-install-recommends "${missing[@]}"
else
  echo "install-system-deps: ${packages[*]} already installed"
fi

# Only the test tools are wanted: stop a Postfix daemon if the package started one.
postfix stop 2>/dev/null || true
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  systemctl disable --now postfix 2>/dev/null || true
fi

# The plugin tests run rspamd and spamd themselves; no system instance should keep running.
for svc in rspamd spamd spamassassin prometheus; do
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    systemctl disable --now "$svc" 2>/dev/null || true
  elif [ -x "/etc/init.d/$svc" ]; then
    "/etc/init.d/$svc" stop >/dev/null 2>&1 || true
  fi
done

# The end-to-end test runs its own HAProxy from the Ansible role's configuration.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  systemctl disable --now haproxy 2>/dev/null || true
elif [ -x /etc/init.d/haproxy ]; then
  /etc/init.d/haproxy stop >/dev/null 2>&1 || true
fi

for tool in smtp-source smtp-sink; do
  if ! command -v "$tool" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$tool" ]; then
    echo "install-system-deps: $tool not found after installing postfix" >&2
    exit 1
  fi
done
for tool in rspamd spamd; do
  if ! command -v "$tool" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$tool" ] && [ ! -x "/usr/bin/$tool" ]; then
    echo "install-system-deps: $tool not found after installing its package" >&2
    exit 1
  fi
done
for tool in haproxy swaks ansible-playbook ansible-lint promtool; do
  if ! command -v "$tool" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$tool" ]; then
    echo "install-system-deps: $tool not found after installing its package" >&2
    exit 1
  fi
done
echo "install-system-deps: smtp-source and smtp-sink available"
