#!/usr/bin/env bash
# Cost of the basic filter (issue 16): seconds per 10,000 rows of `sparkclip basic-filter` on
# generated pairs with images (sides 64-512 px, the generator's defaults), on embedded local[*].
#   bench/basic-filter.sh [rows ...]      (default: 10000 100000)
# Per size, each in its own JVM:
#   basic-filter        the defaults (DataComp's basic filter: caption bounds, image header size
#                       and aspect ratio, English by Lingua among the 12 default candidates)
#   basic-filter-nolang the same with --languages any: the header and caption checks alone, so the
#                       difference is Lingua's share
# and a table of the job's own seconds (its _summary.json: read, check, write, count back; no JVM
# or Spark start-up) and wall seconds, both per 10,000 rows, and the scaling exponent between the
# smallest and largest size (time ~ rows^k; the stage is a map, k should be about 1).
# Environment: BENCH_WORK (keep data there and reuse generated inputs of the same size; default a
# temporary folder removed at exit), SPARKCLIP_DRIVER_MEMORY (heap, default 4g).
# The jar is built once and copied, so editing sources while it runs does not change what is
# measured. Needs bash, awk, java 17 and mvn (for the first build of the jar).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
sizes=("$@")
(( ${#sizes[@]} )) || sizes=(10000 100000)
for n in "${sizes[@]}"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "not a row count: $n" >&2; exit 2; }
done
mem="${SPARKCLIP_DRIVER_MEMORY:-4g}"
work="${BENCH_WORK:-$(mktemp -d /tmp/sparkclip-bench-basic.XXXXXX)}"
[[ -z "${BENCH_WORK:-}" ]] && trap 'rm -rf "$work"' EXIT
mkdir -p "$work/jar"

"$root/sparkclip" --version >/dev/null # builds the jar if the sources changed
cp "$root/jobs/target/sparkclip-jobs.jar" "$root"/jobs/target/launcher/*.txt "$work/jar/"
sc() {
  # Classpath via the environment (ONNX Runtime's native init dislikes long command lines).
  # shellcheck disable=SC2046
  CLASSPATH="$work/jar/sparkclip-jobs.jar:$(cat "$work/jar/spark-classpath.txt")" \
    SPARK_LOCAL_IP=127.0.0.1 java -Xmx"$mem" $(cat "$work/jar/jvm-options.txt") \
    -Dlog4j2.configurationFile="$root/conf/log4j2.properties" io.sparkclip.jobs.SparkclipCli "$@"
}

echo "machine: $(nproc) cores, $(java -version 2>&1 | head -1)"
echo "heap: $mem (local[*]: driver and executors in one JVM); load before: $(uptime | sed 's/.*load/load/')"

# stage NAME ROWS ARGS...: one sparkclip command in its own JVM; writes NAME-ROWS.{log,wall}.
stage() {
  local name=$1 rows=$2 log="$work/$1-$2.log"
  shift 2
  local t0 t1
  t0=$(date +%s%N)
  sc "$@" >"$log" 2>&1 || { echo "$name failed:"; tail -40 "$log"; exit 1; }
  t1=$(date +%s%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f\n", (b - a) / 1e9 }' >"$work/$name-$rows.wall"
}

# The job's own seconds, from the stage's _summary.json.
job_secs() { grep -oE '"seconds" : [0-9.]+' "$1/_summary.json" | tail -1 | awk '{print $3}'; }
per10k() { awk -v s="$1" -v n="$2" 'BEGIN { printf "%.2f", s * 10000 / n }'; }

for rows in "${sizes[@]}"; do
  raw="$work/raw-$rows"
  if grep -q "\"rows\" : $rows," "$raw/_sparkclip_generate.json" 2>/dev/null; then
    echo "generate: reusing $raw"
  else
    stage generate "$rows" generate --rows "$rows" --seed 42 --out "$raw" --overwrite
  fi
  stage basic-filter "$rows" basic-filter "$raw" --out "$work/basic-$rows" --overwrite
  stage basic-filter-nolang "$rows" basic-filter "$raw" --out "$work/basic-nolang-$rows" \
    --languages any --overwrite
  for name in basic-filter basic-filter-nolang; do
    out="$work/basic-$rows"
    [[ "$name" == basic-filter-nolang ]] && out="$work/basic-nolang-$rows"
    printf '%-20s %9d rows  job %7.1f s  wall %7.1f s\n' "$name" "$rows" "$(job_secs "$out")" \
      "$(cat "$work/$name-$rows.wall")"
    grep -E '^ +(rows|basic_filter|accounting)' "$work/$name-$rows.log" | sed 's/^ */  /' || true
  done
done

echo
printf '%9s %22s %22s %22s %22s\n' rows "job s/10k rows" "wall s/10k rows" \
  "job s/10k, no Lingua" "wall s/10k, no Lingua"
for rows in "${sizes[@]}"; do
  printf '%9d %22s %22s %22s %22s\n' "$rows" \
    "$(per10k "$(job_secs "$work/basic-$rows")" "$rows")" \
    "$(per10k "$(cat "$work/basic-filter-$rows.wall")" "$rows")" \
    "$(per10k "$(job_secs "$work/basic-nolang-$rows")" "$rows")" \
    "$(per10k "$(cat "$work/basic-filter-nolang-$rows.wall")" "$rows")"
done
if (( ${#sizes[@]} > 1 )); then
  lo="${sizes[0]}" hi="${sizes[${#sizes[@]}-1]}"
  for prefix in basic basic-nolang; do
    awk -v n0="$lo" -v n1="$hi" -v t0="$(job_secs "$work/$prefix-$lo")" \
      -v t1="$(job_secs "$work/$prefix-$hi")" -v name="$prefix" 'BEGIN {
        if (n0 == n1 || t0 <= 0 || t1 <= 0) { print "scaling exponent " name ": n/a"; exit }
        printf "scaling exponent %-12s k = %.2f (job seconds, %d -> %d rows)\n", name,
          log(t1 / t0) / log(n1 / n0), n0, n1 }'
  done
fi
echo "load after: $(uptime | sed 's/.*load/load/')"
