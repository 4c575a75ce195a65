#!/usr/bin/python3
"""train_ref.py: two training steps of a tiny Llama in PyTorch, the reference
for tests/test_train_ref.c.

Run once with Debian's python3-torch (/usr/bin/python3 tests/oracle/train_ref.py);
it writes tests/fixtures/train/step_ref.json and step_ref.bin, which are committed,
so the test needs no Python.

The model is written from the equations with autograd doing the backward, so it
shares no code with the C trainer:
  - weights in GGUF layout: a matrix is [out, in]; Q and K rows keep the
    interleaved RoPE layout (pairs 2i, 2i+1 rotate together, as GGUF "llama");
  - grouped-query attention (query head h reads kv head h // (H / KV));
  - several examples packed into one sequence: a block-diagonal causal mask and
    RoPE positions that restart at each example;
  - loss: mean cross-entropy over the completion tokens of every example;
  - torch.nn.utils.clip_grad_norm_ then torch.optim.AdamW, weight decay on
    matrices only.
It also writes the learning-rate schedules (cosine and one-cycle after a linear
warm-up) from their formulas, for the C schedule to match.

Fixture: step_ref.bin holds float32 little-endian arrays at the offsets that
step_ref.json lists ("arrays": name -> [offset in floats, count]).
"""
import json
import math
import os
import sys

import torch

torch.manual_seed(1234)
torch.set_num_threads(1)

# The tiny model: untied head, grouped-query attention.
L, D, H, KV, F = 2, 16, 4, 2, 40
HD = D // H
V = 263          # the C test's vocabulary: <unk> <s> </s>, 256 bytes, U+2581, 'a', 'b', 'c'
THETA, EPS = 10000.0, 1e-5
LR, MIN_LR, WARMUP, STEPS = 1e-2, 1e-3, 2, 10
WD, B1, B2, AEPS, CLIP = 0.1, 0.9, 0.95, 1e-8, 0.5

names = ["token_embd.weight"]
shapes = {"token_embd.weight": (V, D)}
for l in range(L):
    for suffix, shp in [("attn_norm", (D,)), ("attn_q", (H * HD, D)), ("attn_k", (KV * HD, D)),
                        ("attn_v", (KV * HD, D)), ("attn_output", (D, H * HD)), ("ffn_norm", (D,)),
                        ("ffn_gate", (F, D)), ("ffn_up", (F, D)), ("ffn_down", (D, F))]:
        n = "blk.%d.%s.weight" % (l, suffix)
        names.append(n)
        shapes[n] = shp
names += ["output_norm.weight", "output.weight"]
shapes["output_norm.weight"] = (D,)
shapes["output.weight"] = (V, D)

params = {}
for n in names:
    shp = shapes[n]
    if len(shp) == 1:
        t = 1.0 + 0.1 * torch.randn(shp)
    else:
        t = 0.2 * torch.randn(shp)
    params[n] = t.float().requires_grad_(True)


def rmsnorm(x, w):
    return x * torch.rsqrt((x * x).mean(-1, keepdim=True) + EPS) * w


def rope(x, pos, nh):
    # x: [N, nh*HD]; interleaved pairs (2i, 2i+1) turn by pos * THETA^(-2i/HD)
    N = x.shape[0]
    x = x.view(N, nh, HD // 2, 2)
    i = torch.arange(HD // 2, dtype=torch.float64)
    ang = pos.to(torch.float64)[:, None] * THETA ** (-2.0 * i / HD)[None, :]
    c = torch.cos(ang).float()[:, None, :]
    s = torch.sin(ang).float()[:, None, :]
    x0, x1 = x[..., 0], x[..., 1]
    y0 = x0 * c - x1 * s
    y1 = x0 * s + x1 * c
    return torch.stack([y0, y1], dim=-1).view(N, nh * HD)


def loss_of(batch):
    ids, pos, seg, tgt_idx, tgt = [], [], [], [], []
    for k, (ex, n_prompt) in enumerate(batch):
        base = len(ids)
        for t, tok in enumerate(ex):
            ids.append(tok)
            pos.append(t)
            seg.append(k)
        for t in range(n_prompt - 1, len(ex) - 1):
            tgt_idx.append(base + t)
            tgt.append(ex[t + 1])
    ids = torch.tensor(ids)
    pos = torch.tensor(pos)
    seg = torch.tensor(seg)
    N = len(ids)
    i = torch.arange(N)
    allowed = (seg[:, None] == seg[None, :]) & (i[None, :] <= i[:, None])
    x = params["token_embd.weight"][ids]
    for l in range(L):
        p = lambda s: params["blk.%d.%s.weight" % (l, s)]
        xn = rmsnorm(x, p("attn_norm"))
        q = rope(xn @ p("attn_q").T, pos, H).view(N, H, HD)
        k = rope(xn @ p("attn_k").T, pos, KV).view(N, KV, HD)
        v = (xn @ p("attn_v").T).view(N, KV, HD)
        k = k.repeat_interleave(H // KV, dim=1)
        v = v.repeat_interleave(H // KV, dim=1)
        att = torch.einsum("ihd,jhd->hij", q, k) / math.sqrt(HD)
        att = att.masked_fill(~allowed[None], float("-inf")).softmax(-1)
        o = torch.einsum("hij,jhd->ihd", att, v).reshape(N, H * HD)
        x = x + o @ p("attn_output").T
        xn = rmsnorm(x, p("ffn_norm"))
        a = torch.nn.functional.silu(xn @ p("ffn_gate").T) * (xn @ p("ffn_up").T)
        x = x + a @ p("ffn_down").T
    xf = rmsnorm(x, params["output_norm.weight"])
    logits = xf[torch.tensor(tgt_idx)] @ params["output.weight"].T
    return torch.nn.functional.cross_entropy(logits, torch.tensor(tgt))


def lr_at(s, sched):
    if s < WARMUP:
        return LR * (s + 1) / WARMUP
    span = STEPS - WARMUP
    f = min(1.0, (s - WARMUP) / (span - 1))
    if sched == "cosine":
        return MIN_LR + (LR - MIN_LR) * 0.5 * (1 + math.cos(math.pi * f))
    return MIN_LR + (LR - MIN_LR) * (1 - f)


# Two batches of packed examples (ids, n_prompt): ids start with BOS 1 and end
# with EOS 2; token ids are arbitrary in [3, V).
g = torch.Generator().manual_seed(99)


def example(n, n_prompt):
    body = torch.randint(3, V, (n - 2,), generator=g).tolist()
    return ([1] + body + [2], n_prompt)


batches = [
    [example(9, 4), example(5, 3), example(12, 7), example(3, 2)],
    [example(7, 5), example(10, 2), example(6, 4)],
]

decay = [params[n] for n in names if params[n].dim() == 2]
no_decay = [params[n] for n in names if params[n].dim() == 1]
opt = torch.optim.AdamW([{"params": decay, "weight_decay": WD}, {"params": no_decay, "weight_decay": 0.0}],
                        lr=LR, betas=(B1, B2), eps=AEPS)

arrays = []  # (name, tensor)
for n in names:
    arrays.append(("init/" + n, params[n].detach().clone()))

losses, norms, lrs = [], [], []
for s, batch in enumerate(batches):
    opt.zero_grad()
    loss = loss_of(batch)
    loss.backward()
    if s == 0:
        for n in names:
            arrays.append(("grad1/" + n, params[n].grad.detach().clone()))
    norm = torch.nn.utils.clip_grad_norm_([params[n] for n in names], CLIP)
    lr = lr_at(s, "cosine")
    for group in opt.param_groups:
        group["lr"] = lr
    opt.step()
    losses.append(loss.item())
    norms.append(norm.item())
    lrs.append(lr)
    if s == 0:
        for n in names:
            arrays.append(("step1/" + n, params[n].detach().clone()))
for n in names:
    arrays.append(("step2/" + n, params[n].detach().clone()))

out_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "train")
os.makedirs(out_dir, exist_ok=True)
index, off = {}, 0
with open(os.path.join(out_dir, "step_ref.bin"), "wb") as f:
    for name, t in arrays:
        data = t.detach().contiguous().view(-1).numpy().astype("<f4").tobytes()
        f.write(data)
        index[name] = [off, t.numel()]
        off += t.numel()
meta = {
    "generator": "tests/oracle/train_ref.py, torch %s" % torch.__version__,
    "config": {"n_layers": L, "dim": D, "n_heads": H, "n_kv_heads": KV, "ffn_dim": F, "vocab": V,
               "rope_theta": THETA, "norm_eps": EPS, "tied_embeddings": 0, "lr": LR, "min_lr": MIN_LR,
               "warmup_steps": WARMUP, "steps": STEPS, "weight_decay": WD, "beta1": B1, "beta2": B2,
               "adam_eps": AEPS, "grad_clip": CLIP},
    "tensors": [{"name": n, "shape": list(shapes[n])} for n in names],
    "batches": [[{"ids": ex, "n_prompt": npr} for ex, npr in b] for b in batches],
    "loss": losses,
    "grad_norm": norms,
    "lr": lrs,
    "lr_cosine": [lr_at(s, "cosine") for s in range(STEPS)],
    "lr_onecycle": [lr_at(s, "onecycle") for s in range(STEPS)],
    "arrays": index,
}
with open(os.path.join(out_dir, "step_ref.json"), "w") as f:
    json.dump(meta, f, indent=1)
print("losses", losses, "norms", norms, file=sys.stderr)
