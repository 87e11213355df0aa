#!/usr/bin/env bash
# GPU smoke test for a node with an NVIDIA GPU, a JDK 17+ and Maven (bench/README.md):
#   1. native libraries: nvidia-smi, the -Pgpu build, ldd of ONNX Runtime's CUDA provider, cuDNN 9
#   2. parity: CPU vs GPU embedding cosine at batch 1 / 17 / 256 (GpuSmoke parity)
#   3. throughput: images/s and texts/s at batch 32 / 128 / 256 (GpuSmoke throughput)
#   4. negative cases: cuda:99 -> DEVICE_CUDA_NO_DEVICE, a 1 MiB CUDA memory limit ->
#      DEVICE_CUDA_OUT_OF_MEMORY (GpuSmoke negative)
#   5. GpuEmbedIT (embed --device auto on a standalone cluster's GPU executor), -Pgpu build
#
#   bench/gpu-smoke.sh [MODEL_DIR] [IMAGES_DIR]
#     MODEL_DIR   default udfs/src/test/resources/tiny-clip; also models/sparkclip-demo-clip or a
#                 real open_clip/Immich ONNX export (ViT-B/32 ...) for meaningful throughput
#     IMAGES_DIR  default: 24 synthetic JPEGs (96-512 px) written to a temporary folder
#   env: SMOKE_DEVICE   device to test (default cuda:0)
#        SMOKE_SECONDS  seconds per throughput figure (default 3)
#        SMOKE_SKIP_IT=1     skip step 5 (it builds the 642 MB -Pgpu jobs jar and takes minutes)
#        SMOKE_SKIP_NATIVE=1 skip the -Pgpu build and the library check: with SMOKE_DEVICE=cpu
#                            this is the script's CPU self-check (CPU vs CPU, no steps 4-5)
# Exit code: 0 all passed, 1 a check failed, 2 usage / no GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

if [[ $# -gt 2 || ${1:-} == -h || ${1:-} == --help ]]; then
  sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
device=${SMOKE_DEVICE:-cuda:0}
seconds=${SMOKE_SECONDS:-3}
skip_native=${SMOKE_SKIP_NATIVE:-0}
skip_it=${SMOKE_SKIP_IT:-0}
model=${1:-udfs/src/test/resources/tiny-clip}
images=${2:-}
cuda=1
[[ $device == cpu ]] && cuda=0

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gpu-smoke.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
declare -a summary=()
failed=0
record() { # step result
  summary+=("$(printf '%-34s %s' "$1" "$2")")
  [[ $2 == FAIL* ]] && failed=1
  return 0
}

# --- 0. a GPU must be visible (the CPU self-check excepted) ---------------------------------------
if ((cuda)); then
  gpus=$(nvidia-smi -L 2>/dev/null || true) # empty when nvidia-smi is missing or fails
  if ! grep -q '^GPU [0-9]' <<<"$gpus"; then
    echo "no NVIDIA GPU visible (nvidia-smi not found / lists none): this script needs a GPU node" >&2
    echo "(on a CPU machine, SMOKE_DEVICE=cpu SMOKE_SKIP_NATIVE=1 $0 runs its self-check)" >&2
    exit 2
  fi
fi

echo "== 1. native libraries"
if ((cuda)); then
  echo "$gpus"
  driver=$(nvidia-smi --query-gpu=driver_version --format=csv,noheader | awk 'NR == 1')
  cuda_version=$(nvidia-smi | sed -n 's/.*CUDA Version: *\([0-9.]*\).*/\1/p' | awk 'NR == 1')
  echo "driver $driver, driver supports CUDA ${cuda_version:-?}"
  # onnxruntime_gpu 1.29 is built for CUDA 12: an older driver fails as DEVICE_CUDA_DRIVER.
  if [[ -n $cuda_version && ${cuda_version%%.*} -lt 12 ]]; then
    echo "FAIL: the driver supports CUDA $cuda_version; onnxruntime_gpu 1.29 needs CUDA 12 (driver 525+)"
    exit 1
  fi
fi

profile=(-Pgpu)
((skip_native)) && profile=()
cp_file=udfs/target/gpu-smoke-classpath.txt
echo "building: mvn ${profile[*]:-(default CPU build)} -pl udfs -am test-compile dependency:build-classpath"
if ! mvn -B -ntp -q ${profile[@]+"${profile[@]}"} -pl udfs -am test-compile dependency:build-classpath \
  -Dmdep.outputFile="$root/$cp_file" -Dmdep.includeScope=test >"$tmp/build.log" 2>&1; then
  tail -40 "$tmp/build.log"
  echo "FAIL: the build failed (log above)"
  exit 1
fi

# The library directory the JVM will search too: LD_LIBRARY_PATH, then ld.so's cache.
find_lib() {
  local d
  local -a dirs
  IFS=: read -ra dirs <<<"${LD_LIBRARY_PATH:-}"
  for d in ${dirs[@]+"${dirs[@]}"}; do
    [[ -n $d && -e $d/$1 ]] && { echo "$d/$1"; return 0; }
  done
  local ldconfig
  ldconfig=$(command -v ldconfig || echo /sbin/ldconfig)
  "$ldconfig" -p 2>/dev/null | awk -v n="$1" '$1 == n && !f {print $NF; f = 1} END {exit !f}'
}

if ((skip_native)); then
  echo "SMOKE_SKIP_NATIVE=1: no -Pgpu build, no library check"
  record "1. native libraries" "SKIP (SMOKE_SKIP_NATIVE=1)"
else
  ort_jar=$(tr ':' '\n' <"$cp_file" | grep '/onnxruntime_gpu-[^/]*\.jar$' | head -1 || true)
  if [[ -z $ort_jar ]]; then
    echo "FAIL: no onnxruntime_gpu jar on the -Pgpu classpath ($cp_file)"
    exit 1
  fi
  native=ai/onnxruntime/native/linux-x64
  jar_tool=$(command -v jar || echo "${JAVA_HOME:-/usr}/bin/jar") # the JDK's, no unzip needed
  (cd "$tmp" && "$jar_tool" xf "$ort_jar" "$native/")
  provider=$tmp/$native/libonnxruntime_providers_cuda.so
  if [[ ! -f $provider ]]; then
    echo "FAIL: $ort_jar has no $native/libonnxruntime_providers_cuda.so"
    exit 1
  fi
  echo "$(basename "$ort_jar"): ldd libonnxruntime_providers_cuda.so"
  # The jar's own libraries (libonnxruntime_providers_shared.so) sit beside it, as once extracted.
  LD_LIBRARY_PATH="$tmp/$native${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" ldd "$provider" >"$tmp/ldd.txt" || true
  grep -E 'cuda|cublas|curand|cufft|cudnn|nvrtc' "$tmp/ldd.txt" | sed 's/^\s*/  /' || true
  # libonnxruntime* "not found" is ONNX Runtime's own (its Java loader loads them by path).
  missing=$(awk '/not found/ && $1 !~ /^libonnxruntime/ {print $1}' "$tmp/ldd.txt" | sort -u | tr '\n' ' ')
  # cuDNN 9 and NVRTC are not linked but loaded when the first session runs (docs/gpu.md), so ldd
  # cannot see them: look for them where the dynamic loader would.
  for lib in libcudnn.so.9; do
    if path=$(find_lib "$lib"); then echo "  $lib => $path (run-time load)"; else missing+="$lib "; fi
  done
  if path=$(find_lib libnvrtc.so.12); then
    echo "  libnvrtc.so.12 => $path (run-time load)"
  else
    echo "  warning: libnvrtc.so.12 not found (loaded by some kernels at run time)"
  fi
  if [[ -n $missing ]]; then
    echo "FAIL: libraries not found: $missing"
    echo "Install the CUDA 12 and cuDNN 9 runtime libraries and put their folders on LD_LIBRARY_PATH,"
    echo "e.g. export LD_LIBRARY_PATH=/usr/local/cuda/lib64:/usr/lib/x86_64-linux-gnu:\$LD_LIBRARY_PATH"
    echo "(executors: spark.executorEnv.LD_LIBRARY_PATH, docs/gpu.md). Without them every cuda"
    echo "session fails with DEVICE_CUDA_PROVIDER_FAILED and --device auto falls back to the CPU."
    exit 1
  fi
  record "1. native libraries" "PASS"
fi

# Classpath via the environment: ONNX Runtime's native init crashes on JVM command lines > ~4 KB.
classpath="udfs/target/classes:udfs/target/test-classes:$(cat "$cp_file")"
smoke() {
  CLASSPATH="$classpath" SPARK_LOCAL_IP=127.0.0.1 java -Xmx4g ${jvm_opts:-} \
    io.sparkclip.udfs.bench.GpuSmoke "$@"
}
step() { # name command...: runs a GpuSmoke step and records its result
  local name=$1 rc=0
  shift
  "$@" || rc=$?
  if ((rc == 0)); then record "$name" PASS; else record "$name" "FAIL (exit $rc)"; fi
}

if [[ -z $images ]]; then
  images=$tmp/images
  smoke images "$images" 24
fi

echo
echo "== 2. parity: CPU vs $device"
step "2. parity ($device)" smoke parity "$model" "$images" "$device"

echo
echo "== 3. throughput on $device"
step "3. throughput ($device)" smoke throughput "$model" "$images" "$device" "$seconds"

echo
echo "== 4. negative cases"
if ((cuda)); then
  # The memory-limit case starts a local SparkContext (CudaOptions reads the Spark conf), which
  # needs Spark's --add-opens list on Java 17: the parent pom's spark.jvm.options.
  jvm_opts=$(sed -n 's:.*<spark.jvm.options>\(.*\)</spark.jvm.options>.*:\1:p' pom.xml)
  step "4. negative cases" smoke negative "$model" "$device"
  jvm_opts=
else
  echo "SKIP: the negative cases need CUDA (SMOKE_DEVICE=cpu)"
  record "4. negative cases" "SKIP (SMOKE_DEVICE=cpu)"
fi

echo
echo "== 5. GpuEmbedIT (embed --device auto on a GPU executor)"
if ((!cuda || skip_native || skip_it)); then
  echo "SKIP: GpuEmbedIT needs CUDA and the -Pgpu build (SMOKE_DEVICE=$device SMOKE_SKIP_NATIVE=$skip_native SMOKE_SKIP_IT=$skip_it)"
  record "5. GpuEmbedIT" "SKIP"
else
  echo "mvn -Pgpu -pl jobs -am verify -Dit.test=GpuEmbedIT (builds the -Pgpu jobs jar; minutes)"
  # SPARKCLIP_REQUIRE_GPU=1 turns the IT's skip (no GPU / no CUDA provider) into a failure.
  # -Dtest=NONE runs no unit tests; spotless:check is skipped: it judges formatting, not the GPU.
  rc=0
  SPARKCLIP_REQUIRE_GPU=1 SPARK_LOCAL_IP=127.0.0.1 mvn -B -ntp -Pgpu -pl jobs -am verify \
    -Dit.test=GpuEmbedIT -Dit.failIfNoSpecifiedTests=false \
    -Dtest=NONE -Dsurefire.failIfNoSpecifiedTests=false -Dspotless.check.skip=true \
    >"$tmp/it.log" 2>&1 || rc=$?
  grep -E 'Tests run:|FAIL|ERROR\]' "$tmp/it.log" | tail -15 || true
  [[ -f jobs/target/gpu-embed.txt ]] && tail -1 jobs/target/gpu-embed.txt
  if ((rc == 0)); then
    record "5. GpuEmbedIT" PASS
  else
    tail -60 "$tmp/it.log"
    record "5. GpuEmbedIT" "FAIL (mvn exit $rc)"
  fi
fi

echo
echo "== summary (model $model, device $device)"
printf '%s\n' "${summary[@]}"
exit "$failed"
