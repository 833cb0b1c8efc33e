#!/usr/bin/env bash
# Debian packages RepairDesk needs at run and test time: tesseract (OCR) with the label languages,
# chromium for the browser tests, promtool (Debian package prometheus) for the alert-rule tests and
# pdftotext (poppler-utils) for invoice2data in the document benchmark.
# Installs what is missing when root; otherwise says what to run.
# `system-deps.sh run`: only what serving needs (no chromium, no promtool), for `make run`.
set -euo pipefail
mode="${1:-all}"
need=()
command -v tesseract >/dev/null 2>&1 || need+=(tesseract-ocr)
for lang in deu fra nld spa; do
  [ -n "$(ls /usr/share/tesseract-ocr/*/tessdata/${lang}.traineddata 2>/dev/null)" ] || need+=("tesseract-ocr-${lang}")
done
[ "$mode" = "run" ] || [ -x /usr/bin/chromium ] || need+=(chromium)
[ "$mode" = "run" ] || command -v promtool >/dev/null 2>&1 || need+=(prometheus)
# pdftotext: invoice2data's reader in the side-by-side benchmark (benchmarks/real_invoices.py).
[ "$mode" = "run" ] || command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
fc-list 2>/dev/null | grep -qi dejavu || need+=(fonts-dejavu-core)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
else
  echo "missing Debian packages: ${need[*]}" >&2
  echo "install them with: sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi
