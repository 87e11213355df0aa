#!/usr/bin/env bash
# Spark GPU discovery script (spark.{worker,executor}.resource.gpu.discoveryScript).
# Prints the GPUs this machine or container sees, as Spark's resource JSON:
#   {"name":"gpu","addresses":["0","1"]}
# Reads nvidia-smi; fails with a message (and Spark refuses to start the executor) without it.
set -euo pipefail
if ! command -v nvidia-smi >/dev/null 2>&1; then
  echo "getGpusResources.sh: nvidia-smi not found on PATH; install the NVIDIA driver, or do not request spark.*.resource.gpu on this host" >&2
  exit 1
fi
indexes=$(nvidia-smi --query-gpu=index --format=csv,noheader)
addresses=""
while IFS= read -r index; do
  index="${index//[[:space:]]/}"
  [[ -z "$index" ]] && continue
  if [[ ! "$index" =~ ^[0-9]+$ ]]; then
    echo "getGpusResources.sh: unexpected nvidia-smi output line: '$index'" >&2
    exit 1
  fi
  addresses+="${addresses:+,}\"$index\""
done <<< "$indexes"
echo "{\"name\":\"gpu\",\"addresses\":[${addresses}]}"
