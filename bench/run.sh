#!/usr/bin/env bash
# Runs io.sparkclip.udfs.bench.ClipBench (udfs test sources) with the udfs test classpath.
#   bench/run.sh decode /tmp/sparkclip-bench/images [seconds]
#   bench/run.sh embed udfs/src/test/resources/tiny-clip [threads] [seconds] [cpu|cuda|cuda:N]
set -euo pipefail
cd "$(dirname "$0")/.."
CP_FILE=udfs/target/bench-classpath.txt
mvn -B -ntp -q -pl udfs -am test-compile dependency:build-classpath \
  -Dmdep.outputFile="$(pwd)/$CP_FILE" -Dmdep.includeScope=test >/dev/null
# Classpath via the environment: ONNX Runtime 1.29's native init crashes (SIGSEGV) when the JVM
# command line is longer than about 4 KB.
CLASSPATH="udfs/target/classes:udfs/target/test-classes:$(cat "$CP_FILE")" \
  exec java -Xmx4g io.sparkclip.udfs.bench.ClipBench "$@"
