#!/usr/bin/env bash
# Installs the "Java (sparkclip)" Jupyter kernel: the rapaio-jupyter-kernel (JShell based, from
# Maven Central) with sparkclip's shaded jar and the Spark classpath on the notebook classpath, and
# Spark's JVM options on the kernel JVM. Builds the jar first when it is missing or stale.
#
#   notebooks/install-kernel.sh                 # into ~/.local/share/jupyter/kernels/sparkclip-java
#   notebooks/install-kernel.sh --prefix DIR    # into DIR/kernels/sparkclip-java (JUPYTER_PATH=DIR)
#
# Then: jupyter notebook notebooks/   (or: jupyter nbconvert --execute --to notebook notebooks/*.ipynb)
# Environment: SPARKCLIP_NOTEBOOK_MEMORY (kernel heap, default 3g).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
kernel_version=3.0.1
prefix="${JUPYTER_DATA_DIR:-$HOME/.local/share/jupyter}"
while (($#)); do
  case "$1" in
    --prefix) prefix="$2"; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "install-kernel: unknown option '$1' (use --prefix DIR or --help)" >&2; exit 2 ;;
  esac
done

py=/usr/bin/python3
if ! command -v jupyter >/dev/null || ! "$py" -c 'import nbformat, nbconvert, jupyter_client' 2>/dev/null; then
  echo "install-kernel: Jupyter is missing (jupyter-nbconvert, jupyter-client, python3-nbformat)." >&2
  echo "  Fix: run tools/setup-test-env.sh (installs them with apt), or" >&2
  echo "       apt-get install jupyter-nbconvert jupyter-client python3-nbformat" >&2
  exit 2
fi

# The shaded jar and the Spark classpath/JVM options files: `./sparkclip --version` builds them
# when stale, exactly as for command-line use.
"$root/sparkclip" --version >/dev/null
jar="$root/jobs/target/sparkclip-jobs.jar"
launcher="$root/jobs/target/launcher"

dir="$prefix/kernels/sparkclip-java"
mkdir -p "$dir"
kernel_jar="$dir/rapaio-jupyter-kernel-$kernel_version.jar"
if [[ ! -f "$kernel_jar" ]]; then
  (cd "$root" && mvn -B -q -ntp dependency:copy \
    -Dartifact="io.github.padreati:rapaio-jupyter-kernel:$kernel_version" \
    -DoutputDirectory="$dir") >&2
fi

# The kernel starts through SafeKernelStart, which closes rapaio-jupyter-kernel 3.0.1's start-up
# race (a request that arrives before its handlers exist kills its shell thread; see the class).
rm -rf "$dir/start"
javac -d "$dir/start" "$root/notebooks/kernel/SafeKernelStart.java"

"$py" - "$dir/kernel.json" "$kernel_jar" "$jar" "$launcher" "$root" \
  "${SPARKCLIP_NOTEBOOK_MEMORY:-3g}" "$dir/start" <<'EOF'
import json, sys
out, kernel_jar, jar, launcher, root, heap, start = sys.argv[1:]
jvm_options = open(f"{launcher}/jvm-options.txt").read().split()
spark_cp = open(f"{launcher}/spark-classpath.txt").read().strip().split(":")
spec = {
    "argv": ["java", f"-Xmx{heap}", *jvm_options,
             f"-Dlog4j2.configurationFile={root}/conf/log4j2-notebook.properties",
             "-cp", f"{kernel_jar}:{start}", "io.sparkclip.notebook.SafeKernelStart",
             "{connection_file}"],
    "display_name": "Java (sparkclip)",
    "language": "java",
    "interrupt_mode": "message",
    "env": {
        # rapaio-jupyter-kernel reads ';'-separated classpath entries from RJK_CLASSPATH.
        "RJK_CLASSPATH": ";".join([jar, *spark_cp]),
        "RJK_COMPILER_OPTIONS": "",
        "RJK_INIT_SCRIPT": "",
        "RJK_TIMEOUT_MILLIS": "-1",
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARKCLIP_HOME": root,
    },
}
with open(out, "w") as f:
    json.dump(spec, f, indent=1)
EOF
echo "install-kernel: installed 'Java (sparkclip)' in $dir" >&2
