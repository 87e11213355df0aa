"""The Python side of bench/peer/run.sh: inputs, the torch + PIL loop, Pillow preprocessing, cosines.

    peer.py images DIR N                 N web-like JPEGs (bench/make_bench_images.py's generator)
    peer.py shards IMAGES TARS SHARDS    WebDataset tars: {key}.jpg + {key}.txt
    peer.py model ONNX_DIR TORCH_PT      random ViT-B/32-sized CLIP: ONNX model dir + the same weights for torch
    peer.py torch-loop TARS ONNX_DIR TORCH_PT OUT.npz   clip-retrieval-style DataLoader + eager torch
    peer.py pillow IMAGES SECONDS        Pillow decode + open_clip eval transform, images/s, this thread
    peer.py cosine TORCH.npz SPARKCLIP_OUT [BIN_DIR]    cosines matched by key (pyarrow, or BIN_DIR
                                                        written by EmbeddingsDump.java)
    peer.py report RESULTS.json          the table

Each timed command prints one JSON line (last line of stdout) that run.sh collects.
"""

import io
import json
import os
import random
import sys
import tarfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tools"))


def need(*mods):
    missing = []
    for m in mods:
        try:
            __import__(m)
        except ImportError:
            missing.append(m)
    if missing:
        sys.exit(f"peer.py: missing Python modules {missing} in {sys.executable}; "
                 "make them with bench/peer/setup-python.sh (local wheels, no index) or "
                 "apt-get install python3-torch python3-pil python3-numpy, or point PEER_PYTHON at one that has them")


# ------------------------------------------------------------------------------------- inputs


def cmd_images(out, n):
    """bench/make_bench_images.py's loop for n images: its first 200 are that script's files, byte for byte."""
    need("numpy", "PIL")
    from make_fixtures import web_like_image

    os.makedirs(out, exist_ok=True)
    rng = random.Random(2024)
    total = 0
    for i in range(n):
        w, h = rng.randint(256, 1024), rng.randint(256, 1024)
        img = web_like_image(rng, w, h)
        buf = io.BytesIO()
        img.save(buf, format="JPEG", quality=rng.randint(75, 95))
        with open(os.path.join(out, f"{i:04d}.jpg"), "wb") as f:
            f.write(buf.getvalue())
        total += len(buf.getvalue())
    print(f"wrote {n} JPEGs ({total / 1e6:.1f} MB) to {out}")


def captions(n):
    """Web-alt-text-like captions of varied length over the benchmark tokenizer's vocabulary."""
    from make_fixtures import COLOURS, POSITIONS, SHAPES

    rng = random.Random(19)
    out = []
    for _ in range(n):
        c, s, p, c2, s2 = (rng.choice(COLOURS), rng.choice(SHAPES), rng.choice(POSITIONS),
                           rng.choice(COLOURS), rng.choice(SHAPES))
        base = rng.choice([
            f"a photo of a {c} {s}", f"a {c} {s} on the {p}", f"A {c.title()} {s} and a {c2} {s2}",
            f"there's a {c} {s} at the {p} of the image", f"a drawing of a {c} {s} on a {c2} background",
        ])
        extra = " ".join(rng.choice([f"{rng.choice(COLOURS)} {rng.choice(SHAPES)}", "photo", "image", "on the left"])
                         for _ in range(rng.choice([0, 0, 1, 3, 8, 20])))
        out.append((base + (", " + extra if extra else "")).strip())
    return out


def cmd_shards(images, tars, shards):
    files = sorted(f for f in os.listdir(images) if f.lower().endswith((".jpg", ".jpeg")))
    if not files:
        sys.exit(f"peer.py: no JPEGs in {images}")
    caps = captions(len(files))
    os.makedirs(tars, exist_ok=True)
    per = -(-len(files) // shards)
    written = 0
    for s in range(shards):
        part = files[s * per:(s + 1) * per]
        if not part:
            break
        path = os.path.join(tars, f"{s:05d}.tar")
        with tarfile.open(path + ".tmp", "w", format=tarfile.USTAR_FORMAT) as t:
            for j, f in enumerate(part):
                i = s * per + j
                key = f"{i:09d}"
                for name, data in ((f"{key}.jpg", open(os.path.join(images, f), "rb").read()),
                                   (f"{key}.txt", caps[i].encode("utf-8"))):
                    ti = tarfile.TarInfo(name)
                    ti.size, ti.mtime, ti.mode = len(data), 1_700_000_000, 0o644
                    t.addfile(ti, io.BytesIO(data))
        os.replace(path + ".tmp", path)
        written += len(part)
    print(f"wrote {written} samples in {min(shards, -(-len(files) // per))} tar shards to {tars}")


# -------------------------------------------------------------------------------------- model


def cmd_model(onnx_dir, torch_pt):
    """tools/make_fixtures.py --vit-b32 ONNX_DIR, unchanged, catching the model it exports so the
    torch loop gets the very same weights (state_dict saved to TORCH_PT)."""
    need("torch", "numpy", "PIL")
    import torch

    import clip_tiny
    import make_fixtures

    real_export = clip_tiny.export_onnx
    caught = {}

    def export_and_keep(model, out_dir, **kw):
        caught["model"] = model
        return real_export(model, out_dir, **kw)

    # clip_tiny was written for torch 1.13's TorchScript exporter (opset 17); torch >= 2.9 defaults
    # to the dynamo exporter, so ask for the TorchScript one where the argument exists.
    real_onnx_export = torch.onnx.export
    import inspect

    if "dynamo" in inspect.signature(real_onnx_export).parameters:
        def onnx_export(*a, **kw):
            kw.setdefault("dynamo", False)
            return real_onnx_export(*a, **kw)

        torch.onnx.export = onnx_export
    clip_tiny.export_onnx = export_and_keep
    make_fixtures.clip_tiny.export_onnx = export_and_keep
    t0 = time.time()
    make_fixtures.make_vit_b32(onnx_dir, False)
    model = caught["model"]
    torch.save({"state_dict": model.state_dict(), "vocab_size": model.cfg.text_cfg.vocab_size}, torch_pt)
    print(f"model: ONNX in {onnx_dir}, torch weights in {torch_pt} ({time.time() - t0:.0f} s)")


def load_torch_model(torch_pt):
    import torch

    import clip_tiny

    ck = torch.load(torch_pt, map_location="cpu")
    model = clip_tiny.TinyClip(clip_tiny.vit_b32_cfg(vocab_size=ck["vocab_size"]))
    model.load_state_dict(ck["state_dict"])
    return model.eval()


class Tokenizer:
    """open_clip's SimpleTokenizer algorithm (make_fixtures.RefTokenizer, itself independent of
    sparkclip's Java tokenizer) with open_clip's word cache and a rank -> pair table."""

    def __init__(self, tokenizer_json_path, context_length):
        from make_fixtures import RefTokenizer

        tj = json.load(open(tokenizer_json_path, encoding="utf-8"))
        merges = [tuple(m.split(" ")) for m in tj["model"]["merges"]]
        self.ref = RefTokenizer(merges)
        self.pair_of = {r: p for p, r in self.ref.ranks.items()}
        self.cache = {}
        self.ctx = context_length

    def bpe(self, word):
        import math

        if word in self.cache:
            return self.cache[word]
        from make_fixtures import word_symbols

        syms = word_symbols(word)
        ranks = self.ref.ranks
        while len(syms) > 1:
            rank = min(ranks.get(p, math.inf) for p in zip(syms, syms[1:]))
            if rank == math.inf:
                break
            a, b = self.pair_of[rank]
            out, i = [], 0
            while i < len(syms):
                if i < len(syms) - 1 and syms[i] == a and syms[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(syms[i])
                    i += 1
            syms = out
        self.cache[word] = syms
        return syms

    def __call__(self, text):
        from make_fixtures import EOT, SOT, normalize, pre_tokenize

        ids = [self.ref.sot]
        for w in pre_tokenize(normalize(text)):
            ids.extend([self.ref.encoder[w]] if w in (SOT, EOT) else (self.ref.encoder[s] for s in self.bpe(w)))
        ids.append(self.ref.eot)
        if len(ids) > self.ctx:
            ids = ids[:self.ctx]
            ids[-1] = self.ref.eot
        return ids + [0] * (self.ctx - len(ids))


def make_transform(size, mean, std):
    """open_clip image_transform(is_train=False): Resize(size, BICUBIC) on the shortest side,
    CenterCrop(size), convert to RGB, ToTensor, Normalize. torchvision's classes when it imports,
    else the same steps with PIL + torch ops (make_fixtures' torchvision-verified PIL helpers)."""
    import numpy as np
    import torch
    from PIL import Image

    try:
        import torchvision.transforms as T

        tf = T.Compose([T.Resize(size, interpolation=T.InterpolationMode.BICUBIC), T.CenterCrop(size),
                        lambda im: im.convert("RGB"), T.ToTensor(), T.Normalize(mean, std)])
        return tf, "torchvision " + __import__("torchvision").__version__
    except Exception:  # not installed, or a CUDA build that cannot load into a CPU-only torch
        pass
    from make_fixtures import pil_center_crop, pil_resize_shortest

    m = torch.tensor(mean, dtype=torch.float32).view(3, 1, 1)
    s = torch.tensor(std, dtype=torch.float32).view(3, 1, 1)

    def tf(img):
        img = pil_center_crop(pil_resize_shortest(img, size, Image.BICUBIC), size).convert("RGB")
        x = torch.from_numpy(np.asarray(img).copy()).permute(2, 0, 1).float().div(255)  # ToTensor
        return x.sub_(m).div_(s)  # Normalize

    return tf, "PIL + torch ops (no torchvision)"


def preprocess_cfg(onnx_dir):
    p = json.load(open(os.path.join(onnx_dir, "visual", "preprocess_cfg.json")))
    return p["size"][0], p["mean"], p["std"]


# ---------------------------------------------------------------------------- the torch loop


def tar_samples(paths):
    """(key, image bytes, caption) per sample of WebDataset tars, members grouped by key."""
    for path in paths:
        with tarfile.open(path) as t:
            cur, parts = None, {}
            for m in t:
                if not m.isfile():
                    continue
                # sparkclip's rule too: the key is the name up to the first dot of its base name
                dot = m.name.find(".", m.name.rfind("/") + 1)
                key, ext = (m.name, "") if dot < 0 else (m.name[:dot], m.name[dot + 1:])
                if key != cur and cur is not None:
                    yield cur, parts
                    parts = {}
                cur = key
                parts[ext.lower()] = t.extractfile(m).read()
            if cur is not None:
                yield cur, parts


def cmd_torch_loop(tars_dir, onnx_dir, torch_pt, out_npz):
    t_start = time.time()
    need("torch", "numpy", "PIL")
    import numpy as np
    import torch
    from PIL import Image
    from torch.utils.data import DataLoader, IterableDataset, get_worker_info

    threads = int(os.environ.get("PEER_TORCH_THREADS", "2"))
    workers = int(os.environ.get("PEER_WORKERS", "1"))
    batch = int(os.environ.get("PEER_BATCH", "32"))
    torch.set_num_threads(threads)
    size, mean, std = preprocess_cfg(onnx_dir)
    transform, tf_name = make_transform(size, mean, std)
    model = load_torch_model(torch_pt)
    tok = Tokenizer(os.path.join(onnx_dir, "textual", "tokenizer.json"), model.cfg.text_cfg.context_length)
    tars = sorted(os.path.join(tars_dir, f) for f in os.listdir(tars_dir) if f.endswith(".tar"))

    class Samples(IterableDataset):
        """clip-retrieval's webdataset reader in miniature: shards split over the workers, each
        sample decoded by PIL, transformed and tokenized in the worker."""

        def __iter__(self):
            info = get_worker_info()
            mine = tars if info is None else tars[info.id::info.num_workers]
            for key, parts in tar_samples(mine):
                img = Image.open(io.BytesIO(parts["jpg"]))
                yield key, transform(img), torch.tensor(tok(parts["txt"].decode("utf-8")), dtype=torch.long)

    loader = DataLoader(Samples(), batch_size=batch, num_workers=workers,
                        persistent_workers=False, prefetch_factor=2 if workers else None)
    keys, img_out, txt_out = [], [], []
    t_loop = time.time()
    with torch.no_grad():
        for k, images, texts in loader:
            ie = model.encode_image(images)  # L2-normalised (normalize=True)
            te = model.encode_text(texts)
            keys.extend(k)
            img_out.append(ie.numpy())
            txt_out.append(te.numpy())
    t_end = time.time()
    np.savez(out_npz, keys=np.array(keys), image=np.concatenate(img_out), text=np.concatenate(txt_out))
    n = len(keys)
    print(json.dumps({"pairs": n, "loop_s": t_end - t_loop, "process_s": t_end - t_start,
                      "pairs_per_s_loop": n / (t_end - t_loop), "transform": tf_name,
                      "threads": threads, "workers": workers, "batch": batch, "torch": torch.__version__}))


# --------------------------------------------------------------------- Pillow preprocessing


def cmd_pillow(images_dir, seconds):
    need("torch", "numpy", "PIL")
    import PIL
    import PIL.features
    import torch
    from PIL import Image

    torch.set_num_threads(1)
    onnx_dir = os.environ.get("PEER_MODEL")
    size, mean, std = preprocess_cfg(onnx_dir) if onnx_dir else (224, [0.48145466, 0.4578275, 0.40821073],
                                                                  [0.26862954, 0.26130258, 0.27577711])
    transform, tf_name = make_transform(size, mean, std)
    blobs = [open(os.path.join(images_dir, f), "rb").read() for f in sorted(os.listdir(images_dir))
             if f.lower().endswith((".jpg", ".jpeg"))]

    def rate(work):
        for b in blobs:  # one warm-up pass, as ClipBench.rate
            work(b)
        n, t0 = 0, time.perf_counter()
        end = t0 + seconds
        while time.perf_counter() < end:
            for b in blobs:
                work(b)
            n += len(blobs)
        return n / (time.perf_counter() - t0)

    def decode(b):
        im = Image.open(io.BytesIO(b))
        im.load()
        return im

    dec = rate(decode)
    full = rate(lambda b: transform(Image.open(io.BytesIO(b))))
    print(json.dumps({"images": len(blobs), "decode_img_s": dec, "decode_preprocess_img_s": full,
                      "transform": tf_name, "pillow": PIL.__version__,
                      "libjpeg_turbo": PIL.features.check_feature("libjpeg_turbo")}))


# ---------------------------------------------------------------------------------- cosines


def read_sparkclip(out_dir, bin_dir):
    import numpy as np

    if bin_dir:
        keys = open(os.path.join(bin_dir, "keys.txt"), encoding="utf-8").read().split("\n")[:-1]
        meta = json.load(open(os.path.join(bin_dir, "meta.json")))
        d = meta["dim"]
        img = np.fromfile(os.path.join(bin_dir, "image.f32"), dtype="<f4").reshape(-1, d)
        txt = np.fromfile(os.path.join(bin_dir, "text.f32"), dtype="<f4").reshape(-1, d)
        return keys, img, txt, meta.get("status", {}), "EmbeddingsDump.java (Spark)"
    import pyarrow.parquet as pq

    data = os.path.join(out_dir, "data")
    files = sorted(os.path.join(r, f) for r, _, fs in os.walk(data) for f in fs if f.endswith(".parquet"))
    t = pq.ParquetDataset(files).read(columns=["key", "embed_status", "image_embedding", "text_embedding"])
    status = {}
    for s in t.column("embed_status").to_pylist():
        status[s] = status.get(s, 0) + 1
    keys = t.column("key").to_pylist()

    def arr(col):
        rows = t.column(col).to_pylist()
        d = len(next(r for r in rows if r is not None))
        return np.array([r if r is not None else [np.nan] * d for r in rows], dtype=np.float32)

    return keys, arr("image_embedding"), arr("text_embedding"), status, "pyarrow " + __import__("pyarrow").__version__


def cmd_cosine(torch_npz, out_dir, bin_dir=None):
    import numpy as np

    ref = np.load(torch_npz)
    rkeys = [str(k) for k in ref["keys"]]
    keys, img, txt, status, reader = read_sparkclip(out_dir, bin_dir)
    at = {k: i for i, k in enumerate(keys)}
    missing = [k for k in rkeys if k not in at]
    idx = np.array([at[k] for k in rkeys if k in at])
    ri = np.array([i for i, k in enumerate(rkeys) if k in at])

    def cos(a, b):
        a = a / np.linalg.norm(a, axis=1, keepdims=True)
        b = b / np.linalg.norm(b, axis=1, keepdims=True)
        return (a * b).sum(1)

    ci = cos(ref["image"][ri].astype(np.float64), img[idx].astype(np.float64))
    ct = cos(ref["text"][ri].astype(np.float64), txt[idx].astype(np.float64))
    print(json.dumps({"matched": int(len(idx)), "torch_rows": len(rkeys), "sparkclip_rows": len(keys),
                      "missing_in_sparkclip": len(missing), "embed_status": status, "reader": reader,
                      "image_cos_min": float(np.nanmin(ci)), "image_cos_mean": float(np.nanmean(ci)),
                      "image_cos_median": float(np.nanmedian(ci)),
                      "text_cos_min": float(np.nanmin(ct)), "text_cos_mean": float(np.nanmean(ct)),
                      "image_norm_sparkclip_mean": float(np.nanmean(np.linalg.norm(img[idx], axis=1)))}))


# ----------------------------------------------------------------------------------- report


def cmd_report(results_json):
    r = json.load(open(results_json))
    t, s, c, p, j, m = r["torch"], r["sparkclip"], r["cosine"], r["pillow"], r["clipbench"], r["machine"]
    n = t["pairs"]
    rows = [
        ("torch + PIL loop, pairs/s (loop only)", f"{t['pairs_per_s_loop']:.2f}",
         f"{n} pairs in {t['loop_s']:.1f} s; batch {t['batch']}, {t['threads']} torch threads, {t['workers']} DataLoader worker(s), {t['transform']}"),
        ("torch + PIL loop, pairs/s (process wall)", f"{n / t['wall_s']:.2f}",
         f"{t['wall_s']:.1f} s incl. Python start, imports, model load"),
        ("sparkclip embed, pairs/s (job seconds)", f"{s['rows'] / s['job_s']:.2f}" if s.get("job_s") else "n/a",
         f"{s['rows']} pairs in {s['job_s']} s (_embed_run.json seconds: listing, Spark jobs, writes, commit)"),
        ("sparkclip embed, pairs/s (wall)", f"{s['rows'] / s['wall_s']:.2f}",
         f"{s['wall_s']:.1f} s incl. JVM + Spark start ({s['cmd']})"),
        ("ratio sparkclip / torch, job vs loop", f"{(s['rows'] / s['job_s']) / t['pairs_per_s_loop']:.2f}x" if s.get("job_s") else "n/a", "target >= 3x"),
        ("ratio sparkclip / torch, wall vs wall", f"{(s['rows'] / s['wall_s']) / (n / t['wall_s']):.2f}x", ""),
        ("cosine image, min / mean", f"{c['image_cos_min']:.6f} / {c['image_cos_mean']:.6f}",
         f"{c['matched']} pairs matched by key (target min >= 0.999)"),
        ("cosine text, min / mean", f"{c['text_cos_min']:.6f} / {c['text_cos_mean']:.6f}", f"read with {c['reader']}"),
        ("Pillow decode + eval transform, img/s, 1 core", f"{p['decode_preprocess_img_s']:.1f}",
         f"Pillow {p['pillow']} (libjpeg-turbo: {p['libjpeg_turbo']}), {p['transform']}; decode alone {p['decode_img_s']:.1f}"),
        ("sparkclip exact path (ClipBench auto), img/s, 1 core", f"{j['auto_full']:.1f}",
         f"decode alone {j['auto_decode']:.1f}; reduced-DCT opt-in {j.get('reduced_full', float('nan')):.1f}"),
        ("ratio sparkclip / Pillow, preprocessing", f"{j['auto_full'] / p['decode_preprocess_img_s']:.2f}x", "target >= 2x"),
    ]
    w0 = max(len(a) for a, _, _ in rows)
    w1 = max(len(b) for _, b, _ in rows)
    print(f"| {'what'.ljust(w0)} | {'result'.ljust(w1)} | how |")
    print(f"|{'-' * (w0 + 2)}|{'-' * (w1 + 2)}|---|")
    for a, b, cc in rows:
        print(f"| {a.ljust(w0)} | {b.ljust(w1)} | {cc} |")
    print()
    print(f"machine: nproc {m['nproc']}, {m['cpu']}, {m['java']}, torch {t['torch']}, Python {m['python']}, "
          f"load average {m['load_before']} before / {m['load_after']} after")
    if s.get("status"):
        print(f"sparkclip embed_status: {s['status']}; cosine rows: torch {c['torch_rows']}, sparkclip {c['sparkclip_rows']}, "
              f"missing {c['missing_in_sparkclip']}")


def main():
    a = sys.argv[1:]
    if not a:
        sys.exit(__doc__)
    cmd, rest = a[0], a[1:]
    if cmd == "images":
        cmd_images(rest[0], int(rest[1]))
    elif cmd == "shards":
        cmd_shards(rest[0], rest[1], int(rest[2]))
    elif cmd == "model":
        cmd_model(rest[0], rest[1])
    elif cmd == "torch-loop":
        cmd_torch_loop(*rest[:4])
    elif cmd == "pillow":
        cmd_pillow(rest[0], float(rest[1]))
    elif cmd == "cosine":
        cmd_cosine(*rest[:3])
    elif cmd == "report":
        cmd_report(rest[0])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
