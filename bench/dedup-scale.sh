#!/usr/bin/env bash
# Near-duplicate image dedup scaling (issue 14), on embedded local[*] Spark.
#   bench/dedup-scale.sh [rows ...]      (default: 10000 100000 300000)
#   bench/dedup-scale.sh --heavy [N]     (default N: 20000)
# Scaling: per size, generated pairs with images (default fault mix: exact, URL and near
# duplicates - re-encodes, resizes, crops; sides 64-320 px as in the demo), then, each in its own
# JVM under /usr/bin/time -v:
#   floor     DedupFloorBench: decode + pHash/colour grid/thumbnail of every image once, a count
#   dedup     sparkclip dedup with its defaults (exact URL, exact image, near image)
#   embed     sparkclip embed with the demo model (only the input of semdedup)
#   semdedup  sparkclip semdedup with its defaults
# and a table (wall time, peak RSS, candidate pairs per row and the near-image share of the dedup
# time where the dedup summary reports them), the fitted scaling exponent k (least-squares slope
# of log time on log rows over all sizes; t ~ rows^k) and dedup / floor at the largest size.
# Heavy cluster: N re-encodings of ONE image plus N distinct images (HeavyClusterInput) against 2N
# distinct images (generated with every fault rate 0); both dedup times and the rows kept among
# the N copies (1 is right).
# Wall time includes JVM and Spark start-up. Driver and executors are one JVM (local mode), so
# peak RSS is both.
# Environment: BENCH_WORK (keep data there and reuse generated inputs of the same size; default a
# temporary folder removed at exit), SPARKCLIP_DRIVER_MEMORY (heap, default 6g), BENCH_SEMDEDUP
# (default 1; 0 leaves out embed and semdedup, for a dedup-only run).
# The jar and the bench classes are built once and copied, so editing sources while it runs does
# not change what is measured. Needs bash, /usr/bin/time, java 17, mvn and python3.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
heavy=
if [[ "${1:-}" == --heavy ]]; then
  heavy="${2:-20000}"
  (( $# > 2 )) && { echo "usage: $0 --heavy [N]" >&2; exit 2; }
else
  sizes=("$@")
  (( ${#sizes[@]} )) || sizes=(10000 100000 300000)
fi
for n in ${heavy:-} ${sizes[@]+"${sizes[@]}"}; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "not a row count: $n" >&2; exit 2; }
done
mem="${SPARKCLIP_DRIVER_MEMORY:-6g}"
semdedup="${BENCH_SEMDEDUP:-1}"
model="$root/models/sparkclip-demo-clip"
sides=(--min-side 64 --max-side 320)
work="${BENCH_WORK:-$(mktemp -d /tmp/sparkclip-bench-dedup.XXXXXX)}"
[[ -z "${BENCH_WORK:-}" ]] && trap 'rm -rf "$work"' EXIT
mkdir -p "$work/jar"

"$root/sparkclip" --version >/dev/null # builds the jar if the sources changed
# The bench mains are test sources (not in the shaded jar): compile them, as bench/run.sh does.
(cd "$root" && mvn -B -ntp -q -pl jobs -am -DskipTests -Dspotless.check.skip=true test-compile) >/dev/null
cp "$root/jobs/target/sparkclip-jobs.jar" "$root"/jobs/target/launcher/*.txt "$work/jar/"
rm -rf "$work/jar/test-classes"
mkdir -p "$work/jar/test-classes/io/sparkclip/jobs"
cp -r "$root/jobs/target/test-classes/io/sparkclip/jobs/bench" "$work/jar/test-classes/io/sparkclip/jobs/"

jvm() {
  # Classpath via the environment (ONNX Runtime's native init dislikes long command lines).
  # shellcheck disable=SC2046
  CLASSPATH="$work/jar/sparkclip-jobs.jar:$work/jar/test-classes:$(cat "$work/jar/spark-classpath.txt")" \
    SPARK_LOCAL_IP=127.0.0.1 SPARKCLIP_HOME="$root" java -Xmx"$mem" \
    $(cat "$work/jar/jvm-options.txt") -Dlog4j2.configurationFile="$root/conf/log4j2.properties" "$@"
}
sc() { jvm io.sparkclip.jobs.SparkclipCli "$@"; }
bench() { jvm "io.sparkclip.jobs.bench.$1" "${@:2}"; }
export -f jvm sc bench
export work root mem

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2 " GiB RAM"}'), $(java -version 2>&1 | head -1)"
echo "heap: $mem (local[*]: driver and executors in one JVM); load before: $(uptime | sed 's/.*load/load/')"

# stage NAME ROWS sc|bench ARGS...: one command in its own JVM under /usr/bin/time -v; writes
# NAME-ROWS.{log,time,secs,rss} (rss in KB) and prints one result line.
stage() {
  local name=$1 rows=$2 log="$work/$1-$2.log"
  shift 2
  local t0 t1 secs rss
  t0=$(date +%s.%N)
  /usr/bin/time -v -o "$work/$name-$rows.time" bash -c '"$@"' run "$@" >"$log" 2>&1 ||
    { echo "$name failed:"; tail -40 "$log"; exit 1; }
  t1=$(date +%s.%N)
  secs=$(echo "$t1 - $t0" | bc)
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/$name-$rows.time")
  echo "$secs" >"$work/$name-$rows.secs"
  echo "$rss" >"$work/$name-$rows.rss"
  printf '%-16s %9d rows  %8.1f s  %9.0f rows/s  peak RSS %5.2f GB\n' "$name" "$rows" "$secs" \
    "$(echo "$rows / $secs" | bc -l)" "$(echo "$rss / 1048576" | bc -l)"
}

# generate NAME DIR ROWS [generate flags]: pairs with images, reused when DIR holds the same
# request (same rows, sides and flags; seed 42).
generate() {
  local name=$1 dir=$2 rows=$3
  shift 3
  local want="rows $rows ${sides[*]} $*"
  if [[ -f "$dir.params" && "$(cat "$dir.params")" == "$want" ]] &&
    grep -q "\"rows\" : $rows," "$dir/_sparkclip_generate.json" 2>/dev/null; then
    echo "generate: reusing $dir"
  else
    rm -f "$dir.params"
    stage "$name" "$rows" sc generate --rows "$rows" "${sides[@]}" "$@" \
      --seed 42 --out "$dir" --overwrite
    echo "$want" >"$dir.params"
  fi
}

# summary DIR: the dedup summary's details, and key=value lines for the table.
summary() {
  python3 - "$1/_summary.json" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
d = s.get("details", {})

def find(o, key):
    if isinstance(o, dict):
        if key in o:
            return o[key]
        for v in o.values():
            r = find(v, key)
            if r is not None:
                return r
    return None

def steps(o):
    # Per-step seconds: a dict of numbers under a key that names seconds or timings.
    if isinstance(o, dict):
        for k, v in o.items():
            if (isinstance(v, dict) and v and any(w in k for w in ("second", "timing"))
                    and all(isinstance(x, (int, float)) for x in v.values())):
                return v
        for v in o.values():
            r = steps(v)
            if r is not None:
                return r
    return None

rows = s.get("rows_in") or 0
cp, cpr = find(d, "candidate_pairs"), find(d, "candidate_pairs_per_row")
if cpr is None and cp is not None and rows:
    cpr = cp / rows
st = steps(d)
share = None
if st and s.get("seconds"):
    near = sum(v for k, v in st.items() if "near_image" in k or k in ("image", "near-image"))
    share = near / s["seconds"]
fmt = lambda v, f: "n/a" if v is None else f % v
print("details: " + json.dumps(d, separators=(",", ":")))
print("candidate_pairs: %s, candidate_pairs_per_row: %s, near-image share: %s" % (
    fmt(cp, "%d"), fmt(cpr, "%.2f"), fmt(share and 100 * share, "%.0f%%")))
with open(sys.argv[1] + ".bench", "w") as f:
    near_s = st and sum(v for k, v in st.items() if "near_image" in k or k in ("image", "near-image"))
    f.write("cpr=%s\nshare=%s\nrows_out=%s\nnear_s=%s\n" % (
        fmt(cpr, "%.2f"), fmt(share and 100 * share, "%.0f%%"), s.get("rows_out", "n/a"),
        fmt(near_s, "%.1f")))
EOF
}
val() { sed -n "s/^$2=//p" "$1/_summary.json.bench"; }
gb() { printf '%.2f' "$(echo "$(cat "$work/$1.rss") / 1048576" | bc -l)"; }
secs() { printf '%.1f' "$(cat "$work/$1.secs")"; }

if [[ -n "$heavy" ]]; then
  n=$heavy
  two=$((2 * n))
  none=()
  for k in exact_duplicate url_duplicate near_duplicate shuffled_caption corrupt_image \
    missing_caption failed_download; do none+=(--fault-rate "$k=0"); done
  src="$work/distinct-$two"
  in="$work/heavy-$n"
  generate generate-distinct "$src" "$two" "${none[@]}"
  if [[ -f "$in.params" && "$(cat "$in.params")" == "from $src $n" ]]; then
    echo "heavy input: reusing $in"
  else
    rm -f "$in.params"
    stage heavy-input "$two" bench HeavyClusterInput build "$src" "$n" "$in"
    grep '^heavy:' "$work/heavy-input-$two.log" | sed 's/^/  /'
    echo "from $src $n" >"$in.params"
  fi
  # Copies in the input and kept in the output: url prefix counts, no Spark.
  copies_in=$(bench HeavyClusterInput count "$in" 2>>"$work/count.log" | sed -n 's/^count: .*: //p')
  stage dedup-distinct "$two" sc dedup "$src" --out "$work/dedup-distinct-$two" --overwrite
  summary "$work/dedup-distinct-$two" | sed 's/^/  /'
  stage dedup-heavy "$two" sc dedup "$in" --out "$work/dedup-heavy-$two" --overwrite
  summary "$work/dedup-heavy-$two" | sed 's/^/  /'
  kept=$(bench HeavyClusterInput count "$work/dedup-heavy-$two/data" 2>>"$work/count.log" |
    sed -n 's/^count: .*: //p')
  echo
  printf '%-44s %10s %9s %9s %10s\n' "input ($two rows)" "dedup s" "RSS GB" "rows out" "cand/row"
  printf '%-44s %10s %9s %9s %10s\n' "$two distinct images" "$(secs "dedup-distinct-$two")" \
    "$(gb "dedup-distinct-$two")" "$(val "$work/dedup-distinct-$two" rows_out)" \
    "$(val "$work/dedup-distinct-$two" cpr)"
  printf '%-44s %10s %9s %9s %10s\n' "$n copies of one image + $n distinct" \
    "$(secs "dedup-heavy-$two")" "$(gb "dedup-heavy-$two")" \
    "$(val "$work/dedup-heavy-$two" rows_out)" "$(val "$work/dedup-heavy-$two" cpr)"
  printf 'heavy / distinct: %.2f x; rows kept among the %s copies: %s (1 expected)\n' \
    "$(echo "$(cat "$work/dedup-heavy-$two.secs") / $(cat "$work/dedup-distinct-$two.secs")" | bc -l)" \
    "${copies_in:-?}" "${kept:-?}"
  echo "load after: $(uptime | sed 's/.*load/load/')"
  exit 0
fi

for rows in "${sizes[@]}"; do
  raw="$work/raw-$rows"
  generate generate "$raw" "$rows"
  stage floor "$rows" bench DedupFloorBench "$raw"
  grep '^floor:' "$work/floor-$rows.log" | sed 's/^/  /'
  stage dedup "$rows" sc dedup "$raw" --out "$work/dedup-$rows" --overwrite
  grep -E '^ +(rows|accounting)' "$work/dedup-$rows.log" | sed 's/^ */  /' || true
  summary "$work/dedup-$rows" | sed 's/^/  /'
  bench DedupRecallBench "$raw" "$work/dedup-$rows" 2>>"$work/recall.log" | sed 's/^/  /' |
    tee "$work/recall-$rows.txt"
  [[ "$semdedup" == 0 ]] && continue
  stage embed "$rows" sc embed "$raw" --model "$model" --out "$work/embed-$rows" --overwrite
  stage semdedup "$rows" sc semdedup "$work/embed-$rows" --out "$work/semdedup-$rows" --overwrite
  grep -E '^ +(rows|accounting)' "$work/semdedup-$rows.log" | sed 's/^ */  /' || true
done
# Figures of a stage left out print as n/a.
opt() { if [[ "$semdedup" != 0 ]]; then "$1" "$2"; else echo n/a; fi; }

echo
printf '%9s %8s %8s %11s %9s %9s %10s %9s %8s\n' rows "floor s" "dedup s" "near-image" \
  "dedup GB" "cand/row" "semdup s" "semdup GB" "embed s"
for rows in "${sizes[@]}"; do
  printf '%9d %8s %8s %11s %9s %9s %10s %9s %8s\n' "$rows" "$(secs "floor-$rows")" \
    "$(secs "dedup-$rows")" "$(val "$work/dedup-$rows" share)" "$(gb "dedup-$rows")" \
    "$(val "$work/dedup-$rows" cpr)" "$(opt secs "semdedup-$rows")" \
    "$(opt gb "semdedup-$rows")" "$(opt secs "embed-$rows")"
done
python3 - "$work" "$semdedup" "${sizes[@]}" <<'EOF'
import math, sys
work, sizes = sys.argv[1], [int(x) for x in sys.argv[3:]]
t = lambda s, n: float(open("%s/%s-%d.secs" % (work, s, n)).read())
for s in ("dedup", "semdedup", "floor") if sys.argv[2] != "0" else ("dedup", "floor"):
    if len(set(sizes)) < 2:
        print("scaling exponent %-9s n/a (needs two sizes)" % s)
        continue
    x = [math.log(n) for n in sizes]
    y = [math.log(t(s, n)) for n in sizes]
    mx, my = sum(x) / len(x), sum(y) / len(y)
    k = sum((a - mx) * (b - my) for a, b in zip(x, y)) / sum((a - mx) ** 2 for a in x)
    print("scaling exponent %-9s k = %.2f (least squares over %s rows)" % (
        s, k, ", ".join(str(n) for n in sizes)))
n = max(sizes)
print("dedup / floor at %d rows: %.1f x (wall times)" % (n, t("dedup", n) / t("floor", n)))
# Near-image stage (decode + hash step and near-image step of the dedup summary) against the
# floor job alone: both without JVM and Spark start-up.
near = [l.split("=", 1)[1] for l in open("%s/dedup-%d/_summary.json.bench" % (work, n))
        if l.startswith("near_s=")]
floor = [l for l in open("%s/floor-%d.log" % (work, n)) if l.startswith("floor:")]
if near and near[0].strip() != "n/a" and floor:
    fs = float(floor[0].rsplit("seconds ", 1)[1].split()[0])
    print("near-image stage / floor job at %d rows: %.1f s / %.1f s = %.2f x" % (
        n, float(near[0]), fs, float(near[0]) / fs))
EOF
echo "load after: $(uptime | sed 's/.*load/load/')"
