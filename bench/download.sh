#!/usr/bin/env bash
# Download throughput against a loopback server that delays every response (issue 17).
#   bench/download.sh [urls] [latency_ms]        (default: 12800 100)
# A server JVM (DownloadBench serve) answers GET /i/N.jpg with one of 256 distinct 128x96 JPEGs
# (~4 KB) after latency_ms; a client JVM (DownloadBench run, embedded local[2] Spark, -Xmx1g)
# runs the download stage on a TSV of the URLs:
#   - 1 task  x 64 requests in flight (the issue's figure: bound = 64 / latency)
#   - 2 tasks x 64 requests in flight (both cores: bound = 128 / latency)
#   - 1 task  x 64 at 4x the URLs (the heap must not grow with the input)
# and prints images/s, the latency bound, their ratio and the client's heap. A warm-up of a tenth
# of the URLs runs first in each client JVM (not timed). Timed: the whole stage (list, count,
# fetch, write, commit, summary), not only the fetching.
# Environment: BENCH_WORK (keep logs there; default a temporary folder removed at exit).
# Needs bash, awk, java 17 and mvn.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
urls="${1:-12800}"
latency="${2:-100}"
[[ "$urls" =~ ^[1-9][0-9]*$ && "$latency" =~ ^[1-9][0-9]*$ ]] || {
  echo "usage: bench/download.sh [urls] [latency_ms]" >&2; exit 2; }
work="${BENCH_WORK:-$(mktemp -d /tmp/sparkclip-bench-download.XXXXXX)}"
[[ -z "${BENCH_WORK:-}" ]] && trap 'rm -rf "$work"' EXIT
mkdir -p "$work/jar"

"$root/sparkclip" --version >/dev/null # builds the jar if the sources changed
(cd "$root" && mvn -B -ntp -q -pl jobs -am -DskipTests -Dspotless.check.skip=true test-compile) >/dev/null
cp "$root/jobs/target/sparkclip-jobs.jar" "$root"/jobs/target/launcher/*.txt "$work/jar/"
rm -rf "$work/jar/test-classes"
cp -r "$root/jobs/target/test-classes" "$work/jar/test-classes"

jvm() {
  local mem=$1
  shift
  # shellcheck disable=SC2046
  CLASSPATH="$work/jar/sparkclip-jobs.jar:$work/jar/test-classes:$(cat "$work/jar/spark-classpath.txt")" \
    SPARK_LOCAL_IP=127.0.0.1 java -Xmx"$mem" $(cat "$work/jar/jvm-options.txt") \
    -Dlog4j2.configurationFile="$root/conf/log4j2.properties" "$@"
}

echo "machine: $(nproc) cores, $(java -version 2>&1 | head -1)"
max=$((4 * urls))
rm -f "$work/port"
# TCP_NODELAY: the JDK server otherwise holds each body for the client's delayed ACK (40 ms).
jvm 2g -Dsun.net.httpserver.nodelay=true io.sparkclip.jobs.download.DownloadBench serve \
  "$latency" "$max" "$work/port" >"$work/server.log" 2>&1 &
server=$!
# The background job is a subshell running java: stop both.
trap 'pkill -P $server 2>/dev/null; kill $server 2>/dev/null; [[ -z "${BENCH_WORK:-}" ]] && rm -rf "$work"; true' EXIT
for _ in $(seq 600); do [[ -s "$work/port" ]] && break; sleep 0.1; done
[[ -s "$work/port" ]] || { echo "server did not start:"; cat "$work/server.log"; exit 1; }
base="http://127.0.0.1:$(cat "$work/port")"
echo "server: $base, $latency ms per response, $max URLs"

run() { # urls in_flight tasks
  local log="$work/run-$1-$2-$3.log"
  jvm 1g io.sparkclip.jobs.download.DownloadBench run "$base" "$1" "$2" "$3" "$work/out-$1-$2-$3" \
    >"$log" 2>&1 || { echo "run failed:"; tail -40 "$log"; exit 1; }
  grep '^result:' "$log"
}

{
  run "$urls" 64 1
  run "$urls" 64 2
  run "$max" 64 1
} | tee "$work/results.txt"

awk -v lat="$latency" '
  { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    bound = v["tasks"] * v["in_flight"] / (lat / 1000.0)
    printf "| %s | %d x %d | %.1f | %.0f | %.0f | **%.2f** | %s/%s | %s | %s |\n", v["urls"], v["tasks"],
      v["in_flight"], v["seconds"], v["images_per_s"], bound, v["images_per_s"] / bound,
      v["success"], v["urls"], v["peak_heap_mb"], v["retained_mb"] }
' "$work/results.txt" | {
  echo "| URLs | tasks x in flight | s | images/s | bound/s | ratio | success | peak heap MB | retained MB |"
  echo "|---|---|---|---|---|---|---|---|---|"
  cat
}
