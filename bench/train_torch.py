#!/usr/bin/python3
"""train_torch.py: PyTorch's training throughput on the model and batch of bench_train.

    build/bench_train --dump-batch /tmp/batch.json        # the batch (and C's numbers)
    /usr/bin/python3 bench/train_torch.py --config models/demo/train.cfg --batch /tmp/batch.json

Run with Debian's python3-torch (its BLAS is the system OpenBLAS). The model is the
same Llama (RMSNorm, interleaved RoPE, grouped-query attention, SwiGLU, tied or untied
head), the same packed examples, the loss on the same completion tokens, and the same
optimisation step (clip_grad_norm_, AdamW). PyTorch has no variable-length attention on
the CPU here, so examples are packed into rows of ctx_len tokens (first fit, in order)
with a block-diagonal causal mask: the usual way to train on packed sequences. The FLOP
count is the model's (as bench_train counts it), not the padded work.
"""
import argparse
import json
import math
import time

import torch


def load_config(path):
    cfg = {"n_layers": 4, "dim": 128, "n_heads": 4, "n_kv_heads": 4, "ffn_dim": 384, "ctx_len": 64,
           "rope_theta": 10000.0, "norm_eps": 1e-5, "tied_embeddings": 1, "lr": 3e-3, "weight_decay": 0.1,
           "beta1": 0.9, "beta2": 0.95, "adam_eps": 1e-8, "grad_clip": 1.0, "threads": 1}
    alias = {"layers": "n_layers", "heads": "n_heads", "kv_heads": "n_kv_heads", "ffn": "ffn_dim", "ctx": "ctx_len",
             "tied": "tied_embeddings"}
    for line in open(path):
        line = line.split("#")[0].strip()
        if not line:
            continue
        k, v = [x.strip() for x in line.split("=", 1)]
        k = alias.get(k, k)
        if k in cfg:
            if k == "tied_embeddings":
                cfg[k] = 1 if v in ("1", "true", "yes") else 0
            else:
                cfg[k] = type(cfg[k])(float(v)) if isinstance(cfg[k], int) else float(v)
    return cfg


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="models/demo/train.cfg")
    ap.add_argument("--batch", required=True)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    cfg = load_config(a.config)
    threads = a.threads or int(cfg["threads"])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    batch = json.load(open(a.batch))
    V = batch["vocab"]
    L, D, H, KV, F = cfg["n_layers"], cfg["dim"], cfg["n_heads"], cfg["n_kv_heads"], cfg["ffn_dim"]
    HD, T = D // H, cfg["ctx_len"]

    # Pack examples into rows of T tokens (first fit, in order).
    rows = []
    for ex in batch["batch"]:
        n = len(ex["ids"])
        for r in rows:
            if r["used"] + n <= T:
                break
        else:
            r = {"used": 0, "ex": []}
            rows.append(r)
        r["ex"].append(ex)
        r["used"] += n
    R = len(rows)
    ids = torch.zeros(R, T, dtype=torch.long)
    pos = torch.zeros(R, T, dtype=torch.long)
    seg = torch.full((R, T), -1, dtype=torch.long)
    tgt = torch.full((R, T), -100, dtype=torch.long)
    n_tok = n_out = 0
    pairs = 0
    for ri, r in enumerate(rows):
        o = 0
        for k, ex in enumerate(r["ex"]):
            e, npr = ex["ids"], ex["n_prompt"]
            n = len(e)
            ids[ri, o:o + n] = torch.tensor(e)
            pos[ri, o:o + n] = torch.arange(n)
            seg[ri, o:o + n] = k
            for t in range(npr - 1, n - 1):
                tgt[ri, o + t] = e[t + 1]
            n_tok += n
            n_out += n - npr
            pairs += n * (n + 1) // 2
            o += n
    i = torch.arange(T)
    mask = (seg[:, :, None] == seg[:, None, :]) & (i[None, None, :] <= i[None, :, None]) & (seg[:, :, None] >= 0)
    mask = mask | torch.eye(T, dtype=torch.bool)[None]  # padding rows attend to themselves (no NaN)
    bias = torch.zeros(R, 1, T, T).masked_fill(~mask[:, None], float("-inf"))

    half = torch.arange(HD // 2, dtype=torch.float64)
    ang = pos.to(torch.float64)[..., None] * cfg["rope_theta"] ** (-2.0 * half / HD)
    cos, sin = torch.cos(ang).float()[:, :, None, :], torch.sin(ang).float()[:, :, None, :]

    def rope(x, nh):
        x = x.view(R, T, nh, HD // 2, 2)
        x0, x1 = x[..., 0], x[..., 1]
        return torch.stack([x0 * cos - x1 * sin, x0 * sin + x1 * cos], -1).view(R, T, nh, HD)

    def p(shape, std=0.02):
        return torch.nn.Parameter(torch.randn(shape) * std)

    emb = p((V, D))
    layers = []
    for _ in range(L):
        layers.append({"n1": torch.nn.Parameter(torch.ones(D)), "q": p((H * HD, D)), "k": p((KV * HD, D)),
                       "v": p((KV * HD, D)), "o": p((D, H * HD)), "n2": torch.nn.Parameter(torch.ones(D)),
                       "g": p((F, D)), "u": p((F, D)), "d": p((D, F))})
    onorm = torch.nn.Parameter(torch.ones(D))
    out = emb if cfg["tied_embeddings"] else p((V, D))
    params = [emb, onorm] + ([] if cfg["tied_embeddings"] else [out]) + [w for l in layers for w in l.values()]
    eps = cfg["norm_eps"]

    def norm(x, w):
        return x * torch.rsqrt((x * x).mean(-1, keepdim=True) + eps) * w

    def loss_fn():
        x = emb[ids]
        for l in layers:
            xn = norm(x, l["n1"])
            q = rope(xn @ l["q"].T, H).transpose(1, 2)
            k = rope(xn @ l["k"].T, KV).repeat_interleave(H // KV, dim=2).transpose(1, 2)
            v = (xn @ l["v"].T).view(R, T, KV, HD).repeat_interleave(H // KV, dim=2).transpose(1, 2)
            att = (q @ k.transpose(-1, -2) / math.sqrt(HD) + bias).softmax(-1)
            o = (att @ v).transpose(1, 2).reshape(R, T, H * HD)
            x = x + o @ l["o"].T
            xn = norm(x, l["n2"])
            x = x + (torch.nn.functional.silu(xn @ l["g"].T) * (xn @ l["u"].T)) @ l["d"].T
        xf = norm(x, onorm)
        sel = tgt.view(-1) >= 0
        logits = xf.view(-1, D)[sel] @ out.T
        return torch.nn.functional.cross_entropy(logits, tgt.view(-1)[sel])

    decay = [w for w in params if w.dim() == 2]
    no_decay = [w for w in params if w.dim() == 1]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg["weight_decay"]},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=cfg["lr"], betas=(cfg["beta1"], cfg["beta2"]), eps=cfg["adam_eps"])

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, cfg["grad_clip"])
        opt.step()
        return loss.item()

    for _ in range(2):
        step()
    t0 = time.perf_counter()
    for _ in range(a.steps):
        loss = step()
    dt = (time.perf_counter() - t0) / a.steps
    with torch.no_grad():
        t0 = time.perf_counter()
        for _ in range(a.steps):
            loss_fn()
        dtf = (time.perf_counter() - t0) / a.steps

    Dq, Dkv = H * HD, KV * HD
    mm = n_tok * 2 * (D * Dq + 2 * D * Dkv + Dq * D + 3 * D * F) * L + n_out * 2 * D * V
    att = pairs * H * HD * 4 * L
    flops = 3 * (mm + att)
    nparams = sum(w.numel() for w in params)
    if a.json:
        print(json.dumps({"impl": "pytorch %s" % torch.__version__, "params": nparams, "threads": threads,
                          "tokens": n_tok, "rows": R, "ms_per_step": 1e3 * dt, "tokens_per_s": n_tok / dt,
                          "gflops": flops / dt * 1e-9, "forward_ms": 1e3 * dtf, "loss": loss}))
    else:
        print("pytorch %s: %d params, %d threads, batch %d tokens in %d rows of %d: %.1f ms/step, %.0f tokens/s, "
              "%.1f GFLOP/s (model FLOPs %.2f G/step); forward only %.1f ms"
              % (torch.__version__, nparams, threads, n_tok, R, T, 1e3 * dt, n_tok / dt, flops / dt * 1e-9,
                 flops * 1e-9, 1e3 * dtf))


if __name__ == "__main__":
    main()
