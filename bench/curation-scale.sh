#!/usr/bin/env bash
# Curation at WIT scale (issue 4): metadata-only pairs through match-queries -> exact dedup ->
# balance on embedded local[2] Spark, with 500,000 queries (WIT's figure), at each row count given.
# Prints, per size and stage: wall time, rows/s and the JVM's peak resident memory (driver and
# executor are one JVM in local mode), then the scaling exponent between the smallest and the
# largest size (time ~ rows^k; k = 1 is linear).
#   bench/curation-scale.sh [rows ...]            (default: 1000000 10000000)
# Environment: BENCH_WORK (keep data there and reuse generated inputs of the same size; default a
# temporary folder), BENCH_QUERIES (default 500000), SPARKCLIP_DRIVER_MEMORY (default 4g).
# The jar is built once and copied, so editing sources while it runs does not rebuild it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
sizes=("$@")
(( ${#sizes[@]} )) || sizes=(1000000 10000000)
nq="${BENCH_QUERIES:-500000}"
work="${BENCH_WORK:-$(mktemp -d /tmp/sparkclip-bench-scale.XXXXXX)}"
[[ -z "${BENCH_WORK:-}" ]] && trap 'rm -rf "$work"' EXIT
mkdir -p "$work/jar"

"$root/sparkclip" --version >/dev/null # builds the jar if the sources changed
cp "$root/jobs/target/sparkclip-jobs.jar" "$root"/jobs/target/launcher/*.txt "$work/jar/"
sc() {
  # Classpath via the environment (ONNX Runtime's native init dislikes long command lines).
  # shellcheck disable=SC2046
  CLASSPATH="$work/jar/sparkclip-jobs.jar:$(cat "$work/jar/spark-classpath.txt")" \
    SPARK_LOCAL_IP=127.0.0.1 java -Xmx"${SPARKCLIP_DRIVER_MEMORY:-4g}" \
    $(cat "$work/jar/jvm-options.txt") -Dlog4j2.configurationFile="$root/conf/log4j2.properties" \
    io.sparkclip.jobs.SparkclipCli "$@"
}
export -f sc
export work root

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2 " GiB RAM"}'), $(java -version 2>&1 | head -1)"
echo "driver/executor heap: ${SPARKCLIP_DRIVER_MEMORY:-4g} (local[2]: one JVM); load before: $(uptime | sed 's/.*load/load/')"

# stage NAME ROWS CMD...: runs one sparkclip command under /usr/bin/time, prints one result line.
stage() {
  local name=$1 rows=$2 log="$work/$1-$2.log"
  shift 2
  local t0 t1 secs
  t0=$(date +%s.%N)
  /usr/bin/time -f '%M' -o "$work/$name-$rows.rss" bash -c 'sc "$@"' sc "$@" >"$log" 2>&1 ||
    { echo "$name failed:"; tail -40 "$log"; exit 1; }
  t1=$(date +%s.%N)
  secs=$(echo "$t1 - $t0" | bc)
  echo "$secs" >"$work/$name-$rows.secs"
  printf '%-14s %11d rows  %8.1f s  %9.0f rows/s  peak RSS %5.2f GB\n' "$name" "$rows" "$secs" \
    "$(echo "$rows / $secs" | bc -l)" "$(echo "$(cat "$work/$name-$rows.rss") / 1048576" | bc -l)"
}

for rows in "${sizes[@]}"; do
  meta="$work/meta-$rows"
  if grep -q "\"rows\" : $rows," "$meta/_sparkclip_generate.json" 2>/dev/null; then
    echo "generate: reusing $meta"
  else
    stage generate "$rows" generate --metadata-only --rows "$rows" --queries "$nq" --seed 42 \
      --out "$meta" --overwrite
  fi
  queries="$work/queries-$nq.txt"
  head -n "$nq" "$meta/queries.txt" >"$queries"
  have=$(grep -c . "$queries" || true)
  if (( have < nq )); then
    # Deterministic top-up with pseudo-words that never occur in captions, like most of WIT's
    # long tail; they still go into the automaton.
    seq "$have" $((nq - 1)) | awk '{ printf "zq%dx tag%d\n", $1 * 7919 % 1000003, $1 }' >>"$queries"
  fi
  stage match-queries "$rows" match-queries "$meta" --queries "$queries" \
    --out "$work/matched-$rows" --overwrite
  stage dedup-exact "$rows" dedup "$work/matched-$rows/data" --no-exact-image --no-near-image \
    --out "$work/dedup-$rows" --overwrite
  stage balance "$rows" balance "$work/dedup-$rows/data" --cap 20000 --seed 7 \
    --out "$work/balanced-$rows" --overwrite
  for s in match-queries dedup-exact balance; do
    grep -E '^ +(rows|accounting)' "$work/$s-$rows.log" | sed "s/^/  $s: /" || true
  done
done

if (( ${#sizes[@]} > 1 )); then
  a=${sizes[0]}
  b=${sizes[-1]}
  for s in match-queries dedup-exact balance; do
    printf 'scaling exponent %-14s %s -> %s rows: k = %.2f\n' "$s" "$a" "$b" \
      "$(echo "l($(cat "$work/$s-$b.secs") / $(cat "$work/$s-$a.secs")) / l($b / $a)" | bc -l)"
  done
  ta=$(cat "$work"/{match-queries,dedup-exact,balance}-"$a".secs | paste -sd+ | bc)
  tb=$(cat "$work"/{match-queries,dedup-exact,balance}-"$b".secs | paste -sd+ | bc)
  printf 'scaling exponent %-14s %s -> %s rows: k = %.2f (%.0f s -> %.0f s)\n' "all three" "$a" "$b" \
    "$(echo "l($tb / $ta) / l($b / $a)" | bc -l)" "$ta" "$tb"
fi
echo "load after: $(uptime | sed 's/.*load/load/')"
