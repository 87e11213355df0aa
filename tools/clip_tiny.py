"""A small, configurable CLIP (open_clip architecture) and its ONNX export.

Reusable module: ``tools/make_fixtures.py`` writes the committed test fixtures with it, and a
later task imports it to train a small demo CLIP.  The export writes the open_clip / Immich model
directory layout that ``io.sparkclip.udfs.model.ModelDirectory`` reads::

    DIR/config.json                 embed_dim, vision_cfg, text_cfg (context_length, vocab_size, ...)
    DIR/logit_scale.json            {"logit_scale": ln(scale), "logit_scale_exp": scale}
    DIR/visual/model.onnx           input "image" [N,3,H,W] float32|float16 -> "embedding" [N,D]
    DIR/visual/preprocess_cfg.json  size, mode, mean, std, interpolation, resize_mode
    DIR/textual/model.onnx          input "text" [N,context] int32|int64 -> "embedding" [N,D]
    DIR/textual/tokenizer.json      Hugging Face format (written by the caller)

Run with /usr/bin/python3 (Debian's python3-torch 1.13, python3-onnx 1.12).
"""

import dataclasses
import json
import math
import os
from collections import OrderedDict
from typing import Optional

import torch
from torch import nn

OPENAI_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_STD = (0.26862954, 0.26130258, 0.27577711)
ONNX_OPSET = 17  # torch 1.13 exports up to 17; ONNX Runtime 1.29 accepts it.


@dataclasses.dataclass
class VisionCfg:
    image_size: int = 32
    patch_size: int = 8
    width: int = 64
    layers: int = 2
    heads: int = 4
    mlp_ratio: float = 4.0


@dataclasses.dataclass
class TextCfg:
    context_length: int = 77
    vocab_size: int = 1024
    width: int = 64
    layers: int = 2
    heads: int = 4
    mlp_ratio: float = 4.0


@dataclasses.dataclass
class ClipCfg:
    embed_dim: int = 32
    vision_cfg: VisionCfg = dataclasses.field(default_factory=VisionCfg)
    text_cfg: TextCfg = dataclasses.field(default_factory=TextCfg)
    init_logit_scale: float = math.log(1 / 0.07)

    def to_json(self):
        return {
            "embed_dim": self.embed_dim,
            "vision_cfg": dataclasses.asdict(self.vision_cfg),
            "text_cfg": dataclasses.asdict(self.text_cfg),
        }


def vit_b32_cfg(vocab_size=49408) -> ClipCfg:
    """ViT-B/32 sizes (random weights are enough for benchmarks)."""
    return ClipCfg(
        embed_dim=512,
        vision_cfg=VisionCfg(image_size=224, patch_size=32, width=768, layers=12, heads=12),
        text_cfg=TextCfg(context_length=77, vocab_size=vocab_size, width=512, layers=12, heads=8),
    )


class ResidualAttentionBlock(nn.Module):
    def __init__(self, width, heads, mlp_ratio):
        super().__init__()
        self.ln_1 = nn.LayerNorm(width)
        self.attn = nn.MultiheadAttention(width, heads)
        self.ln_2 = nn.LayerNorm(width)
        hidden = int(width * mlp_ratio)
        self.mlp = nn.Sequential(
            OrderedDict(
                [("c_fc", nn.Linear(width, hidden)), ("gelu", nn.GELU()), ("c_proj", nn.Linear(hidden, width))]
            )
        )

    def forward(self, x, attn_mask: Optional[torch.Tensor] = None):
        y = self.ln_1(x)
        x = x + self.attn(y, y, y, need_weights=False, attn_mask=attn_mask)[0]
        return x + self.mlp(self.ln_2(x))


class Transformer(nn.Module):
    def __init__(self, width, layers, heads, mlp_ratio):
        super().__init__()
        self.resblocks = nn.ModuleList([ResidualAttentionBlock(width, heads, mlp_ratio) for _ in range(layers)])

    def forward(self, x, attn_mask=None):  # x: [L, N, D] (sequence first, like open_clip)
        for block in self.resblocks:
            x = block(x, attn_mask=attn_mask)
        return x


class VisionTransformer(nn.Module):
    def __init__(self, cfg: VisionCfg, embed_dim: int):
        super().__init__()
        scale = cfg.width**-0.5
        grid = cfg.image_size // cfg.patch_size
        self.conv1 = nn.Conv2d(3, cfg.width, kernel_size=cfg.patch_size, stride=cfg.patch_size, bias=False)
        self.class_embedding = nn.Parameter(scale * torch.randn(cfg.width))
        self.positional_embedding = nn.Parameter(scale * torch.randn(grid * grid + 1, cfg.width))
        self.ln_pre = nn.LayerNorm(cfg.width)
        self.transformer = Transformer(cfg.width, cfg.layers, cfg.heads, cfg.mlp_ratio)
        self.ln_post = nn.LayerNorm(cfg.width)
        self.proj = nn.Parameter(scale * torch.randn(cfg.width, embed_dim))

    def forward(self, x):
        x = self.conv1(x)  # [N, W, g, g]
        x = x.reshape(x.shape[0], x.shape[1], -1).permute(0, 2, 1)  # [N, g*g, W]
        cls = self.class_embedding.to(x.dtype) + torch.zeros(x.shape[0], 1, x.shape[-1], dtype=x.dtype)
        x = torch.cat([cls, x], dim=1) + self.positional_embedding.to(x.dtype)
        x = self.ln_pre(x).permute(1, 0, 2)
        x = self.transformer(x).permute(1, 0, 2)
        return self.ln_post(x[:, 0, :]) @ self.proj


class TextTransformer(nn.Module):
    """Causal text transformer pooled at the end-of-text token (the highest id: argmax)."""

    def __init__(self, cfg: TextCfg, embed_dim: int):
        super().__init__()
        self.context_length = cfg.context_length
        self.token_embedding = nn.Embedding(cfg.vocab_size, cfg.width)
        self.positional_embedding = nn.Parameter(0.01 * torch.randn(cfg.context_length, cfg.width))
        self.transformer = Transformer(cfg.width, cfg.layers, cfg.heads, cfg.mlp_ratio)
        self.ln_final = nn.LayerNorm(cfg.width)
        self.text_projection = nn.Parameter(cfg.width**-0.5 * torch.randn(cfg.width, embed_dim))
        mask = torch.full((cfg.context_length, cfg.context_length), float("-inf")).triu_(1)
        self.register_buffer("attn_mask", mask, persistent=False)

    def forward(self, text):
        x = self.token_embedding(text) + self.positional_embedding
        x = self.transformer(x.permute(1, 0, 2), attn_mask=self.attn_mask).permute(1, 0, 2)
        x = self.ln_final(x)
        pooled = x[torch.arange(x.shape[0]), text.argmax(dim=-1)]
        return pooled @ self.text_projection


class TinyClip(nn.Module):
    def __init__(self, cfg: ClipCfg):
        super().__init__()
        self.cfg = cfg
        self.visual = VisionTransformer(cfg.vision_cfg, cfg.embed_dim)
        self.text = TextTransformer(cfg.text_cfg, cfg.embed_dim)
        self.logit_scale = nn.Parameter(torch.tensor(cfg.init_logit_scale))

    def encode_image(self, image, normalize=True):
        f = self.visual(image)
        return nn.functional.normalize(f, dim=-1) if normalize else f

    def encode_text(self, text, normalize=True):
        f = self.text(text)
        return nn.functional.normalize(f, dim=-1) if normalize else f

    def forward(self, image, text):
        return self.encode_image(image), self.encode_text(text), self.logit_scale.exp()

    def contrastive_loss(self, image, text):
        img, txt, scale = self(image, text)
        logits = scale * img @ txt.t()
        labels = torch.arange(logits.shape[0])
        ce = nn.functional.cross_entropy
        return (ce(logits, labels) + ce(logits.t(), labels)) / 2


class _VisualExport(nn.Module):
    def __init__(self, model, fp16):
        super().__init__()
        self.model, self.fp16 = model, fp16

    def forward(self, image):
        out = self.model.encode_image(image.float())
        return out.half() if self.fp16 else out


class _TextExport(nn.Module):
    def __init__(self, model, fp16):
        super().__init__()
        self.model, self.fp16 = model, fp16

    def forward(self, text):
        out = self.model.encode_text(text.long())
        return out.half() if self.fp16 else out


def _fp16_initializers(path):
    """Stores float32 weights as float16 (+ Cast back), halving the file like real fp16 exports."""
    import onnx
    from onnx import helper, numpy_helper

    m = onnx.load(path)
    g = m.graph
    casts = []
    for init in list(g.initializer):
        if init.data_type != onnx.TensorProto.FLOAT or len(init.dims) == 0:
            continue
        arr = numpy_helper.to_array(init).astype("float16")
        new = numpy_helper.from_array(arr, init.name + "_fp16")
        g.initializer.remove(init)
        g.initializer.append(new)
        casts.append(helper.make_node("Cast", [new.name], [init.name], to=onnx.TensorProto.FLOAT))
    nodes = casts + list(g.node)
    del g.node[:]
    g.node.extend(nodes)
    onnx.checker.check_model(m)
    onnx.save(m, path)


def export_onnx(model: TinyClip, out_dir, tokenizer_json: Optional[dict] = None, fp16=False,
                text_dtype=torch.int32, preprocess_cfg: Optional[dict] = None, fixed_batch=False):
    """Writes the model directory layout (dynamic batch axis unless fixed_batch)."""
    cfg = model.cfg
    model = model.eval()
    os.makedirs(os.path.join(out_dir, "visual"), exist_ok=True)
    os.makedirs(os.path.join(out_dir, "textual"), exist_ok=True)
    in_dtype = torch.float16 if fp16 else torch.float32
    size = cfg.vision_cfg.image_size
    dyn = None if fixed_batch else {"image": {0: "batch"}, "embedding": {0: "batch"}}
    vis_path = os.path.join(out_dir, "visual", "model.onnx")
    with torch.no_grad():
        torch.onnx.export(_VisualExport(model, fp16), (torch.zeros(1, 3, size, size, dtype=in_dtype),), vis_path,
                          input_names=["image"], output_names=["embedding"], dynamic_axes=dyn,
                          opset_version=ONNX_OPSET, do_constant_folding=True)
        ctx = cfg.text_cfg.context_length
        dyn = None if fixed_batch else {"text": {0: "batch"}, "embedding": {0: "batch"}}
        txt_path = os.path.join(out_dir, "textual", "model.onnx")
        torch.onnx.export(_TextExport(model, fp16), (torch.zeros(1, ctx, dtype=text_dtype),), txt_path,
                          input_names=["text"], output_names=["embedding"], dynamic_axes=dyn,
                          opset_version=ONNX_OPSET, do_constant_folding=True)
    if fp16:
        _fp16_initializers(vis_path)
        _fp16_initializers(txt_path)
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(cfg.to_json(), f, indent=2)
    scale = float(model.logit_scale.detach())
    with open(os.path.join(out_dir, "logit_scale.json"), "w") as f:
        json.dump({"logit_scale": scale, "logit_scale_exp": math.exp(scale)}, f, indent=2)
    pcfg = preprocess_cfg or {
        "size": [size, size], "mode": "RGB", "mean": list(OPENAI_MEAN), "std": list(OPENAI_STD),
        "interpolation": "bicubic", "resize_mode": "shortest", "fill_color": 0,
    }
    with open(os.path.join(out_dir, "visual", "preprocess_cfg.json"), "w") as f:
        json.dump(pcfg, f, indent=2)
    if tokenizer_json is not None:
        with open(os.path.join(out_dir, "textual", "tokenizer.json"), "w", encoding="utf-8") as f:
            json.dump(tokenizer_json, f, ensure_ascii=False, indent=1)
