#!/usr/bin/env bash
# embed end to end on one input file against the same number of rows in four files, and against
# the tower bound (issue 19 points 2 and 3).
#   bench/embed-split.sh [MODEL_DIR] [rows]        (default: a ViT-B/32-sized random model, 300)
# MODEL_DIR defaults to $BENCH_WORK/b32, made by tools/make_fixtures.py --vit-b32 (torch: the
# venv of bench/peer/setup-python.sh, else /usr/bin/python3) when missing. Steps, each in its own JVM, on this machine's cores (embedded local[*]):
#   1. tower bound: ClipBench embed MODEL 2 5 (pre-made tensors, 2 intra-op threads, batch 32):
#      pairs/s = 1 / (1/images_per_s + 1/texts_per_s)
#   2. sparkclip generate --rows N --seed 7, as one file (--shard-size N) and as four
#      (--shard-size N/4), sides 256-768 px, default fault mix
#   3. sparkclip embed on each (defaults: batch 32, fp32), wall seconds and the stage's own
#      seconds from _embed_run.json (without JVM start-up)
# and prints pairs/s of both, one file / four files, and each against the tower bound.
# Environment: BENCH_WORK (keep data there; default a temporary folder removed at exit).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${BENCH_WORK:-$(mktemp -d /tmp/sparkclip-bench-embed.XXXXXX)}"
[[ -z "${BENCH_WORK:-}" ]] && trap 'rm -rf "$work"' EXIT
mkdir -p "$work"
model="${1:-$work/b32}"
rows="${2:-300}"
(( rows % 4 == 0 )) || { echo "rows must be a multiple of 4" >&2; exit 2; }
if [[ ! -f "$model/config.json" ]]; then
  # torch: the venv bench/peer/setup-python.sh makes, else Debian's python3-torch.
  py="${PEER_VENV:-$HOME/.cache/sparkclip-peer/venv}/bin/python"
  [[ -x "$py" ]] || py=/usr/bin/python3
  echo "making a random-weight ViT-B/32-sized model in $model ($py, torch)"
  "$py" "$root/tools/make_fixtures.py" --vit-b32 "$model" >"$work/make-model.log" 2>&1 \
    || { tail -20 "$work/make-model.log"; exit 1; }
fi
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(java -version 2>&1 | head -1)"

"$root/bench/run.sh" embed "$model" 2 5 >"$work/tower.log" 2>&1 || { tail -20 "$work/tower.log"; exit 1; }
read -r img txt < <(awk '$1 == 32 { print $2, $3 }' "$work/tower.log")
bound=$(awk -v i="$img" -v t="$txt" 'BEGIN { printf "%.2f", 1 / (1 / i + 1 / t) }')
echo "towers (batch 32, 2 threads): $img images/s, $txt texts/s -> bound $bound pairs/s"

"$root/sparkclip" --version >/dev/null # builds the jar if the sources changed
for layout in one:$rows four:$((rows / 4)); do
  name=${layout%%:*}
  shard=${layout##*:}
  if [[ ! -f "$work/raw-$name/_sparkclip_generate.json" ]]; then
    "$root/sparkclip" generate --rows "$rows" --seed 7 --shard-size "$shard" --min-side 256 \
      --max-side 768 --out "$work/raw-$name" --overwrite >"$work/generate-$name.log" 2>&1
  fi
  t0=$(date +%s%N)
  "$root/sparkclip" embed "$work/raw-$name" --model "$model" --out "$work/emb-$name" --overwrite \
    --quiet >"$work/embed-$name.log" 2>&1 || { tail -30 "$work/embed-$name.log"; exit 1; }
  t1=$(date +%s%N)
  job=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['seconds'])" \
    "$work/emb-$name/_embed_run.json")
  awk -v a="$t0" -v b="$t1" -v j="$job" -v n="$rows" -v name="$name" -v bound="$bound" 'BEGIN {
    w = (b - a) / 1e9
    printf "%s: %d rows, wall %.1f s, stage %.1f s -> %.2f pairs/s (%.0f %% of the tower bound)\n",
      name, n, w, j, n / j, 100 * n / j / bound }' | tee "$work/result-$name.txt"
done
awk '{ for (i = 1; i <= NF; i++) if ($i == "pairs/s") r[FNR == NR ? 1 : 2] = $(i - 1) }
     END { printf "one file / four files: %.2f\n", r[1] / r[2] }' \
  "$work/result-one.txt" "$work/result-four.txt"
