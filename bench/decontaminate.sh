#!/usr/bin/env bash
# Cost and scaling of decontaminate (issue 16), on embedded local[*] Spark.
#   bench/decontaminate.sh [rows ...]      (default: 10000 30000 100000)
# Per size: generated pairs with images (sides 64-320 px as in the demo, the default fault mix)
# of which 1 % copy a held-out evaluation set (--eval-copies 0.01) that has 2,000 more items the
# pool never copies (--eval-extra 2000); then, each in its own JVM:
#   floor          DedupFloorBench: decode + pHash/colour grid/thumbnail of every pool image once,
#                  a count (the work decontaminate cannot avoid on the pool side)
#   decontaminate  sparkclip decontaminate --eval gen=<raw>/_eval_set with its defaults
# and a table: wall and job seconds, seconds per 10,000 rows, copies found against copies
# injected and, against the ground truth (DecontaminateCheckBench), recall and precision (right eval
# id), the scaling exponent k (least-squares slope of log job time on log rows; t ~ rows^k)
# and decontaminate / floor per size.
# Environment: BENCH_WORK (keep data there and reuse generated inputs of the same size; default a
# temporary folder removed at exit), SPARKCLIP_DRIVER_MEMORY (heap, default 4g).
# The jar and the bench classes are built once and copied, so editing sources while it runs does
# not change what is measured. Needs bash, awk, java 17, mvn and python3.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
sizes=("$@")
(( ${#sizes[@]} )) || sizes=(10000 30000 100000)
for n in "${sizes[@]}"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "not a row count: $n" >&2; exit 2; }
done
mem="${SPARKCLIP_DRIVER_MEMORY:-4g}"
work="${BENCH_WORK:-$(mktemp -d /tmp/sparkclip-bench-decon.XXXXXX)}"
[[ -z "${BENCH_WORK:-}" ]] && trap 'rm -rf "$work"' EXIT
mkdir -p "$work/jar"

"$root/sparkclip" --version >/dev/null # builds the jar if the sources changed
# The floor is a test source (not in the shaded jar): compile it, as bench/run.sh does.
(cd "$root" && mvn -B -ntp -q -pl jobs -am -DskipTests -Dspotless.check.skip=true test-compile) >/dev/null
cp "$root/jobs/target/sparkclip-jobs.jar" "$root"/jobs/target/launcher/*.txt "$work/jar/"
rm -rf "$work/jar/test-classes"
mkdir -p "$work/jar/test-classes/io/sparkclip/jobs"
cp -r "$root/jobs/target/test-classes/io/sparkclip/jobs/bench" "$work/jar/test-classes/io/sparkclip/jobs/"

jvm() {
  # Classpath via the environment (ONNX Runtime's native init dislikes long command lines).
  # shellcheck disable=SC2046
  CLASSPATH="$work/jar/sparkclip-jobs.jar:$work/jar/test-classes:$(cat "$work/jar/spark-classpath.txt")" \
    SPARK_LOCAL_IP=127.0.0.1 java -Xmx"$mem" $(cat "$work/jar/jvm-options.txt") \
    -Dlog4j2.configurationFile="$root/conf/log4j2.properties" "$@"
}
sc() { jvm io.sparkclip.jobs.SparkclipCli "$@"; }

echo "machine: $(nproc) cores, $(java -version 2>&1 | head -1)"
echo "heap: $mem (local[*]: driver and executors in one JVM); load before: $(uptime | sed 's/.*load/load/')"

# stage NAME ROWS CMD ARGS...: one command in its own JVM; writes NAME-ROWS.{log,wall}.
stage() {
  local name=$1 rows=$2 log="$work/$1-$2.log"
  shift 2
  local t0 t1
  t0=$(date +%s%N)
  "$@" >"$log" 2>&1 || { echo "$name failed:"; tail -40 "$log"; exit 1; }
  t1=$(date +%s%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f\n", (b - a) / 1e9 }' >"$work/$name-$rows.wall"
}

for rows in "${sizes[@]}"; do
  raw="$work/raw-$rows"
  if grep -q "\"rows\" : $rows," "$raw/_sparkclip_generate.json" 2>/dev/null; then
    echo "generate: reusing $raw"
  else
    stage generate "$rows" sc generate --rows "$rows" --seed 42 --min-side 64 --max-side 320 \
      --eval-copies 0.01 --eval-extra 2000 --out "$raw" --overwrite
  fi
  stage floor "$rows" jvm io.sparkclip.jobs.bench.DedupFloorBench "$raw"
  stage decontaminate "$rows" sc decontaminate "$raw" --out "$work/decon-$rows" \
    --eval "gen=$raw/_eval_set" --overwrite
  stage check "$rows" jvm io.sparkclip.jobs.bench.DecontaminateCheckBench "$raw" "$work/decon-$rows"
  grep '^check:' "$work/check-$rows.log" | sed "s/^/  $rows rows /"
  echo "$rows rows: floor $(cat "$work/floor-$rows.wall") s, decontaminate $(cat "$work/decontaminate-$rows.wall") s (wall)"
done

python3 - "$work" "${sizes[@]}" <<'PY'
import json, math, sys
work, sizes = sys.argv[1], [int(s) for s in sys.argv[2:]]
def wall(name, n): return float(open("%s/%s-%d.wall" % (work, name, n)).read())
def check(n):
    for l in open("%s/check-%d.log" % (work, n)):
        if l.startswith("check:"):
            p = dict(kv.split(" ", 1) for kv in l[len("check: "):].strip().split(", "))
            return float(p["recall"]), float(p["precision"])
    return float("nan"), float("nan")
def floor_job(n):
    for l in open("%s/floor-%d.log" % (work, n)):
        if l.startswith("floor:"):
            return float(l.rsplit("seconds ", 1)[1].split()[0])
    return float("nan")
rows = []
print("%9s %10s %10s %10s %10s %10s %12s %8s %9s" % ("rows", "floor job", "decon job", "decon wall",
      "job/floor", "job s/10k", "found/copies", "recall", "precision"))
for n in sizes:
    s = json.load(open("%s/decon-%d/_summary.json" % (work, n)))
    g = json.load(open("%s/raw-%d/_sparkclip_generate.json" % (work, n)))
    job, fl = s["seconds"], floor_job(n)
    d = s["details"]
    rows.append((n, job))
    r, p = check(n)
    print("%9d %10.1f %10.1f %10.1f %10.2f %10.2f %6d/%-5d %8.4f %9.4f" % (n, fl, job,
          wall("decontaminate", n), job / fl, job * 10000 / n, d["rows_matched"],
          g["faults"]["eval_copy"], r, p))
    print("          comparisons %d, confirmed %d, eval key rows %d, keys split %d, sub-keys dropped"
          " %d; eval set %s" % (d["thumbnail_comparisons"], d["confirmed_pairs"], d["eval_key_rows"],
          d["eval_keys_held_by_more_than_cap"], d["eval_sub_keys_dropped"],
          d["eval_sets"][0]["items"]))
if len(rows) > 1:
    xs = [math.log(n) for n, _ in rows]; ys = [math.log(t) for _, t in rows]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    k = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    print("scaling exponent (job seconds, %d sizes): k = %.2f" % (len(rows), k))
PY
echo "load after: $(uptime | sed 's/.*load/load/')"
