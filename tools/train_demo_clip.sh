#!/usr/bin/env bash
# Re-trains the committed demo model (models/sparkclip-demo-clip) from scratch on CPU, about 15
# minutes on 2 cores: generates clean training and held-out pairs with sparkclip, then runs
# tools/train_demo_clip.py (Debian python3-torch, python3-onnx, python3-pil, python3-numpy).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${1:-/tmp/sparkclip-demo-train}"
clean=()
for kind in exact_duplicate url_duplicate near_duplicate shuffled_caption corrupt_image \
    missing_caption failed_download; do
  clean+=(--fault-rate "$kind=0")
done
"$root/sparkclip" generate --rows 24000 --seed 1001 --format files --max-side 256 "${clean[@]}" \
  --out "$work/train" --overwrite
"$root/sparkclip" generate --rows 2000 --seed 2002 --format files --max-side 256 "${clean[@]}" \
  --out "$work/heldout" --overwrite
/usr/bin/python3 "$root/tools/train_demo_clip.py" --train "$work/train" --heldout "$work/heldout" \
  --out "$root/models/sparkclip-demo-clip" --steps "${TRAIN_STEPS:-900}" \
  --reference-out "$root/jobs/src/test/resources/demo-clip-reference"
