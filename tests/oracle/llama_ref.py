#!/usr/bin/python3
"""llama_ref.py: an independent Llama/Qwen2 forward pass in PyTorch, the
oracle for tests/test_nn*.c.

Written from the Llama paper and Hugging Face's modeling_llama.py /
modeling_qwen2.py (LlamaRMSNorm, rotate_half + apply_rotary_pos_emb,
repeat_kv, LlamaMLP), not from secneuron's C code. It computes in float64
so that it is a reference for our float32, reads safetensors with json +
struct (no safetensors/transformers package), keeps the Hugging Face
rotate-half Q/K layout that its RoPE expects, and recomputes the whole
sequence at every step (no KV cache).

Run once with Debian's torch (`/usr/bin/python3 tests/oracle/llama_ref.py`)
to (re)write the committed fixtures under tests/fixtures/nn/:

  tiny-llama/, tiny-qwen2/   small random models (f32 safetensors +
                             config.json) made here with a seeded generator:
                             GQA, untied output head, rotate-half file
                             layout (llama) / Q,K,V biases and a large RoPE
                             theta (qwen2)
  tiny-llama.json, tiny-qwen2.json, stories260K.json
                             for a fixed token sequence: the logits at every
                             position, the FFN activations of the first and
                             last layer, and the greedy continuation

stories260K.json needs ../shared/models/stories260K (hf-f32 and tok512.bin);
it also holds the 256-token greedy generation from BOS and checks that its
decoded text is the one llama2.c's doc/stories260K.md shows for
`./run stories260K/stories260K.bin -z stories260K/tok512.bin -t 0.0`.
The C tests need neither Python nor torch.
"""
import json
import math
import os
import struct
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FIX = os.path.join(ROOT, "tests", "fixtures", "nn")
SHARED = os.path.join(os.path.dirname(ROOT), "shared", "models", "stories260K")

# From karpathy/llama2.c, doc/stories260K.md (commit 1386edfd9090e2ef1da6636f3ba3220362079024):
# the output of `./run stories260K/stories260K.bin -z stories260K/tok512.bin -t 0.0`
# (run.c's default of 256 steps: 256 forward passes from BOS, so 256 greedy tokens).
README_TEXT = (
    "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. "
    "One day, she saw a big, red ball. She wanted to play with it, but it was too high.\n"
    "Lily's mom said, \"Lily, let's go to the park.\" Lily was sad and didn't know what to do. "
    "She said, \"I want to play with your ball, but I can't find it.\"\n"
    "Lily was sad and didn't know what to do. She said, \"I'm sorry, Lily. I didn't know what to do.\"\n"
    "Lily didn't want to help her mom, so she said, \"I'm sorry, mom. I didn't know what to do.\" "
    "Her mom said, \"Don't worry, Lily. We can help you."
)
README_SOURCE = ("karpathy/llama2.c doc/stories260K.md (commit 1386edfd9090e2ef1da6636f3ba3220362079024): "
                 "./run stories260K/stories260K.bin -z stories260K/tok512.bin -t 0.0")

# ---- safetensors, by hand ---------------------------------------------------

def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        raw = data[base + a:base + b]
        shape = info["shape"]
        count = math.prod(shape) if shape else 1
        if info["dtype"] == "F32":
            vals = struct.unpack("<%df" % count, raw)
        elif info["dtype"] == "BF16":
            vals = [struct.unpack("<f", b"\0\0" + raw[2 * i:2 * i + 2])[0] for i in range(count)]
        else:
            raise SystemExit("%s: dtype %s not handled" % (name, info["dtype"]))
        out[name] = torch.tensor(vals, dtype=torch.float64).reshape(shape)
    return out


def write_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for name, t in tensors.items():
        raw = struct.pack("<%df" % t.numel(), *t.to(torch.float32).flatten().tolist())
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


# ---- the model, after modeling_llama.py --------------------------------------

class Config:
    def __init__(self, cfg):
        self.dim = cfg["hidden_size"]
        self.ffn = cfg["intermediate_size"]
        self.layers = cfg["num_hidden_layers"]
        self.heads = cfg["num_attention_heads"]
        self.kv_heads = cfg.get("num_key_value_heads", self.heads)
        self.head_dim = cfg.get("head_dim", self.dim // self.heads)
        self.eps = cfg.get("rms_norm_eps", 1e-6)
        self.theta = cfg.get("rope_theta", 10000.0)
        self.tied = cfg.get("tie_word_embeddings", False)
        self.bias = cfg.get("model_type") == "qwen2" or cfg.get("attention_bias", False)


def rms_norm(x, w, eps):
    # LlamaRMSNorm: x * rsqrt(mean(x^2) + eps), times the weight
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def rope(x, theta):
    # x: [T, heads, head_dim]; LlamaRotaryEmbedding + apply_rotary_pos_emb
    T, _, hd = x.shape
    inv_freq = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
    freqs = torch.arange(T, dtype=torch.float64)[:, None] * inv_freq[None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos()[:, None, :], emb.sin()[:, None, :]
    return x * cos + rotate_half(x) * sin


def forward(W, c, tokens, acts=None):
    """Logits [T, vocab] for the token list; acts[layer] = FFN activations."""
    T = len(tokens)
    x = W["model.embed_tokens.weight"][torch.tensor(tokens)]
    mask = torch.full((T, T), float("-inf"), dtype=torch.float64).triu(1)
    group = c.heads // c.kv_heads
    for l in range(c.layers):
        p = "model.layers.%d." % l
        h = rms_norm(x, W[p + "input_layernorm.weight"], c.eps)
        q = h @ W[p + "self_attn.q_proj.weight"].T
        k = h @ W[p + "self_attn.k_proj.weight"].T
        v = h @ W[p + "self_attn.v_proj.weight"].T
        if c.bias:
            q = q + W[p + "self_attn.q_proj.bias"]
            k = k + W[p + "self_attn.k_proj.bias"]
            v = v + W[p + "self_attn.v_proj.bias"]
        q = rope(q.view(T, c.heads, c.head_dim), c.theta)
        k = rope(k.view(T, c.kv_heads, c.head_dim), c.theta)
        v = v.view(T, c.kv_heads, c.head_dim)
        # repeat_kv: query head h reads KV head h // group
        k = k.repeat_interleave(group, dim=1)
        v = v.repeat_interleave(group, dim=1)
        s = torch.einsum("thd,shd->hts", q, k) / math.sqrt(c.head_dim) + mask
        o = torch.einsum("hts,shd->thd", torch.softmax(s, dim=-1), v).reshape(T, c.heads * c.head_dim)
        x = x + o @ W[p + "self_attn.o_proj.weight"].T
        h = rms_norm(x, W[p + "post_attention_layernorm.weight"], c.eps)
        a = torch.nn.functional.silu(h @ W[p + "mlp.gate_proj.weight"].T) * (h @ W[p + "mlp.up_proj.weight"].T)
        if acts is not None:
            acts[l] = a
        x = x + a @ W[p + "mlp.down_proj.weight"].T
    x = rms_norm(x, W["model.norm.weight"], c.eps)
    head = W["model.embed_tokens.weight"] if c.tied or "lm_head.weight" not in W else W["lm_head.weight"]
    return x @ head.T


def greedy(W, c, tokens, n):
    toks = list(tokens)
    out = []
    for _ in range(n):
        nxt = int(torch.argmax(forward(W, c, toks)[-1]))
        out.append(nxt)
        toks.append(nxt)
    return out


def load_model(folder):
    with open(os.path.join(folder, "config.json")) as f:
        cfg = json.load(f)
    return read_safetensors(os.path.join(folder, "model.safetensors")), Config(cfg)


# ---- fixtures -----------------------------------------------------------------

def fixture(name, W, c, tokens, n_greedy, extra=None):
    acts = {}
    logits = forward(W, c, tokens, acts)
    last = c.layers - 1
    fx = {
        "generator": "tests/oracle/llama_ref.py (PyTorch %s, float64)" % torch.__version__,
        "tokens": tokens,
        "logits": [[float("%.9g" % v) for v in row] for row in logits.tolist()],
        "ffn_acts": {str(l): [[float("%.9g" % v) for v in row] for row in acts[l].tolist()] for l in sorted({0, last})},
        "greedy": greedy(W, c, tokens, n_greedy),
    }
    if extra:
        fx.update(extra)
    path = os.path.join(FIX, name + ".json")
    with open(path, "w") as f:
        json.dump(fx, f, separators=(",", ":"))
        f.write("\n")
    print("wrote", path)


def random_model(folder, cfg, seed):
    g = torch.Generator().manual_seed(seed)
    c = Config(cfg)
    def rnd(*shape, scale):
        return torch.randn(*shape, generator=g, dtype=torch.float64) * scale
    def norm_w(n):
        return 1.0 + rnd(n, scale=0.1)
    W = {"model.embed_tokens.weight": rnd(cfg["vocab_size"], c.dim, scale=1.0)}
    for l in range(c.layers):
        p = "model.layers.%d." % l
        W[p + "input_layernorm.weight"] = norm_w(c.dim)
        W[p + "self_attn.q_proj.weight"] = rnd(c.heads * c.head_dim, c.dim, scale=c.dim ** -0.5)
        W[p + "self_attn.k_proj.weight"] = rnd(c.kv_heads * c.head_dim, c.dim, scale=c.dim ** -0.5)
        W[p + "self_attn.v_proj.weight"] = rnd(c.kv_heads * c.head_dim, c.dim, scale=c.dim ** -0.5)
        if c.bias:
            W[p + "self_attn.q_proj.bias"] = rnd(c.heads * c.head_dim, scale=0.5)
            W[p + "self_attn.k_proj.bias"] = rnd(c.kv_heads * c.head_dim, scale=0.5)
            W[p + "self_attn.v_proj.bias"] = rnd(c.kv_heads * c.head_dim, scale=0.5)
        W[p + "self_attn.o_proj.weight"] = rnd(c.dim, c.heads * c.head_dim, scale=(c.heads * c.head_dim) ** -0.5)
        W[p + "post_attention_layernorm.weight"] = norm_w(c.dim)
        W[p + "mlp.gate_proj.weight"] = rnd(c.ffn, c.dim, scale=c.dim ** -0.5)
        W[p + "mlp.up_proj.weight"] = rnd(c.ffn, c.dim, scale=c.dim ** -0.5)
        W[p + "mlp.down_proj.weight"] = rnd(c.dim, c.ffn, scale=c.ffn ** -0.5)
    W["model.norm.weight"] = norm_w(c.dim)
    W["lm_head.weight"] = rnd(cfg["vocab_size"], c.dim, scale=c.dim ** -0.5)
    # what is written is f32: compute the reference from exactly those values
    W = {k: v.to(torch.float32).to(torch.float64) for k, v in W.items()}
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    write_safetensors(os.path.join(folder, "model.safetensors"), W)
    return W, c


def tiny_models():
    base = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
            "num_key_value_heads": 2, "vocab_size": 96, "max_position_embeddings": 64, "rms_norm_eps": 1e-6,
            "tie_word_embeddings": False, "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "float32"}
    tokens = [1, 17, 42, 5, 88, 63, 17, 30, 9, 71, 54, 2, 33, 95, 12, 47, 60, 8, 25, 77]
    llama = dict(base, architectures=["LlamaForCausalLM"], model_type="llama", rope_theta=10000.0,
                 hidden_act="silu")
    W, c = random_model(os.path.join(FIX, "tiny-llama"), llama, seed=20240601)
    fixture("tiny-llama", W, c, tokens, 12)
    qwen2 = dict(base, architectures=["Qwen2ForCausalLM"], model_type="qwen2", rope_theta=1000000.0,
                 hidden_act="silu")
    W, c = random_model(os.path.join(FIX, "tiny-qwen2"), qwen2, seed=20240602)
    fixture("tiny-qwen2", W, c, tokens, 12)


# ---- stories260K ----------------------------------------------------------------

def read_llama2c_vocab(path, n_vocab):
    with open(path, "rb") as f:
        data = f.read()
    pos, pieces = 4, []
    for _ in range(n_vocab):
        _score, n = struct.unpack("<fi", data[pos:pos + 8])
        pieces.append(data[pos + 8:pos + 8 + n])
        pos += 8 + n
    return pieces


def decode_llama2c(pieces, ids, prev=1):
    """run.c's decode(): a leading space is dropped after BOS; <0xXX> is a byte."""
    out = b""
    for t in ids:
        p = pieces[t]
        if prev == 1 and p.startswith(b" "):
            p = p[1:]
        if len(p) == 6 and p.startswith(b"<0x") and p.endswith(b">"):
            p = bytes([int(p[3:5], 16)])
        out += p
        prev = t
    return out.decode("utf-8")


def stories():
    folder = os.path.join(SHARED, "hf-f32")
    if not os.path.isdir(folder):
        print("skipping stories260K:", folder, "is absent")
        return
    W, c = load_model(folder)
    pieces = read_llama2c_vocab(os.path.join(SHARED, "tok512.bin"), 512)
    # run.c's 256 steps: 256 forward passes from BOS, 256 greedy tokens
    gen = greedy(W, c, [1], 256)
    text = decode_llama2c(pieces, gen)
    if text != README_TEXT:
        raise SystemExit("greedy text from BOS differs from llama2.c's doc:\n%r\n%r" % (text, README_TEXT))
    print("stories260K greedy from BOS reproduces llama2.c's doc/stories260K.md text (256 tokens)")
    # A fixed sequence that is not the model's own continuation: BOS, then
    # tokens 2..20 of its greedy text, with three of them replaced.
    tokens = [1] + gen[:19]
    tokens[5], tokens[11], tokens[16] = 300, 77, 421
    fixture("stories260K", W, c, tokens, 40, {
        "bos_greedy": gen,
        "bos_greedy_text": text,
        "reference_text_source": README_SOURCE,
        "tokens_text": decode_llama2c(pieces, tokens[1:]),
    })


if __name__ == "__main__":
    torch.set_num_threads(2)
    os.makedirs(FIX, exist_ok=True)
    what = sys.argv[1:] or ["tiny", "stories"]
    if "tiny" in what:
        tiny_models()
    if "stories" in what:
        stories()
