#!/usr/bin/python3
"""Writes the committed test fixtures of sparkclip-udfs, or a ViT-B/32-sized benchmark model.

    /usr/bin/python3 tools/make_fixtures.py                      # -> udfs/src/test/resources/{tiny-clip,tiny-clip-fp16-b1,fixtures}
    /usr/bin/python3 tools/make_fixtures.py --vit-b32 /tmp/b32   # random ViT-B/32 model dir (not committed)
    /usr/bin/python3 tools/make_fixtures.py --vit-b32 /tmp/b32h --fp16
    /usr/bin/python3 tools/make_fixtures.py --fixed-batch-only          # -> .../tiny-clip-b8 (needs only python3-onnx)

Everything is seeded, so re-running gives the same bytes for the images, the tokenizer and the
reference ids (ONNX files may differ in metadata only).  Reference data:

* tokenizer.json: a CLIP-format Hugging Face tokenizer whose BPE merges are learned here from a
  small caption corpus.  Reference ids come from an independent implementation of CLIP's
  simple_tokenizer algorithm below (not from the HF library, which is not installed), so the Java
  test that loads tokenizer.json with DJL can fail.
* images in several PIL modes/formats and their open_clip eval preprocessing (torchvision's
  Resize/CenterCrop/ToTensor/Normalize on PIL, as open_clip.image_transform builds them).
* torch embeddings for those tensors and for the reference token ids.

Binary arrays are raw little-endian (float32 or uint8); fixtures/manifest.json gives shapes.
"""

import argparse
import io
import json
import math
import os
import random
import sys
import unicodedata

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import numpy as np
    import torch
    from PIL import Image, ImageDraw, ImageFilter

    import clip_tiny  # noqa: E402
except ImportError as missing:  # --fixed-batch-only needs python3-onnx alone
    TORCH_MISSING = missing
else:
    TORCH_MISSING = None

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RES = os.path.join(ROOT, "udfs", "src", "test", "resources")

COLOURS = ["red", "orange", "yellow", "green", "blue", "purple", "pink", "brown", "black", "white"]
SHAPES = ["circle", "square", "triangle", "star", "hexagon", "cross", "diamond"]
POSITIONS = ["left", "right", "top", "bottom", "center"]
SOT, EOT = "<|startoftext|>", "<|endoftext|>"
NUM_MERGES = 400

# ----------------------------------------------------------------------------------- tokenizer


def bytes_to_unicode():
    """CLIP's / GPT-2's reversible byte -> printable unicode char table (order matters for ids)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


BYTE_ENC = bytes_to_unicode()


def normalize(text):
    """normalizer Sequence[NFC, Replace(\\s+ -> ' '), Lowercase] (no strip, like HF)."""
    text = unicodedata.normalize("NFC", text)
    out, prev_space = [], False
    for ch in text:
        if ch.isspace():
            if not prev_space:
                out.append(" ")
            prev_space = True
        else:
            out.append(ch)
            prev_space = False
    return "".join(out).lower()


def _is_letter(ch):
    return unicodedata.category(ch).startswith("L")


def _is_number(ch):
    return unicodedata.category(ch).startswith("N")


def pre_tokenize(text):
    """Hand-written scanner for CLIP's regex (no `regex` module here):
    <|startoftext|>|<|endoftext|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+"""
    words, i, n = [], 0, len(text)
    while i < n:
        matched = None
        for lit in (SOT, EOT, "'s", "'t", "'re", "'ve", "'m", "'ll", "'d"):
            if text.startswith(lit, i):
                matched = lit
                break
        if matched is None:
            ch = text[i]
            if ch.isspace():
                i += 1
                continue
            j = i + 1
            if _is_letter(ch):
                while j < n and _is_letter(text[j]):
                    j += 1
            elif not _is_number(ch):
                while j < n and not (text[j].isspace() or _is_letter(text[j]) or _is_number(text[j])):
                    j += 1
                    # a literal alternative starting inside the run wins in the regex only at a new match start
            matched = text[i:j]
        words.append(matched)
        i += len(matched)
    return words


def word_symbols(word):
    chars = [BYTE_ENC[b] for b in word.encode("utf-8")]
    return chars[:-1] + [chars[-1] + "</w>"]


def learn_merges(corpus_words, num_merges):
    """Plain BPE training: repeatedly merge the most frequent adjacent pair (ties: lexicographic)."""
    vocab = {}
    for w in corpus_words:
        key = tuple(word_symbols(w))
        vocab[key] = vocab.get(key, 0) + 1
    merges = []
    for _ in range(num_merges):
        pairs = {}
        for syms, c in vocab.items():
            for a, b in zip(syms, syms[1:]):
                pairs[(a, b)] = pairs.get((a, b), 0) + c
        if not pairs:
            break
        best = min(pairs.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        if pairs[best] < 2:
            break
        merges.append(best)
        new_vocab = {}
        for syms, c in vocab.items():
            out, i = [], 0
            while i < len(syms):
                if i < len(syms) - 1 and (syms[i], syms[i + 1]) == best:
                    out.append(syms[i] + syms[i + 1])
                    i += 2
                else:
                    out.append(syms[i])
                    i += 1
            new_vocab[tuple(out)] = new_vocab.get(tuple(out), 0) + c
        vocab = new_vocab
    return merges


def build_vocab(merges):
    vocab = list(BYTE_ENC.values())
    vocab = vocab + [v + "</w>" for v in vocab]
    for a, b in merges:
        vocab.append(a + b)
    vocab.extend([SOT, EOT])
    return {tok: i for i, tok in enumerate(vocab)}


class RefTokenizer:
    """Independent re-implementation of open_clip's SimpleTokenizer.encode + tokenize()."""

    def __init__(self, merges):
        self.ranks = {m: i for i, m in enumerate(merges)}
        self.encoder = build_vocab(merges)
        self.sot, self.eot = self.encoder[SOT], self.encoder[EOT]

    def bpe(self, word):
        syms = word_symbols(word)
        while len(syms) > 1:
            pairs = [(self.ranks.get((a, b), math.inf), k) for k, (a, b) in enumerate(zip(syms, syms[1:]))]
            rank, _ = min(pairs)
            if rank == math.inf:
                break
            a, b = [p for p in self.ranks if self.ranks[p] == rank][0]
            out, i = [], 0
            while i < len(syms):
                if i < len(syms) - 1 and syms[i] == a and syms[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(syms[i])
                    i += 1
            syms = out
        return syms

    def encode(self, text):
        ids = []
        for w in pre_tokenize(normalize(text)):
            if w in (SOT, EOT):
                ids.append(self.encoder[w])
            else:
                ids.extend(self.encoder[s] for s in self.bpe(w))
        return ids

    def tokenize(self, text, context_length):
        """open_clip: [sot] + ids + [eot], truncate keeping eot last, pad with 0."""
        toks = [self.sot] + self.encode(text) + [self.eot]
        if len(toks) > context_length:
            toks = toks[:context_length]
            toks[-1] = self.eot
        return toks + [0] * (context_length - len(toks))


def tokenizer_json(merges):
    vocab = build_vocab(merges)
    special = lambda tok: {"id": vocab[tok], "content": tok, "single_word": False, "lstrip": False,
                           "rstrip": False, "normalized": True, "special": True}
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [special(SOT), special(EOT)],
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "NFC"},
            {"type": "Replace", "pattern": {"Regex": "\\s+"}, "content": " "},
            {"type": "Lowercase"}]},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            # As in openai/clip-vit-base-patch32's tokenizer.json: keep the regex matches, drop the rest.
            {"type": "Split", "pattern": {"Regex": "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+"},
             "behavior": "Removed", "invert": True},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]},
        "post_processor": {"type": "RobertaProcessing", "sep": [EOT, vocab[EOT]], "cls": [SOT, vocab[SOT]],
                           "trim_offsets": False, "add_prefix_space": False},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": EOT, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "</w>", "fuse_unk": False, "byte_fallback": False,
                  "vocab": vocab, "merges": [a + " " + b for a, b in merges]},
    }


def caption_corpus(rng):
    lines = []
    for _ in range(3000):
        c, s, p = rng.choice(COLOURS), rng.choice(SHAPES), rng.choice(POSITIONS)
        c2, s2 = rng.choice(COLOURS), rng.choice(SHAPES)
        lines.append(rng.choice([
            f"a photo of a {c} {s}", f"a {c} {s} on the {p}", f"a {c} {s} in the {p}",
            f"a {c} {s} and a {c2} {s2}", f"the {s} is {c}", f"a drawing of a {c} {s} on a {c2} background",
            f"there's a {c} {s} at the {p} of the image", f"a picture of the {s}",
        ]))
    return lines


FIXTURE_CAPTIONS = [
    "a photo of a red circle",
    "A Photo Of A RED Circle",
    "  a   blue\tsquare \n on the   left  ",
    "a green triangle in the center",
    "there's a purple hexagon at the top of the image!",
    "a pink star, 3 yellow crosses & 12 diamonds",
    "unseen words like zebra xylophone quokka",
    "Café naïve résumé",
    "",
    " ".join(["a brown diamond on the bottom right"] * 12),  # > 77 tokens: truncation keeps <|endoftext|>
]

# -------------------------------------------------------------------------------------- images


def web_like_image(rng, w, h, mode="RGB"):
    """Gradient + shapes + noise + blur: JPEG-compressible but not trivial."""
    base = np.zeros((h, w, 3), np.float32)
    c0, c1 = np.array(rng.sample(range(256), 3), np.float32), np.array(rng.sample(range(256), 3), np.float32)
    t = (np.linspace(0, 1, w)[None, :, None] + np.linspace(0, 1, h)[:, None, None]) / 2
    base[:] = c0 * (1 - t) + c1 * t
    img = Image.fromarray(base.astype(np.uint8), "RGB")
    d = ImageDraw.Draw(img)
    for _ in range(6):
        x0, y0 = rng.randrange(w), rng.randrange(h)
        r = rng.randrange(max(2, min(w, h) // 10), max(3, min(w, h) // 3))
        col = tuple(rng.randrange(256) for _ in range(3))
        if rng.random() < 0.5:
            d.ellipse([x0 - r, y0 - r, x0 + r, y0 + r], fill=col)
        else:
            d.rectangle([x0 - r, y0 - r // 2, x0 + r, y0 + r // 2], fill=col)
    arr = np.asarray(img, np.int16) + np.array(np.random.RandomState(rng.randrange(1 << 30)).randint(-12, 13, (h, w, 3)), np.int16)
    img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB").filter(ImageFilter.GaussianBlur(0.6))
    return img.convert(mode) if mode != "RGB" else img


def fixture_images(rng):
    """(name, filename, bytes) in the formats and PIL modes the decoder must handle."""
    out = []

    def save(name, ext, img, **kw):
        buf = io.BytesIO()
        img.save(buf, **kw)
        out.append((name, f"{name}.{ext}", buf.getvalue()))

    save("rgb_jpeg", "jpg", web_like_image(rng, 320, 240), format="JPEG", quality=90)
    save("rgb_png_tall", "png", web_like_image(rng, 150, 280), format="PNG")
    save("gray_jpeg", "jpg", web_like_image(rng, 200, 200, "L"), format="JPEG", quality=90)
    rgba = web_like_image(rng, 180, 120).convert("RGBA")
    alpha = Image.linear_gradient("L").resize((180, 120))
    rgba.putalpha(alpha)
    save("rgba_png", "png", rgba, format="PNG")
    save("palette_png", "png", web_like_image(rng, 160, 130).quantize(64), format="PNG")
    save("cmyk_jpeg", "jpg", web_like_image(rng, 240, 180, "CMYK"), format="JPEG", quality=90)
    save("wide_jpeg", "jpg", web_like_image(rng, 640, 90), format="JPEG", quality=85)
    save("small_png", "png", web_like_image(rng, 23, 17), format="PNG")
    save("gif", "gif", web_like_image(rng, 120, 100).quantize(32), format="GIF")
    save("bmp", "bmp", web_like_image(rng, 97, 61), format="BMP")
    save("webp", "webp", web_like_image(rng, 128, 96), format="WEBP", quality=90)
    save("large_jpeg", "jpg", web_like_image(rng, 2048, 1536), format="JPEG", quality=80)
    return out


def pil_resize_shortest(img, size, resample):
    """torchvision.transforms.Resize(int) on a PIL image (0.14): short side -> size, long = int(size*long/short)."""
    w, h = img.size
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = size, int(size * long / short)
    new_w, new_h = (new_short, new_long) if w <= h else (new_long, new_short)
    if (new_w, new_h) == (w, h):
        return img
    return img.resize((new_w, new_h), resample)


def pil_center_crop(img, size):
    """torchvision CenterCrop on PIL (image at least size x size here): Python round(), i.e. half-to-even."""
    w, h = img.size
    top, left = int(round((h - size) / 2.0)), int(round((w - size) / 2.0))
    return img.crop((left, top, left + size, top + size))


def open_clip_uint8(img, size, resize_mode="shortest", interpolation="bicubic"):
    """open_clip image_transform(eval) up to ToTensor: Resize -> CenterCrop -> _convert_to_rgb."""
    resample = {"bicubic": Image.BICUBIC, "bilinear": Image.BILINEAR}[interpolation]
    try:
        import torchvision.transforms as T  # noqa: F401  (cross-check when python3-torchvision is installed)
        mode = {"bicubic": T.InterpolationMode.BICUBIC, "bilinear": T.InterpolationMode.BILINEAR}[interpolation]
        if resize_mode == "shortest":
            tv = T.Compose([T.Resize(size, interpolation=mode), T.CenterCrop(size)])
        else:
            tv = T.Compose([T.Resize((size, size), interpolation=mode)])
        tv_out = np.asarray(tv(img).convert("RGB"))
    except ImportError:
        tv_out = None
    if resize_mode == "shortest":
        out = pil_center_crop(pil_resize_shortest(img, size, resample), size)
    else:
        out = img.resize((size, size), resample) if img.size != (size, size) else img
    arr = np.asarray(out.convert("RGB"))
    if tv_out is not None:
        assert np.array_equal(arr, tv_out), "PIL reference differs from torchvision"
    return arr


def to_tensor(arr_uint8, mean, std):
    x = arr_uint8.astype(np.float32) / 255.0
    x = (x - np.array(mean, np.float32)) / np.array(std, np.float32)
    return x.transpose(2, 0, 1).copy()  # CHW


# ---------------------------------------------------------------------------------------- main


def write_bin(path, arr):
    arr = np.ascontiguousarray(arr)
    assert arr.dtype in (np.float32, np.uint8, np.int32)
    with open(path, "wb") as f:
        f.write(arr.astype(arr.dtype.newbyteorder("<")).tobytes())


def make_fixtures():
    rng = random.Random(1234)
    torch.manual_seed(1234)
    corpus = caption_corpus(rng)
    words = [w for line in corpus for w in pre_tokenize(normalize(line))]
    merges = learn_merges(words, NUM_MERGES)
    tok = RefTokenizer(merges)
    tj = tokenizer_json(merges)
    vocab_size = len(tj["model"]["vocab"])

    cfg = clip_tiny.ClipCfg(
        embed_dim=32,
        vision_cfg=clip_tiny.VisionCfg(image_size=64, patch_size=16, width=64, layers=2, heads=4),
        text_cfg=clip_tiny.TextCfg(context_length=77, vocab_size=vocab_size, width=64, layers=2, heads=4),
        init_logit_scale=math.log(1 / 0.07),
    )
    model = clip_tiny.TinyClip(cfg).eval()
    tiny = os.path.join(RES, "tiny-clip")
    clip_tiny.export_onnx(model, tiny, tokenizer_json=tj, fp16=False, text_dtype=torch.int32)
    fp16 = os.path.join(RES, "tiny-clip-fp16-b1")
    clip_tiny.export_onnx(model, fp16, tokenizer_json=tj, fp16=True, text_dtype=torch.int64, fixed_batch=True)

    fx = os.path.join(RES, "fixtures")
    os.makedirs(os.path.join(fx, "images"), exist_ok=True)
    pcfg = json.load(open(os.path.join(tiny, "visual", "preprocess_cfg.json")))
    size, mean, std = pcfg["size"][0], pcfg["mean"], pcfg["std"]

    images, tensors = [], []
    for name, fname, data in fixture_images(rng):
        with open(os.path.join(fx, "images", fname), "wb") as f:
            f.write(data)
        img = Image.open(io.BytesIO(data))
        img.load()
        entry = {"name": name, "file": "images/" + fname, "pil_mode": img.mode, "width": img.size[0],
                 "height": img.size[1]}
        arr = open_clip_uint8(img, size)
        t = to_tensor(arr, mean, std)
        write_bin(os.path.join(fx, f"{name}.tensor.bin"), t)
        entry["tensor"] = f"{name}.tensor.bin"
        # 224-px uint8 references (CLIP's real size) for the resampler, both interpolations/modes.
        if name in ("rgb_jpeg", "rgba_png", "palette_png", "small_png", "rgb_png_tall", "cmyk_jpeg"):
            write_bin(os.path.join(fx, f"{name}.224_bicubic_shortest.u8.bin"), open_clip_uint8(img, 224))
            write_bin(os.path.join(fx, f"{name}.224_bilinear_squash.u8.bin"),
                      open_clip_uint8(img, 224, "squash", "bilinear"))
            entry["u8_224"] = {"bicubic_shortest": f"{name}.224_bicubic_shortest.u8.bin",
                               "bilinear_squash": f"{name}.224_bilinear_squash.u8.bin"}
        images.append(entry)
        tensors.append(t)

    with torch.no_grad():
        img_emb = model.encode_image(torch.from_numpy(np.stack(tensors))).numpy()
        ids = [tok.tokenize(c, cfg.text_cfg.context_length) for c in FIXTURE_CAPTIONS]
        txt_emb = model.encode_text(torch.tensor(ids, dtype=torch.long)).numpy()
    write_bin(os.path.join(fx, "image_embeddings.bin"), img_emb.astype(np.float32))
    write_bin(os.path.join(fx, "text_embeddings.bin"), txt_emb.astype(np.float32))

    manifest = {
        "generator": "tools/make_fixtures.py",
        "model_dir": "tiny-clip",
        "preprocess": {"size": size, "mean": mean, "std": std, "interpolation": "bicubic", "resize_mode": "shortest"},
        "tensor_shape": [3, size, size],
        "u8_224_shape": [224, 224, 3],
        "embed_dim": cfg.embed_dim,
        "images": images,
        "image_embeddings": {"file": "image_embeddings.bin", "shape": list(img_emb.shape)},
        "captions": [{"text": c, "ids": i, "unpadded_length": sum(1 for x in i if x != 0)}
                     for c, i in zip(FIXTURE_CAPTIONS, ids)],
        "text_embeddings": {"file": "text_embeddings.bin", "shape": list(txt_emb.shape)},
        "sot_id": tok.sot,
        "eot_id": tok.eot,
        "logit_scale": float(model.logit_scale),
    }
    with open(os.path.join(fx, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, ensure_ascii=False)
    print(f"vocab {vocab_size}, merges {len(merges)}; wrote {tiny}, {fp16}, {fx}")
    make_fixed_batch(tiny, os.path.join(RES, FIXED_BATCH_DIR), FIXED_BATCH)


FIXED_BATCH = 8
FIXED_BATCH_DIR = "tiny-clip-b8"


def make_fixed_batch(src_dir, out_dir, batch):
    """tiny-clip with both towers' batch axis fixed at `batch`, like exports traced at one batch.

    The graph and weights are tiny-clip's (exported with a dynamic batch axis, so every op already
    works on any batch); only the declared input and output shapes change.  The engine must pad a
    last partial batch for such a model, and its embeddings must equal tiny-clip's.
    """
    import shutil

    import onnx

    if os.path.exists(out_dir):
        shutil.rmtree(out_dir)
    shutil.copytree(src_dir, out_dir)
    for tower in ("visual", "textual"):
        path = os.path.join(out_dir, tower, "model.onnx")
        m = onnx.load(path)
        for value in list(m.graph.input) + list(m.graph.output):
            dim = value.type.tensor_type.shape.dim[0]
            dim.Clear()
            dim.dim_value = batch
        onnx.checker.check_model(m)
        onnx.save(m, path)
    print(f"wrote {out_dir} (tiny-clip with a fixed batch of {batch})")


def make_vit_b32(out_dir, fp16):
    torch.manual_seed(32)
    rng = random.Random(32)
    corpus = caption_corpus(rng)
    merges = learn_merges([w for line in corpus for w in pre_tokenize(normalize(line))], NUM_MERGES)
    tj = tokenizer_json(merges)
    model = clip_tiny.TinyClip(clip_tiny.vit_b32_cfg(vocab_size=len(tj["model"]["vocab"]))).eval()
    clip_tiny.export_onnx(model, out_dir, tokenizer_json=tj, fp16=fp16, text_dtype=torch.int32)
    print(f"wrote ViT-B/32-sized random model to {out_dir} (fp16={fp16})")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vit-b32", metavar="DIR", help="write a random-weight ViT-B/32-sized model dir instead")
    ap.add_argument("--fp16", action="store_true", help="with --vit-b32: float16 inputs/outputs and weights")
    ap.add_argument("--fixed-batch-only", action="store_true",
                    help=f"only derive {FIXED_BATCH_DIR} from the committed tiny-clip (needs python3-onnx, not torch)")
    a = ap.parse_args()
    if a.fixed_batch_only:
        make_fixed_batch(os.path.join(RES, "tiny-clip"), os.path.join(RES, FIXED_BATCH_DIR), FIXED_BATCH)
        sys.exit(0)
    if TORCH_MISSING is not None:
        raise TORCH_MISSING
    if a.vit_b32:
        make_vit_b32(a.vit_b32, a.fp16)
    else:
        make_fixtures()
