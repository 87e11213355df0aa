#!/usr/bin/env bash
# Re-trains the demo CLIP's score head (models/sparkclip-demo-clip-heads/) and the Java tests'
# linear fixture heads (jobs/src/test/resources/heads/) in a few minutes on 2 cores: generates clean
# training and held-out pairs with distinct seeds, embeds them with models/sparkclip-demo-clip,
# exports the image embeddings (clip-retrieval .npy), then runs tools/train_demo_heads.py (Debian
# python3-numpy and python3-onnx). Labels are the generator's ground truth (_ground_truth_scenes/).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${1:-/tmp/sparkclip-heads-train}"
train_rows="${TRAIN_ROWS:-12000}"
heldout_rows="${HELDOUT_ROWS:-3000}"
train_seed=16011
heldout_seed=16012
clean=()
for kind in exact_duplicate url_duplicate near_duplicate shuffled_caption corrupt_image \
    missing_caption failed_download; do
  clean+=(--fault-rate "$kind=0")
done
for set in "train $train_rows $train_seed" "heldout $heldout_rows $heldout_seed"; do
  read -r name rows seed <<<"$set"
  "$root/sparkclip" generate --rows "$rows" --seed "$seed" --max-side 256 --shard-size 3000 \
    "${clean[@]}" --out "$work/$name-raw" --overwrite --quiet
  "$root/sparkclip" embed "$work/$name-raw" --model "$root/models/sparkclip-demo-clip" \
    --out "$work/$name-emb" --overwrite --quiet
  "$root/sparkclip" export "$work/$name-emb" --format clip-retrieval --out "$work/$name-export" \
    --overwrite
done
/usr/bin/python3 "$root/tools/train_demo_heads.py" \
  --train-export "$work/train-export" --train-scenes "$work/train-raw/_ground_truth_scenes" \
  --heldout-export "$work/heldout-export" --heldout-scenes "$work/heldout-raw/_ground_truth_scenes" \
  --positive gradient --name gradient_background \
  --out "$root/models/sparkclip-demo-clip-heads/gradient_background" \
  --fixture-out "$root/jobs/src/test/resources/heads" \
  --provenance "Training: \`sparkclip generate --rows $train_rows --seed $train_seed --max-side 256 --shard-size 3000\`
(every fault rate 0). Held-out: \`--rows $heldout_rows --seed $heldout_seed\`, same options. Both
embedded with \`sparkclip embed --model models/sparkclip-demo-clip\` (fp32) and exported with
\`sparkclip export --format clip-retrieval\` (float16 .npy, the training input)."
