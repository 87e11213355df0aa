#!/usr/bin/env bash
# WebDataset export and read throughput (issue 15), on embedded local[*] Spark.
#   bench/webdataset.sh [rows]          (default 20000)
# Generates pairs with images (Parquet, the demo's sides), then, each in its own JVM or process:
#   export     sparkclip export RAW --format webdataset (10,000 samples per shard)
#   cat        cat of every exported tar to /dev/null: the read bound of this disk and page cache
#   tarfile    Python's tarfile reading every member of every shard (a single-threaded reader)
#   read       WebDatasetReadBench: every sample through the reader every stage uses, image bytes summed
#   read-16m   the same with spark.sql.files.maxPartitionBytes=16m (several tasks per shard)
# and prints MB/s (tar bytes) and samples/s of each, side by side. Wall times include JVM and
# Spark start-up (about 8 s); the read lines also give the Spark job alone.
# Environment: BENCH_WORK (keep data there; reuses generated input of the same size),
# SPARKCLIP_DRIVER_MEMORY (heap, default 4g). Needs bash, java 17, mvn and python3.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rows="${1:-20000}"
[[ "$rows" =~ ^[1-9][0-9]*$ ]] || { echo "not a row count: $rows" >&2; exit 2; }
mem="${SPARKCLIP_DRIVER_MEMORY:-4g}"
work="${BENCH_WORK:-$(mktemp -d /tmp/sparkclip-bench-wds.XXXXXX)}"
[[ -z "${BENCH_WORK:-}" ]] && trap 'rm -rf "$work"' EXIT
mkdir -p "$work/jar"

"$root/sparkclip" --version >/dev/null # builds the jar if the sources changed
(cd "$root" && mvn -B -ntp -q -pl jobs -am -DskipTests -Dspotless.check.skip=true test-compile) >/dev/null
cp "$root/jobs/target/sparkclip-jobs.jar" "$root"/jobs/target/launcher/*.txt "$work/jar/"
rm -rf "$work/jar/test-classes"
mkdir -p "$work/jar/test-classes/io/sparkclip/jobs"
cp -r "$root/jobs/target/test-classes/io/sparkclip/jobs/bench" "$work/jar/test-classes/io/sparkclip/jobs/"

jvm() {
  # shellcheck disable=SC2046
  CLASSPATH="$work/jar/sparkclip-jobs.jar:$work/jar/test-classes:$(cat "$work/jar/spark-classpath.txt")" \
    SPARK_LOCAL_IP=127.0.0.1 SPARKCLIP_HOME="$root" java -Xmx"$mem" \
    $(cat "$work/jar/jvm-options.txt") -Dlog4j2.configurationFile="$root/conf/log4j2.properties" "$@"
}
sc() { jvm io.sparkclip.jobs.SparkclipCli "$@"; }

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2 " GiB RAM"}'), $(java -version 2>&1 | head -1)"
raw="$work/raw-$rows"
if [[ -f "$raw.params" && "$(cat "$raw.params")" == "rows $rows" ]]; then
  echo "generate: reusing $raw"
else
  sc generate --rows "$rows" --min-side 64 --max-side 320 --seed 42 --out "$raw" --overwrite \
    >"$work/generate.log" 2>&1
  echo "rows $rows" >"$raw.params"
fi

# secs LOG CMD...: runs CMD with its output in LOG, prints its wall seconds.
secs() {
  local log=$1 t0 t1
  shift
  t0=$(date +%s.%N)
  "$@" >"$log" 2>&1 || { echo "failed: $*" >&2; tail -20 "$log" >&2; exit 1; }
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc
}
out="$work/wds-$rows"
t_export=$(secs "$work/export.log" sc export "$raw" --out "$out" --format webdataset --overwrite)
bytes=$(du -cb "$out"/*.tar | tail -1 | cut -f1)
samples=$(python3 -c 'import json,sys; print(sum(json.load(open(sys.argv[1])).values()))' "$out/sizes.json")
cat >"$work/read_tars.py" <<'EOF'
import os, sys, tarfile
n = 0
for f in sorted(os.listdir(sys.argv[1])):
    if f.endswith(".tar"):
        with tarfile.open(os.path.join(sys.argv[1], f)) as t:
            for m in t:
                if m.isfile():
                    t.extractfile(m).read()
                    n += 1
print("tarfile: members", n)
EOF
t_cat=$(secs "$work/cat.log" bash -c 'cat "$@" >/dev/null' cat "$out"/*.tar)
t_tarfile=$(secs "$work/tarfile.log" python3 "$work/read_tars.py" "$out")
t_read=$(secs "$work/read.log" jvm io.sparkclip.jobs.bench.WebDatasetReadBench "$out")
t_read16=$(secs "$work/read16.log" jvm -Dspark.sql.files.maxPartitionBytes=16m \
  io.sparkclip.jobs.bench.WebDatasetReadBench "$out")
echo "exported: $samples samples, $(echo "$bytes / 1048576" | bc) MiB in $(ls "$out"/*.tar | wc -l) shards"
grep '^read:' "$work/read.log" | sed 's/^/  read     /'
grep '^read:' "$work/read16.log" | sed 's/^/  read-16m /'
printf '%-10s %9s %9s %12s\n' step "wall s" "MB/s" "samples/s"
t_readjob=$(sed -n 's/^read: .*seconds \([0-9.]*\).*/\1/p' "$work/read.log")
t_read16job=$(sed -n 's/^read: .*seconds \([0-9.]*\).*/\1/p' "$work/read16.log")
for s in export cat tarfile read readjob read16 read16job; do
  v="t_$s"
  t="${!v}"
  printf '%-10s %9.1f %9.1f %12.0f\n' "$s" "$t" "$(echo "$bytes / 1000000 / $t" | bc -l)" \
    "$(echo "$samples / $t" | bc -l)"
done
echo "(readjob, read16job: the Spark job alone, without JVM and Spark start-up)"
