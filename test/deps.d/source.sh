#!/usr/bin/env bash
# Source-checkout tests: git with `git daemon` and `git http-backend` (both in
# Debian's git package), and an OpenSSH server the ssh:// tests start on loopback.
set -euo pipefail
missing=()
if ! command -v git >/dev/null 2>&1 || [ ! -x /usr/lib/git-core/git-daemon ] || [ ! -x /usr/lib/git-core/git-http-backend ]; then
  missing+=(git)
fi
if ! command -v /usr/sbin/sshd >/dev/null 2>&1 || ! command -v ssh-keygen >/dev/null 2>&1 || ! command -v ssh >/dev/null 2>&1; then
  missing+=(openssh-server openssh-client)
fi
if [ "${#missing[@]}" -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
