#!/usr/bin/env bash
# Runs every sparkclip test: the README's test command, and what CI runs (.ci/run).
# Works on a fresh Debian/Ubuntu machine: installs what the tests need first (tools/setup-test-env.sh).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"
tools/setup-test-env.sh
export SPARK_LOCAL_IP="${SPARK_LOCAL_IP:-127.0.0.1}"
start=$(date +%s)
mvn -B -ntp verify "$@"
echo "sparkclip: all tests passed in $(( $(date +%s) - start )) s"
