#!/usr/bin/python3
"""Writes the fixed benchmark image set: 200 web-like JPEGs, 256-1024 px sides, quality 75-95.

    /usr/bin/python3 bench/make_bench_images.py /tmp/sparkclip-bench/images
"""
import io
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from make_fixtures import web_like_image  # noqa: E402

out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/sparkclip-bench/images"
os.makedirs(out, exist_ok=True)
rng = random.Random(2024)
total = 0
for i in range(200):
    w, h = rng.randint(256, 1024), rng.randint(256, 1024)
    img = web_like_image(rng, w, h)
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=rng.randint(75, 95))
    with open(os.path.join(out, f"{i:04d}.jpg"), "wb") as f:
        f.write(buf.getvalue())
    total += len(buf.getvalue())
print(f"wrote 200 JPEGs ({total / 1e6:.1f} MB) to {out}")
