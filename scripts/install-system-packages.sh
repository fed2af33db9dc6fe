#!/usr/bin/env bash
# Installs the Debian packages the book and the tests need: TeX Live with xelatex
# and the CJK fonts for the PDF, poppler for reading the PDF back, Chromium for
# the browser tests. Fast when everything is already there.
set -euo pipefail

packages=(
  make git
  texlive-xetex texlive-latex-recommended texlive-latex-extra texlive-fonts-recommended
  texlive-lang-chinese texlive-lang-cjk fonts-noto-cjk fonts-freefont-otf tex-gyre
  latexmk xindy
  poppler-utils
  chromium
  openjdk-17-jre-headless
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing Debian packages: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "error: these Debian packages are missing and this user is not root: ${missing[*]}" >&2
    echo "run as root: apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
else
  SUDO=
fi
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
