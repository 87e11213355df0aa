#!/usr/bin/env bash
# Start-up reliability of the notebook kernel: starts it N times with jupyter_client and counts the
# starts that never answer kernel_info within 30 s ("deaf"). --plain starts rapaio-jupyter-kernel's
# own MainApp instead of notebooks/kernel/SafeKernelStart, to measure the races that class fixes.
#
#   bench/kernel-start.sh [--plain] [N]      (default N = 25)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
plain=0
if [[ "${1:-}" == "--plain" ]]; then plain=1; shift; fi
n="${1:-25}"
prefix="$(mktemp -d)"
trap 'rm -rf "$prefix"' EXIT
"$root/notebooks/install-kernel.sh" --prefix "$prefix" >/dev/null 2>&1
spec="$prefix/kernels/sparkclip-java/kernel.json"
if ((plain)); then
  /usr/bin/python3 - "$spec" <<'PY'
import json, sys
spec = json.load(open(sys.argv[1]))
argv = spec["argv"]
i = argv.index("-cp")
argv[i:i + 3] = ["-jar", argv[i + 1].split(":")[0]]
json.dump(spec, open(sys.argv[1], "w"), indent=1)
PY
fi
cd "$root"
JUPYTER_PATH="$prefix" /usr/bin/python3 - "$n" "$prefix" <<'PY'
import statistics, sys, time
from jupyter_client import KernelManager
n, logdir = int(sys.argv[1]), sys.argv[2]
deaf, ready, revived = 0, [], 0
for i in range(n):
    log_path = f"{logdir}/start-{i}.log"
    with open(log_path, "w") as log:
        km = KernelManager(kernel_name="sparkclip-java")
        t0 = time.time()
        km.start_kernel(stdout=log, stderr=log)
        kc = km.client()
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=30)
            ready.append(time.time() - t0)
        except RuntimeError:
            deaf += 1
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    revived += "started it again" in open(log_path).read()
print(f"starts {n}, deaf {deaf}, starts with a revived thread {revived}, "
      f"median time to ready {statistics.median(ready) if ready else float('nan'):.2f} s")
PY
