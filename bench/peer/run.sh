#!/usr/bin/env bash
# Side by side on this machine (issue 19 point 4): a clip-retrieval-style torch + PIL loop against
# `sparkclip embed`, on the same JPEGs, tar shards and random-weight ViT-B/32-sized CLIP (the same
# weights as a torch model and as its ONNX export), then Pillow against sparkclip's exact decode +
# preprocess path on one pinned core. Prints one table (and keeps it in $work/report.txt).
#
#   bench/peer/run.sh [N_IMAGES]            # default 300
#   flock /tmp/sparkclip-build.lock bench/peer/run.sh    # on a shared build machine
#
# Environment:
#   BENCH_WORK            work folder, kept (images and model reused on a re-run); default: a
#                         mktemp folder removed at the end (PEER_KEEP=1 keeps it)
#   PEER_PYTHON           a Python with torch, Pillow, numpy (pyarrow optional); default: the first
#                         that has them of ~/.cache/sparkclip-peer/venv/bin/python (made by
#                         bench/peer/setup-python.sh from local wheels), /usr/bin/python3, python3
#   PEER_SHARDS           tar shards (default 2)          PEER_BATCH   torch loop batch (default 32)
#   PEER_WORKERS          DataLoader workers (default 1)  PEER_TORCH_THREADS (default 2)
#   PEER_DECODE_SECONDS   seconds per preprocessing figure (default 5)
#   PEER_CORE             the core the preprocessing comparison is pinned to (default 0)
# Needs: a JDK 17+ and Maven (./sparkclip builds its jar on first use), taskset (util-linux).
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$(pwd)"

n="${1:-300}"
[[ "$n" =~ ^[0-9]+$ && "$n" -ge 2 ]] || { echo "usage: bench/peer/run.sh [N_IMAGES >= 2]" >&2; exit 2; }
shards="${PEER_SHARDS:-2}"
dsec="${PEER_DECODE_SECONDS:-5}"
core="${PEER_CORE:-0}"
command -v taskset >/dev/null || { echo "run.sh: taskset is needed (apt-get install util-linux)" >&2; exit 1; }
command -v java >/dev/null || { echo "run.sh: java (a JDK 17+) is needed" >&2; exit 1; }

py=""
for cand in ${PEER_PYTHON:-} "$HOME/.cache/sparkclip-peer/venv/bin/python" /usr/bin/python3 python3; do
  [[ -n "$cand" ]] && command -v "$cand" >/dev/null 2>&1 || continue
  if "$cand" -c 'import torch, PIL, numpy' >/dev/null 2>&1; then py="$cand"; break; fi
  [[ -n "${PEER_PYTHON:-}" && "$cand" == "$PEER_PYTHON" ]] &&
    { echo "run.sh: PEER_PYTHON=$PEER_PYTHON cannot import torch, PIL and numpy" >&2; exit 1; }
done
if [[ -z "$py" ]]; then
  cat >&2 <<'EOF'
run.sh: no Python with torch, Pillow (PIL) and numpy found. Either
  bench/peer/setup-python.sh                     (a venv from wheel files on this machine, no index), or
  apt-get install python3-torch python3-pil python3-numpy   (Debian), or
  PEER_PYTHON=/path/to/python bench/peer/run.sh
EOF
  exit 1
fi

keep="${PEER_KEEP:-}"
if [[ -n "${BENCH_WORK:-}" ]]; then
  work="$BENCH_WORK"
  keep=1
  mkdir -p "$work"
else
  work="$(mktemp -d "${TMPDIR:-/tmp}/sparkclip-peer.XXXXXX")"
fi
cleanup() { [[ -n "$keep" ]] || rm -rf "$work"; }
trap cleanup EXIT
log() { printf '[peer %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
started="$(now)"
log "work folder $work (python: $py)"

# --- the machine
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
cpu="$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)"
[[ -n "$cpu" ]] || cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
java_v="$(java -version 2>&1 | head -1)"

# --- inputs: JPEGs, tar shards, the model
images="$work/images"
if [[ "$(cat "$images/.count" 2>/dev/null)" != "$n" ]]; then
  rm -rf "$images"
  log "making $n JPEGs (bench/make_bench_images.py's generator)"
  "$py" bench/peer/peer.py images "$images" "$n" >&2
  echo "$n" >"$images/.count"
fi
tars="$work/tars"
rm -rf "$tars"
"$py" bench/peer/peer.py shards "$images" "$tars" "$shards" >&2
model="$work/ViT-B-32__random"
torch_pt="$work/vit-b32-random.pt"
if [[ ! -f "$model/.done" || ! -f "$torch_pt" ]]; then
  rm -rf "$model" "$torch_pt"
  log "making the random-weight ViT-B/32-sized CLIP (tools/make_fixtures.py --vit-b32) and its torch weights"
  "$py" bench/peer/peer.py model "$model" "$torch_pt" >&2
  touch "$model/.done"
fi

# --- the jar (untimed: ./sparkclip builds it when a source is newer)
log "checking the sparkclip jar"
./sparkclip --version >/dev/null

# --- 1. the torch + PIL loop
log "torch + PIL loop ($n pairs)"
t0="$(now)"
"$py" bench/peer/peer.py torch-loop "$tars" "$model" "$torch_pt" "$work/torch.npz" >"$work/torch.log"
t1="$(now)"
tail -1 "$work/torch.log" >"$work/torch.json"
torch_wall="$(elapsed "$t0" "$t1")"

# --- 2. sparkclip embed
log "sparkclip embed ($n pairs)"
out="$work/embedded"
rm -rf "$out"
embed_cmd=(./sparkclip embed "$tars" --model "$model" --out "$out" --quiet)
t0="$(now)"
"${embed_cmd[@]}" >"$work/embed.log" 2>&1 || { tail -30 "$work/embed.log" >&2; echo "run.sh: sparkclip embed failed (log: $work/embed.log)" >&2; exit 1; }
t1="$(now)"
embed_wall="$(elapsed "$t0" "$t1")"

# --- 3. cosines, matched by key
log "cosines"
if "$py" -c 'import pyarrow' >/dev/null 2>&1; then
  "$py" bench/peer/peer.py cosine "$work/torch.npz" "$out" >"$work/cosine.log"
else
  log "no pyarrow: reading the Parquet with bench/peer/EmbeddingsDump.java"
  # shellcheck disable=SC2046
  SPARK_LOCAL_IP="${SPARK_LOCAL_IP:-127.0.0.1}" \
    CLASSPATH="jobs/target/sparkclip-jobs.jar:$(cat jobs/target/launcher/spark-classpath.txt)" \
    java -Xmx2g $(cat jobs/target/launcher/jvm-options.txt) -Dlog4j2.configurationFile="$root/conf/log4j2.properties" \
    bench/peer/EmbeddingsDump.java "$out" "$work/embedded-bin" >&2
  "$py" bench/peer/peer.py cosine "$work/torch.npz" "$out" "$work/embedded-bin" >"$work/cosine.log"
fi
tail -1 "$work/cosine.log" >"$work/cosine.json"

# --- 4. preprocessing on one pinned core
# bench/run.sh reads every file in the folder: the JPEGs alone go in, to both sides.
jpegs="$work/images-only"
rm -rf "$jpegs" && mkdir -p "$jpegs" && ln -s "$images"/*.jpg "$jpegs"/
log "Pillow decode + open_clip eval transform on core $core (${dsec} s per figure)"
PEER_MODEL="$model" taskset -c "$core" "$py" bench/peer/peer.py pillow "$jpegs" "$dsec" >"$work/pillow.log"
tail -1 "$work/pillow.log" >"$work/pillow.json"
log "sparkclip decode + preprocess (bench/run.sh decode) on core $core"
taskset -c "$core" bench/run.sh decode "$jpegs" "$dsec" >"$work/clipbench.log" 2>&1 ||
  { tail -30 "$work/clipbench.log" >&2; echo "run.sh: bench/run.sh decode failed" >&2; exit 1; }

load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
total="$(elapsed "$started" "$(now)")"

# --- the table
W="$work" N="$n" TORCH_WALL="$torch_wall" EMBED_WALL="$embed_wall" NPROC="$(nproc)" CPU="$cpu" \
  JAVA_V="$java_v" LOAD_BEFORE="$load_before" LOAD_AFTER="$load_after" EMBED_CMD="${embed_cmd[*]}" \
  "$py" - <<'EOF'
import json, os, re, sys
w = os.environ["W"]
rd = lambda f: json.load(open(os.path.join(w, f)))
torch = rd("torch.json"); torch["wall_s"] = float(os.environ["TORCH_WALL"])
run = rd("embedded/_embed_run.json")
log = open(os.path.join(w, "embed.log")).read()
m = re.search(r"rows embedded\s+([\d,]+)", log)
rows = int(m.group(1).replace(",", "")) if m else run.get("rows_embedded_now")
cmd = os.environ["EMBED_CMD"].replace(w, "$work")
spark = {"rows": rows, "job_s": run.get("seconds"), "wall_s": float(os.environ["EMBED_WALL"]),
         "status": run.get("embed_status"), "cmd": cmd}
cb = {}
for line in open(os.path.join(w, "clipbench.log")):
    f = line.split()
    if line.startswith("auto (default)"):
        cb["auto_decode"], cb["auto_full"] = float(f[-2]), float(f[-1])
    elif line.startswith("auto + reducedJpegTarget"):
        cb["reduced_full"] = float(f[-1])
    elif line.startswith("imageio"):
        cb["imageio_full"] = float(f[-1])
if "auto_full" not in cb:
    sys.exit("run.sh: no 'auto (default)' line in clipbench.log")
import platform
res = {"torch": torch, "sparkclip": spark, "cosine": rd("cosine.json"), "pillow": rd("pillow.json"),
       "clipbench": cb,
       "machine": {"nproc": os.environ["NPROC"], "cpu": os.environ["CPU"], "java": os.environ["JAVA_V"],
                   "python": platform.python_version(), "load_before": os.environ["LOAD_BEFORE"],
                   "load_after": os.environ["LOAD_AFTER"]}}
json.dump(res, open(os.path.join(w, "results.json"), "w"), indent=1)
EOF
"$py" bench/peer/peer.py report "$work/results.json" | tee "$work/report.txt"
printf 'run: %s pairs, %.0f s in all (bench/peer/run.sh %s)\n' "$n" "$total" "$n" | tee -a "$work/report.txt"
