#!/usr/bin/env bash
# Web page tests in Firefox (test/web/web-firefox.test.ts): Debian's
# firefox-esr, driven by puppeteer-core over WebDriver BiDi through
# executablePath /usr/bin/firefox-esr (no browser download). Idempotent and
# fast when it is already installed.
set -euo pipefail

if ! [ -x /usr/bin/firefox-esr ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends firefox-esr fonts-dejavu-core >/dev/null
fi
