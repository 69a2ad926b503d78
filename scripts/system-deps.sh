#!/usr/bin/env bash
# The Debian packages the test suite reads our outputs with, installed when missing so that
# `npm test` works on a fresh machine: the CJK font the PDF embeds, poppler (pdftotext, pdffonts),
# openpyxl and LibreOffice (the workbooks). As root it installs them; otherwise it says what to run.
set -euo pipefail
missing=()
[ -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] || missing+=(fonts-noto-cjk)
command -v pdftotext >/dev/null || missing+=(poppler-utils)
/usr/bin/python3 -c 'import openpyxl' 2>/dev/null || missing+=(python3-openpyxl)
command -v soffice >/dev/null || missing+=(libreoffice-calc)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "测试需要 / the tests need these Debian packages: sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"
