#!/usr/bin/env bash
# Debian packages the renderer and the tests need: CJK fonts, fast font subsetting, pdftotext, and Chromium for
# the Temporal UI test (tests/ui/).
# Idempotent: runs apt-get only for what is missing; skipped (with a warning) when not root.
set -euo pipefail
packages=(fonts-dejavu-core fonts-noto-cjk libharfbuzz-subset0 poppler-utils libpango-1.0-0 libpangoft2-1.0-0 chromium)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "warning: missing system packages (${missing[*]}); run as root: apt-get install ${missing[*]}" >&2
  exit 0
fi
echo "installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
