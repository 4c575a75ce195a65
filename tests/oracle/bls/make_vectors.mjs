// make_vectors.mjs: reference vectors for our BLS12-381 code, computed by an
// independent implementation, @noble/curves (pure JavaScript, audited).
//
//   cd tests/oracle/bls && npm run vectors
//
// writes tests/fixtures/bls/noble_vectors.json (committed; the C tests read it)
// and first checks that noble reproduces every RFC 9380 vector we transcribed
// into tests/fixtures/bls/rfc9380_vectors.json, so that file is verified too.
// Randomness is a seeded SHA-256 counter: rerunning gives the same file.
//
// Conventions in the output: bytes and field elements as lowercase hex; field
// elements big-endian, 48 bytes; Fp2 as [c0, c1]; points in the ZCash
// encodings (noble's toBytes); GT as 576 bytes in OUR order (see gtBytes).

import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { bls12_381 as bls } from '@noble/curves/bls12-381.js';
import { expand_message_xmd, hash_to_field } from '@noble/curves/abstract/hash-to-curve.js';
import { sha256 } from '@noble/hashes/sha2.js';

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = join(here, '..', '..', 'fixtures', 'bls');

const G1 = bls.G1.Point;
const G2 = bls.G2.Point;
const { Fp, Fp2, Fp12 } = bls.fields;
const P = Fp.ORDER;
const R = bls.fields.Fr.ORDER;

// ---- helpers ---------------------------------------------------------------

let counter = 0;
function randBytes(n) { // deterministic
  const out = Buffer.alloc(n);
  for (let off = 0; off < n; off += 32) {
    const h = createHash('sha256').update(`secneuron-bls-vectors-${counter++}`).digest();
    h.copy(out, off, 0, Math.min(32, n - off));
  }
  return out;
}
const randMod = (m) => BigInt('0x' + randBytes(64).toString('hex')) % m;
const hex = (b) => Buffer.from(b).toString('hex');
const fromHex = (h) => Uint8Array.from(Buffer.from(h, 'hex'));
const fe = (v) => v.toString(16).padStart(96, '0');
const scalarHex = (k) => k.toString(16).padStart(64, '0');
const enc = new TextEncoder();
function assert(c, msg) { if (!c) throw new Error('assertion failed: ' + msg); }
function throws(f) { try { f(); return false; } catch { return true; } }

// GT encoding. Noble's Fp12.toBytes is c0 || c1 over Fp6, c0 || c1 || c2 over
// Fp2, c0 || c1 over Fp: the coefficient order c0.c0.c0, c0.c0.c1, c0.c1.c0,
// ..., c1.c2.c1, each 48 bytes big-endian. That is the order we chose for
// sn_bls_gt_to_bytes; build it here from the fields by hand and check that it
// equals noble's bytes, so the mapping is explicit.
function gtBytes(f) {
  const parts = [];
  for (const c6 of [f.c0, f.c1])
    for (const c2 of [c6.c0, c6.c1, c6.c2]) parts.push(fe(c2.c0), fe(c2.c1));
  const mine = parts.join('');
  assert(mine === hex(Fp12.toBytes(f)), 'noble Fp12.toBytes order');
  return mine;
}

// ---- check the RFC 9380 transcription against noble ------------------------

const rfc = JSON.parse(readFileSync(join(fixtures, 'rfc9380_vectors.json'), 'utf8'));
for (const v of rfc.expand_message_xmd_sha256) {
  const out = expand_message_xmd(enc.encode(v.msg), enc.encode(v.dst), v.len_in_bytes, sha256);
  assert(hex(out) === v.uniform_bytes, `expand_message_xmd ${v.msg.slice(0, 8)} ${v.len_in_bytes}`);
}
{
  const s = rfc['BLS12381G1_XMD:SHA-256_SSWU_RO_'];
  for (const v of s.vectors) {
    const msg = enc.encode(v.msg);
    const u = hash_to_field(msg, 2, { DST: s.dst, p: P, m: 1, k: 128, expand: 'xmd', hash: sha256 });
    assert(fe(u[0][0]) === v.u[0] && fe(u[1][0]) === v.u[1], 'G1 u');
    // noble's mapToCurve also clears the cofactor; the RFC's Q0, Q1 are before
    // that step. Check the RFC points are on E and clear to noble's values.
    const Q0 = G1.fromAffine({ x: BigInt('0x' + v.Q0.x), y: BigInt('0x' + v.Q0.y) });
    const Q1 = G1.fromAffine({ x: BigInt('0x' + v.Q1.x), y: BigInt('0x' + v.Q1.y) });
    for (const q of [Q0, Q1]) {
      const { x, y } = q.toAffine();
      assert(Fp.eql(Fp.sqr(y), Fp.add(Fp.pow(x, 3n), 4n)), 'G1 Q on E');
    }
    assert(Q0.clearCofactor().equals(bls.G1.mapToCurve(u[0][0])), 'G1 Q0');
    assert(Q1.clearCofactor().equals(bls.G1.mapToCurve(u[1][0])), 'G1 Q1');
    assert(Q0.add(Q1).clearCofactor().equals(bls.G1.hashToCurve(msg, { DST: s.dst })), 'G1 Q0 + Q1');
    const p = bls.G1.hashToCurve(msg, { DST: s.dst }).toAffine();
    assert(fe(p.x) === v.P.x && fe(p.y) === v.P.y, 'G1 P');
  }
}
{
  const s = rfc['BLS12381G2_XMD:SHA-256_SSWU_RO_'];
  const f2 = (a) => [fe(a.c0), fe(a.c1)].join();
  for (const v of s.vectors) {
    const msg = enc.encode(v.msg);
    const u = hash_to_field(msg, 2, { DST: s.dst, p: P, m: 2, k: 128, expand: 'xmd', hash: sha256 });
    assert(u.map((e) => e.map(fe).join()).join() === v.u.map((e) => e.join()).join(), 'G2 u');
    const pt = (q) => G2.fromAffine({ x: Fp2.fromBigTuple(q.x.map((h) => BigInt('0x' + h))),
                                       y: Fp2.fromBigTuple(q.y.map((h) => BigInt('0x' + h))) });
    const Q0 = pt(v.Q0), Q1 = pt(v.Q1);
    for (const q of [Q0, Q1]) {
      const { x, y } = q.toAffine();
      assert(Fp2.eql(Fp2.sqr(y), Fp2.add(Fp2.mul(Fp2.sqr(x), x), Fp2.fromBigTuple([4n, 4n]))), 'G2 Q on E2');
    }
    assert(Q0.clearCofactor().equals(bls.G2.mapToCurve(u[0])), 'G2 Q0');
    assert(Q1.clearCofactor().equals(bls.G2.mapToCurve(u[1])), 'G2 Q1');
    assert(Q0.add(Q1).clearCofactor().equals(bls.G2.hashToCurve(msg, { DST: s.dst })), 'G2 Q0 + Q1');
    const p = bls.G2.hashToCurve(msg, { DST: s.dst }).toAffine();
    assert(f2(p.x) === v.P.x.join() && f2(p.y) === v.P.y.join(), 'G2 P');
  }
}
console.log('rfc9380_vectors.json: every vector reproduced by @noble/curves');

// ---- vectors -----------------------------------------------------------------

const out = {
  source: '@noble/curves ' + JSON.parse(readFileSync(join(here, '..', 'node_modules', '@noble', 'curves', 'package.json'), 'utf8')).version +
    ', tests/oracle/bls/make_vectors.mjs',
};

// Generators in all four encodings, and the canonical pairing value.
out.generators = {
  g1: hex(G1.BASE.toBytes(true)),
  g1_uncompressed: hex(G1.BASE.toBytes(false)),
  g2: hex(G2.BASE.toBytes(true)),
  g2_uncompressed: hex(G2.BASE.toBytes(false)),
  g1_identity: hex(G1.ZERO.toBytes(true)),
  g1_identity_uncompressed: hex(G1.ZERO.toBytes(false)),
  g2_identity: hex(G2.ZERO.toBytes(true)),
  g2_identity_uncompressed: hex(G2.ZERO.toBytes(false)),
  pairing: gtBytes(bls.pairing(G1.BASE, G2.BASE)),
};

// Scalar multiples of the generators, with edge-case scalars.
const ks = [1n, 2n, 3n, 15n, 16n, 0xd201000000010000n, R - 1n, R - 2n, (R - 1n) / 2n, 1n << 128n,
  ...Array.from({ length: 8 }, () => randMod(R))];
out.generator_mults = ks.map((k) => ({
  k: scalarHex(k),
  g1: hex(G1.BASE.multiply(k).toBytes(true)),
  g2: hex(G2.BASE.multiply(k).toBytes(true)),
  g1_uncompressed: hex(G1.BASE.multiply(k).toBytes(false)),
  g2_uncompressed: hex(G2.BASE.multiply(k).toBytes(false)),
}));

// Multiples of other points (hash outputs), and sums.
out.point_mults = Array.from({ length: 6 }, (_, i) => {
  const p = bls.G1.hashToCurve(enc.encode(`point ${i}`), { DST: 'SECNEURON-TEST-G1' });
  const q = bls.G2.hashToCurve(enc.encode(`point ${i}`), { DST: 'SECNEURON-TEST-G2' });
  const k = randMod(R);
  const p2 = G1.BASE.multiply(randMod(R)), q2 = G2.BASE.multiply(randMod(R));
  return {
    g1: hex(p.toBytes(true)), g2: hex(q.toBytes(true)), k: scalarHex(k),
    g1_k: hex(p.multiply(k).toBytes(true)), g2_k: hex(q.multiply(k).toBytes(true)),
    g1_other: hex(p2.toBytes(true)), g2_other: hex(q2.toBytes(true)),
    g1_sum: hex(p.add(p2).toBytes(true)), g2_sum: hex(q.add(q2).toBytes(true)),
    g1_double: hex(p.double().toBytes(true)), g2_double: hex(q.double().toBytes(true)),
  };
});

// Pairings of multiples, and a multi-pairing (product of pairings).
out.pairings = Array.from({ length: 4 }, () => {
  const a = randMod(R), b = randMod(R);
  const p = G1.BASE.multiply(a), q = G2.BASE.multiply(b);
  return { a: scalarHex(a), b: scalarHex(b), g1: hex(p.toBytes(true)), g2: hex(q.toBytes(true)),
    gt: gtBytes(bls.pairing(p, q)) };
});
{
  const pairs = Array.from({ length: 5 }, (_, i) => ({
    g1: G1.BASE.multiply(randMod(R)),
    g2: bls.G2.hashToCurve(enc.encode(`multi ${i}`), { DST: 'SECNEURON-TEST-G2' }),
  }));
  out.multi_pairing = {
    pairs: pairs.map((x) => ({ g1: hex(x.g1.toBytes(true)), g2: hex(x.g2.toBytes(true)) })),
    gt: gtBytes(bls.pairingBatch(pairs.map((x) => ({ g1: x.g1, g2: x.g2 })))),
  };
}

// GT exponentiation: e(G1, G2)^k (noble computes it as Fp12.pow).
{
  const e = bls.pairing(G1.BASE, G2.BASE);
  out.gt_pows = [1n, 2n, R - 1n, randMod(R), randMod(R)].map((k) => ({ k: scalarHex(k), gt: gtBytes(Fp12.pow(e, k)) }));
}

// Scalar arithmetic mod r (BigInt, independent of any curve code).
out.scalars = Array.from({ length: 6 }, (_, i) => {
  const a = i === 0 ? R - 1n : randMod(R), b = i === 0 ? R - 1n : randMod(R);
  const inv = (x) => { let r = 1n, e = R - 2n, y = x; while (e) { if (e & 1n) r = r * y % R; y = y * y % R; e >>= 1n; } return r; };
  const wide = randBytes(64);
  return { a: scalarHex(a), b: scalarHex(b), sum: scalarHex((a + b) % R), diff: scalarHex((a - b + R) % R),
    prod: scalarHex(a * b % R), a_inv: scalarHex(inv(a)), wide: hex(wide),
    wide_mod_r: scalarHex(BigInt('0x' + hex(wide)) % R) };
});

// hash_to_curve for other messages and tags, including a tag over 255 bytes
// (RFC 9380 sec. 5.3.3 hashes it first).
{
  const dsts = ['SECNEURON-V1-CP-ABE-ATTRIBUTE', 'QUUX-V01-CS02-with-BLS12381G2_XMD:SHA-256_SSWU_RO_',
    'x', 'SECNEURON-LONG-DST-' + 'z'.repeat(300)];
  const msgs = [enc.encode(''), enc.encode('role=admin'), enc.encode('dept:research'), randBytes(7), randBytes(200)];
  out.hash_to_curve = [];
  for (const dst of dsts)
    for (const m of msgs)
      out.hash_to_curve.push({ dst, msg: hex(m),
        g1: hex(bls.G1.hashToCurve(m, { DST: dst }).toBytes(false)),
        g2: hex(bls.G2.hashToCurve(m, { DST: dst }).toBytes(false)) });
}

// ---- invalid encodings that noble rejects ----------------------------------

function setFlags(bytes, c, i, s) {
  bytes[0] = (bytes[0] & 0x1f) | (c ? 0x80 : 0) | (i ? 0x40 : 0) | (s ? 0x20 : 0);
  return bytes;
}
const beBytes = (v, n) => fromHex(v.toString(16).padStart(2 * n, '0'));
const sortBit = (parts) => { for (const x of parts) if (x !== 0n) return x > (P - 1n) / 2n; return false; };

// A point on E(Fp) outside G1: random x until x^3 + 4 is a square and the
// point has no order r (the cofactor is large, so almost every try works).
function g1Rogue() {
  for (;;) {
    const x = randMod(P);
    const rhs = Fp.add(Fp.pow(x, 3n), 4n);
    let y;
    try { y = Fp.sqrt(rhs); } catch { continue; }
    if (y === undefined || Fp.mul(y, y) !== rhs) continue;
    const pt = G1.fromAffine({ x, y });
    if (!pt.isTorsionFree()) return { x, y };
  }
}
function g1NonSquareX() {
  for (;;) {
    const x = randMod(P);
    const rhs = Fp.add(Fp.pow(x, 3n), 4n);
    if (Fp.pow(rhs, (P - 1n) / 2n) !== 1n) return x;
  }
}
function g2Rogue() {
  const b = Fp2.fromBigTuple([4n, 4n]);
  for (;;) {
    const x = Fp2.fromBigTuple([randMod(P), randMod(P)]);
    const rhs = Fp2.add(Fp2.mul(Fp2.sqr(x), x), b);
    let y;
    try { y = Fp2.sqrt(rhs); } catch { continue; }
    if (!y || !Fp2.eql(Fp2.sqr(y), rhs)) continue;
    const pt = G2.fromAffine({ x, y });
    if (!pt.isTorsionFree()) return { x, y };
  }
}
function g2NonSquareX() {
  const b = Fp2.fromBigTuple([4n, 4n]);
  for (;;) {
    const x = Fp2.fromBigTuple([randMod(P), randMod(P)]);
    const rhs = Fp2.add(Fp2.mul(Fp2.sqr(x), x), b);
    if (throws(() => Fp2.sqrt(rhs))) return x;
  }
}
const fp2Bytes = (a) => Uint8Array.from([...beBytes(a.c1, 48), ...beBytes(a.c0, 48)]);

const inval = { g1: [], g2: [] };
function addInvalid(group, reason, bytes) {
  const Pt = group === 'g1' ? G1 : G2;
  assert(throws(() => Pt.fromBytes(bytes)), `noble accepts invalid ${group}: ${reason}`);
  inval[group].push({ reason, bytes: hex(bytes) });
}
{
  const g = G1.BASE.toBytes(true), gu = G1.BASE.toBytes(false);
  const rogue = g1Rogue();
  const rc = setFlags(beBytes(rogue.x, 48), 1, 0, sortBit([rogue.y]));
  addInvalid('g1', 'not in subgroup (compressed)', rc);
  addInvalid('g1', 'not in subgroup (uncompressed)', Uint8Array.from([...beBytes(rogue.x, 48), ...beBytes(rogue.y, 48)]));
  out.g1_rogue = { x: fe(rogue.x), y: fe(rogue.y) };
  addInvalid('g1', 'x not on curve (compressed)', setFlags(beBytes(g1NonSquareX(), 48), 1, 0, 0));
  const offc = Uint8Array.from(gu); offc[95] ^= 1;
  addInvalid('g1', 'y off the curve (uncompressed)', offc);
  addInvalid('g1', 'x = p (compressed)', setFlags(beBytes(P, 48), 1, 0, 0));
  addInvalid('g1', 'x = p + 1 (compressed)', setFlags(beBytes(P + 1n, 48), 1, 0, 0));
  addInvalid('g1', 'x = 2^381 - 1 (compressed)', setFlags(beBytes((1n << 381n) - 1n, 48), 1, 0, 0));
  addInvalid('g1', 'y = y_G + p (uncompressed)', Uint8Array.from([...beBytes(G1.BASE.toAffine().x, 48), ...beBytes(G1.BASE.toAffine().y + P, 48)]));
  addInvalid('g1', 'compressed bytes without the C flag', setFlags(Uint8Array.from(g), 0, 0, 0));
  addInvalid('g1', 'uncompressed bytes with the C flag', setFlags(Uint8Array.from(gu), 1, 0, 0));
  addInvalid('g1', 'uncompressed with the S flag', setFlags(Uint8Array.from(gu), 0, 0, 1));
  addInvalid('g1', 'infinity with S flag', setFlags(new Uint8Array(48), 1, 1, 1));
  const infg = setFlags(new Uint8Array(48), 1, 1, 0); infg[47] = 1;
  addInvalid('g1', 'infinity with garbage bits', infg);
  const infg2 = setFlags(new Uint8Array(48), 1, 1, 0); infg2[0] |= 0x01;
  addInvalid('g1', 'infinity with garbage in the first byte', infg2);
  const infu = setFlags(new Uint8Array(96), 0, 1, 0); infu[60] = 7;
  addInvalid('g1', 'uncompressed infinity with garbage', infu);
  addInvalid('g1', 'all zero, no infinity flag (uncompressed)', new Uint8Array(96));
  // x = 0 gives (0, 2), a point of order 3: on the curve, outside G1
  addInvalid('g1', 'x = 0, the order-3 point (0, 2), not in subgroup (compressed)', setFlags(new Uint8Array(48), 1, 0, 0));
  addInvalid('g1', 'truncated compressed', g.slice(0, 47));
  addInvalid('g1', 'truncated uncompressed', gu.slice(0, 95));
  addInvalid('g1', 'empty', new Uint8Array(0));
  addInvalid('g1', 'one byte too long', Uint8Array.from([...g, 0]));
}
{
  const g = G2.BASE.toBytes(true), gu = G2.BASE.toBytes(false);
  const rogue = g2Rogue();
  const rc = setFlags(fp2Bytes(rogue.x), 1, 0, sortBit([rogue.y.c1, rogue.y.c0]));
  addInvalid('g2', 'not in subgroup (compressed)', rc);
  addInvalid('g2', 'not in subgroup (uncompressed)', Uint8Array.from([...fp2Bytes(rogue.x), ...fp2Bytes(rogue.y)]));
  out.g2_rogue = { x: [fe(rogue.x.c0), fe(rogue.x.c1)], y: [fe(rogue.y.c0), fe(rogue.y.c1)] };
  addInvalid('g2', 'x not on curve (compressed)', setFlags(fp2Bytes(g2NonSquareX()), 1, 0, 0));
  const offc = Uint8Array.from(gu); offc[191] ^= 1;
  addInvalid('g2', 'y off the curve (uncompressed)', offc);
  const xa = G2.BASE.toAffine().x;
  addInvalid('g2', 'x.c1 = p (compressed)', setFlags(fp2Bytes({ c0: xa.c0, c1: P }), 1, 0, 0));
  addInvalid('g2', 'x.c0 = x_G.c0 + p (compressed)', setFlags(Uint8Array.from([...beBytes(xa.c1, 48), ...beBytes(xa.c0 + P, 48)]), 1, 0, 0));
  addInvalid('g2', 'x.c1 = 2^381 - 1 (compressed)', setFlags(fp2Bytes({ c0: 0n, c1: (1n << 381n) - 1n }), 1, 0, 0));
  addInvalid('g2', 'compressed bytes without the C flag', setFlags(Uint8Array.from(g), 0, 0, 0));
  addInvalid('g2', 'uncompressed bytes with the C flag', setFlags(Uint8Array.from(gu), 1, 0, 0));
  addInvalid('g2', 'uncompressed with the S flag', setFlags(Uint8Array.from(gu), 0, 0, 1));
  addInvalid('g2', 'infinity with S flag', setFlags(new Uint8Array(96), 1, 1, 1));
  const infg = setFlags(new Uint8Array(96), 1, 1, 0); infg[50] = 0x80;
  addInvalid('g2', 'infinity with garbage bits', infg);
  addInvalid('g2', 'all zero, no infinity flag (uncompressed)', new Uint8Array(192));
  addInvalid('g2', 'truncated compressed', g.slice(0, 95));
  addInvalid('g2', 'truncated uncompressed', gu.slice(0, 191));
  addInvalid('g2', 'G1 length', G1.BASE.toBytes(true));
}
out.invalid = inval;

// GT elements that are not pairing values, each checked with noble's Fp12.
{
  const e = bls.pairing(G1.BASE, G2.BASE);
  const bad = [];
  const coeffs = () => Array.from({ length: 12 }, () => randMod(P));
  const fromCoeffs = (c) => Fp12.fromBytes(Uint8Array.from(c.flatMap((v) => [...beBytes(v, 48)])));
  const random = fromCoeffs(coeffs());
  assert(!Fp12.eql(Fp12.pow(random, R), Fp12.ONE), 'random Fp12 of order r');
  bad.push({ reason: 'random Fp12 element', bytes: gtBytes(random) });
  // the "easy part" of the final exponentiation lands in the cyclotomic
  // subgroup, of order p^4 - p^2 + 1 = r * (a large cofactor): not in GT
  const t = Fp12.mul(Fp12.frobeniusMap(random, 6), Fp12.inv(random));
  const cyc = Fp12.mul(Fp12.frobeniusMap(t, 2), t);
  assert(Fp12.eql(Fp12.mul(Fp12.frobeniusMap(cyc, 4), cyc), Fp12.frobeniusMap(cyc, 2)), 'cyclotomic');
  assert(!Fp12.eql(Fp12.pow(cyc, R), Fp12.ONE), 'cyclotomic element of order r');
  bad.push({ reason: 'cyclotomic but not of order r', bytes: gtBytes(cyc) });
  bad.push({ reason: 'zero', bytes: '00'.repeat(576) });
  const nc = gtBytes(e);
  bad.push({ reason: 'first coefficient + p (non-canonical)', bytes: fe(BigInt('0x' + nc.slice(0, 96)) + P) + nc.slice(96) });
  bad.push({ reason: 'last coefficient = p', bytes: nc.slice(0, 96 * 11) + fe(P) });
  out.invalid.gt = bad;
  out.gt_one = gtBytes(Fp12.ONE);
}

writeFileSync(join(fixtures, 'noble_vectors.json'), JSON.stringify(out, null, 1) + '\n');
console.log('wrote', join(fixtures, 'noble_vectors.json'));
