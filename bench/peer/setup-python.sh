#!/usr/bin/env bash
# Makes the Python environment bench/peer/run.sh needs (torch, Pillow, numpy; torchvision, pyarrow,
# onnx when they can be had) as a virtualenv, installing ONLY from wheel files already on this
# machine: pip runs with --no-index, so it never goes to a package index.
#
#   bench/peer/setup-python.sh                     # -> $PEER_VENV (default ~/.cache/sparkclip-peer/venv)
#   PEER_WHEEL_DIRS="/srv/wheels" bench/peer/setup-python.sh
#
# PEER_WHEEL_DIRS: folders holding .whl files (default: the ones this project's machines carry,
# /opt/wheels /opt/pypi/files /opt/pypi-more/files). A CPU-only torch wheel is preferred
# (torch-*+cpu-*.whl); a CUDA build works too but pulls in gigabytes of nvidia-* wheels.
# Without such wheels, use Debian's packages instead: apt-get install python3-torch python3-pil
# (run.sh then finds /usr/bin/python3; it reads the output Parquet through Java without pyarrow).
set -euo pipefail

venv="${PEER_VENV:-$HOME/.cache/sparkclip-peer/venv}"
dirs="${PEER_WHEEL_DIRS:-/opt/wheels /opt/pypi/files /opt/pypi-more/files}"
base="${PEER_BASE_PYTHON:-/usr/bin/python3}"
[[ -x "$base" ]] || base="$(command -v python3)"

links=()
for d in $dirs; do
  [[ -d "$d" ]] && links+=(--find-links "$d")
done
((${#links[@]})) || { echo "setup-python: none of the wheel folders exist: $dirs" >&2; exit 1; }

torch_whl=""
for d in $dirs; do
  for w in "$d"/torch-*+cpu-*.whl; do [[ -f "$w" ]] && torch_whl="$w"; done
done
if [[ -z "$torch_whl" ]]; then
  for d in $dirs; do
    for w in "$d"/torch-*.whl; do [[ -f "$w" ]] && torch_whl="$w"; done
  done
fi
[[ -n "$torch_whl" ]] || { echo "setup-python: no torch wheel in $dirs" >&2; exit 1; }
torch_ver="$(basename "$torch_whl" | cut -d- -f2)"   # e.g. 2.13.0+cpu
echo "setup-python: $venv from $base, torch wheel $(basename "$torch_whl")" >&2

[[ -x "$venv/bin/python" ]] || "$base" -m venv "$venv"
pip=("$venv/bin/python" -m pip install --no-index --disable-pip-version-check -q "${links[@]}")
# The machine-wide pip config may name constraints or indexes; --isolated ignores it.
pip+=(--isolated)

"${pip[@]}" "$torch_whl" pillow numpy
# Optional: torchvision matching the torch release (open_clip's transforms verbatim), pyarrow
# (reads sparkclip's Parquet), onnx (torch.onnx.export wants it in recent torch releases).
tv=""
case "${torch_ver%%+*}" in
  2.13.*) tv="torchvision==0.28.0" ;;
  2.14.*) tv="torchvision==0.29.*" ;;
  2.12.*) tv="torchvision==0.27.*" ;;
esac
if [[ -n "$tv" && "$torch_ver" == *+cpu ]]; then
  # PyPI's torchvision wheels are CUDA builds; their operators do not load into a CPU-only torch.
  cpu_tv=""
  for d in $dirs; do
    for w in "$d"/torchvision-*+cpu-*.whl; do [[ -f "$w" ]] && cpu_tv="$w"; done
  done
  [[ -n "$cpu_tv" ]] || echo "setup-python: no CPU torchvision wheel beside the CPU torch (optional; skipped)" >&2
  tv="$cpu_tv"
fi
for extra in ${tv:+"$tv"} pyarrow onnx onnxscript; do
  if "${pip[@]}" "$extra" >/dev/null 2>&1; then
    echo "setup-python: installed $extra" >&2
  else
    echo "setup-python: $extra not available from $dirs (optional; skipped)" >&2
  fi
done
# A torchvision wheel built for CUDA cannot load its operators into a CPU-only torch ("operator
# torchvision::nms does not exist"); run.sh then writes the transform with PIL + torch ops.
if "$venv/bin/python" -c 'import torchvision' >/dev/null 2>&1; then :; else
  if "$venv/bin/python" -m pip show --isolated torchvision >/dev/null 2>&1; then
    echo "setup-python: torchvision does not import with this torch; uninstalled it" >&2
    "$venv/bin/python" -m pip uninstall --isolated -y -q torchvision
  fi
fi
"$venv/bin/python" -c 'import torch, PIL, numpy; print("setup-python: ok, torch", torch.__version__, "Pillow", PIL.__version__, "numpy", numpy.__version__)'
echo "$venv/bin/python"
