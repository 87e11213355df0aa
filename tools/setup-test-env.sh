#!/usr/bin/env bash
# Installs what sparkclip's build and tests need, if missing (Debian packages): a JDK 17+ and Maven;
# Jupyter's nbconvert and client (the notebook tests run the Java notebooks headless); Chromium (the
# report test opens the HTML report in it); numpy (the export tests read .npy files with it).
# Idempotent and quiet when everything is there. Needs root (or sudo) only when it installs.
set -euo pipefail

need=()
if ! command -v javac >/dev/null || ! javac -version 2>&1 | grep -qE 'javac (1[7-9]|[2-9][0-9])'; then
  need+=(openjdk-17-jdk-headless)
fi
command -v mvn >/dev/null || need+=(maven)
command -v jupyter >/dev/null || need+=(jupyter-nbconvert jupyter-client)
/usr/bin/python3 -c 'import nbformat, nbconvert, jupyter_client' 2>/dev/null ||
  need+=(python3-nbformat python3-nbconvert python3-jupyter-client)
[[ -x /usr/bin/chromium ]] || need+=(chromium)
# The export tests read the .npy files sparkclip writes with numpy.
/usr/bin/python3 -c 'import numpy' 2>/dev/null || need+=(python3-numpy)

if ((${#need[@]})); then
  echo "setup-test-env: installing ${need[*]}" >&2
  sudo_cmd=()
  [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -q
  "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${need[@]}"
fi
