#!/usr/bin/env bash
# Generator throughput: rows/s of `sparkclip generate`, with images and metadata-only, on local[*].
#   bench/generate.sh [rows-with-images] [rows-metadata-only]
# Prints one line per run; the numbers come from the job's own summary (_sparkclip_generate.json),
# which times the whole job: rendering/encoding, Parquet writing, ground truth and query list.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
img_rows="${1:-20000}"
meta_rows="${2:-1000000}"
work="$(mktemp -d /tmp/sparkclip-bench-gen.XXXXXX)"
trap 'rm -rf "$work"' EXIT

run() {
  local label="$1"; shift
  local out="$work/$label"
  /usr/bin/time -f "%e s wall, %M KB max RSS" "$root/sparkclip" generate --out "$out" "$@" >/dev/null 2>"$work/$label.err" || { cat "$work/$label.err"; exit 1; }
  local rps rows secs
  rows=$(grep -oP '"rows" : \K[0-9]+' "$out/_sparkclip_generate.json")
  secs=$(grep -oP '"seconds" : \K[0-9.]+' "$out/_sparkclip_generate.json")
  rps=$(grep -oP '"rows_per_second" : \K[0-9]+' "$out/_sparkclip_generate.json")
  printf '%-14s rows=%-9s job=%7ss  %8s rows/s  (process: %s)  size=%s\n' \
    "$label" "$rows" "$secs" "$rps" "$(tail -1 "$work/$label.err")" "$(du -sh "$out" | cut -f1)"
}

echo "cores: $(nproc), java: $(java -version 2>&1 | head -1)"
run images --rows "$img_rows"
run metadata-only --rows "$meta_rows" --metadata-only --queries 500000
