// Times the C2PA reference implementation (c2pa-rs compiled to WebAssembly, npm
// @contentauth/c2pa-wasm, the package tests/interop/c2pa/ pins) inside this Node process:
// start-up, module compilation and a warm-up run are not timed. Prints one JSON line per file.
//
//   node bench/c2pa_reference.mjs --iterations N --keys KEYDIR [--validate FILE...] [--sign FILE...]
//
// --validate FILE: WasmReader.fromBytes() on the file's bytes with KEYDIR/c2pa-root.pem as the
//   trust anchor (the validation: structure, hashes, signature, certificate chain); the JSON
//   report (reader.json()) is timed separately.
// --sign FILE: WasmBuilder.fromJson() with the assertions aimark writes (c2pa.actions.v2 with
//   c2pa.created and the trainedAlgorithmicMedia source type, cn.org.tc260.aigc with the
//   file's GB 45438 fields) and builder.sign() over the file, signed with the certificate chain
//   and ES256 key of KEYDIR (made by aimark_c2pa_keydir_create_test). The package's JavaScript
//   signer interface hands the claim bytes to a callback that must return the whole COSE_Sign1
//   (c2pa-rs "direct COSE handling"); the callback below builds it (x5chain and alg in the
//   protected header, detached payload, "pad" to the reserved size) and signs with Node's
//   native crypto (OpenSSL), so the signature itself costs the reference what it costs aimark.
//   Each signed output is validated once by the reference (state reported) and written
//   next to the input as reference-signed.<ext>.
// Thumbnails are off (aimark does not make one; making one decodes the image).
// bench/run.sh starts Node with --no-liftoff, so that V8 compiles the whole module with its
// optimising tier before anything is timed; with the default lazy tiering part of the timed
// work runs in baseline code or waits on background compilation.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createPrivateKey, sign as cryptoSign } from 'node:crypto';
import { extname, basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(ROOT, 'tests/interop/c2pa/package.json'));

// The builder reads its source through Blob + FileReaderSync (a browser worker API): a Blob
// stand-in over a Uint8Array, and a synchronous reader that returns a copy of its bytes.
class BytesBlob {
  constructor(bytes, type = '') { this.bytes = bytes; this.type = type; }
  get size() { return this.bytes.length; }
  slice(start = 0, end = this.bytes.length) { return new BytesBlob(this.bytes.subarray(start, end)); }
}
globalThis.FileReaderSync = class {
  readAsArrayBuffer(blob) {
    if (!(blob instanceof BytesBlob)) throw new Error('FileReaderSync stand-in: only BytesBlob can be read');
    const b = blob.bytes;
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.length);
  }
};

const { initSync, WasmReader, WasmBuilder } = await import(pathToFileURL(require.resolve('@contentauth/c2pa-wasm')).href);
const wasm = initSync({ module: readFileSync(require.resolve('@contentauth/c2pa-wasm/c2pa.wasm')) });

const MIME = { '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.wav': 'audio/wav', '.mp4': 'video/mp4', '.png': 'image/png' };
const FORMAT = { '.jpg': 'jpeg', '.jpeg': 'jpeg', '.wav': 'wav', '.mp4': 'mp4', '.png': 'png' };

// ---- a minimal CBOR encoder (RFC 8949): what COSE_Sign1 needs ----
function head(major, n) {
  if (n < 24) return Buffer.from([(major << 5) | n]);
  if (n < 0x100) return Buffer.from([(major << 5) | 24, n]);
  if (n < 0x10000) { const b = Buffer.alloc(3); b[0] = (major << 5) | 25; b.writeUInt16BE(n, 1); return b; }
  const b = Buffer.alloc(5); b[0] = (major << 5) | 26; b.writeUInt32BE(n, 1); return b;
}
function cbor(v) {
  if (v === null) return Buffer.from([0xf6]);
  if (typeof v === 'number') return v >= 0 ? head(0, v) : head(1, -1 - v);
  if (typeof v === 'string') { const s = Buffer.from(v, 'utf8'); return Buffer.concat([head(3, s.length), s]); }
  if (v instanceof Uint8Array) return Buffer.concat([head(2, v.length), v]);
  if (Array.isArray(v)) return Buffer.concat([head(4, v.length), ...v.map(cbor)]);
  if (v instanceof Map) return Buffer.concat([head(5, v.size), ...[...v].flatMap(([k, x]) => [cbor(k), cbor(x)])]);
  if (v && v.tag !== undefined) return Buffer.concat([head(6, v.tag), cbor(v.value)]);
  throw new Error('cbor: unsupported value');
}

function pemBlocks(text) {
  return [...text.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)]
    .map((m) => Buffer.from(m[1].replace(/\s+/g, ''), 'base64'));
}

// The signer: COSE_Sign1 = tag 18 [protected, unprotected, nil, signature] of exactly reserveSize bytes.
function makeSigner(keydir, reserveSize) {
  const chain = pemBlocks(readFileSync(join(keydir, 'c2pa-chain.pem'), 'utf8'));
  const key = createPrivateKey(readFileSync(join(keydir, 'c2pa.key')));
  const protectedHeader = cbor(new Map([[1, -7], [33, chain.length === 1 ? chain[0] : chain]]));
  return {
    alg: 'es256',
    reserveSize,
    sign: async (claim) => {
      const tbs = cbor(['Signature1', protectedHeader, new Uint8Array(0), claim]);
      const sig = cryptoSign('sha256', tbs, { key, dsaEncoding: 'ieee-p1363' });
      const encode = (pad) => cbor({ tag: 18, value: [protectedHeader, new Map([['pad', Buffer.alloc(pad)]]), null, sig] });
      let pad = Math.max(0, reserveSize - encode(0).length);
      let out = encode(pad);
      while (out.length > reserveSize && pad > 0) { pad -= Math.min(pad, out.length - reserveSize); out = encode(pad); }
      if (out.length !== reserveSize) throw new Error(`COSE_Sign1 is ${out.length} bytes, reserved ${reserveSize}`);
      return new Uint8Array(out);
    },
  };
}

const AIGC = {
  Label: '1', ContentProducer: '001191110102MACQD9K64010000', ProduceID: '0123456789abcdef0123456789abcdef',
  ReservedCode1: '', ContentPropagator: '001191110102MACQD9K64010000', PropagateID: '0123456789abcdef0123456789abcdef',
  ReservedCode2: '',
};

function manifestDefinition(file, mime) {
  return JSON.stringify({
    claim_generator_info: [{ name: 'c2pa-bench-reference', version: '1' }],
    title: basename(file),
    format: mime,
    assertions: [
      {
        label: 'c2pa.actions.v2',
        data: {
          actions: [{
            action: 'c2pa.created',
            digitalSourceType: 'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia',
            softwareAgent: { name: 'aimark' },
            when: new Date().toISOString(),
          }],
        },
      },
      { label: 'cn.org.tc260.aigc', data: { AIGC } },
    ],
  });
}

const median = (v) => { const s = [...v].sort((a, b) => a - b); const n = s.length; return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2; };
const round = (x) => Math.round(x * 1000) / 1000;

const args = process.argv.slice(2);
let iterations = 9, keydir = null, mode = null;
const validate = [], signs = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--iterations') iterations = Number(args[++i]);
  else if (args[i] === '--keys') keydir = args[++i];
  else if (args[i] === '--validate') mode = validate;
  else if (args[i] === '--sign') mode = signs;
  else if (mode) mode.push(args[i]);
  else throw new Error(`unexpected argument ${args[i]}`);
}
if (!keydir || !(iterations >= 1)) {
  console.error('usage: node c2pa_reference.mjs --iterations N --keys KEYDIR [--validate FILE...] [--sign FILE...]');
  process.exit(64);
}
const anchors = readFileSync(join(keydir, 'c2pa-root.pem'), 'utf8');
const readerContext = JSON.stringify({
  verify: { verify_trust: true, remote_manifest_fetch: false },
  trust: { trust_anchors: anchors },
});
const builderContext = JSON.stringify({
  verify: { verify_trust: true, remote_manifest_fetch: false, verify_after_sign: false },
  trust: { trust_anchors: anchors },
  builder: { thumbnail: { enabled: false } },
});

// CPU time of the whole process (V8's helper threads included), in ms.
const cpuNow = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };

async function validateOnce(mime, bytes) {
  const c0 = cpuNow();
  const t0 = performance.now();
  const reader = await WasmReader.fromBytes(mime, bytes, readerContext);
  const t1 = performance.now();
  const c1 = cpuNow();
  const j = JSON.parse(reader.json());
  const t2 = performance.now();
  reader.free();
  return { fromBytes: t1 - t0, cpu: c1 - c0, json: t2 - t1, state: j.validation_state, failure: (j.validation_results?.activeManifest?.failure ?? []).map((s) => s.code) };
}

for (const file of validate) {
  const mime = MIME[extname(file).toLowerCase()];
  const bytes = new Uint8Array(readFileSync(file));
  const warm = await validateOnce(mime, bytes);
  const tv = [], tj = [], tc = [];
  for (let i = 0; i < iterations; i++) {
    const r = await validateOnce(mime, bytes);
    tv.push(r.fromBytes);
    tj.push(r.json);
    tc.push(r.cpu);
  }
  console.log(JSON.stringify({
    op: 'validate', format: FORMAT[extname(file).toLowerCase()], file, bytes: bytes.length, iterations,
    state: warm.state, failure: warm.failure, validate_ms: round(median(tv)), validate_min_ms: round(Math.min(...tv)),
    validate_cpu_ms: round(median(tc)), json_ms: round(median(tj)), node_flags: process.execArgv.join(' '), wasm_memory_bytes: wasm.memory.buffer.byteLength, max_rss_kb: process.resourceUsage().maxRSS,
  }));
}

const signer = signs.length ? makeSigner(keydir, 12288) : null;
async function signOnce(file, mime, format, bytes) {
  const blob = new BytesBlob(bytes, mime);
  const t0 = performance.now();
  const builder = WasmBuilder.fromJson(manifestDefinition(file, mime), builderContext);
  const t1 = performance.now();
  const c1 = cpuNow();
  const out = await builder.sign(signer, [], format, blob);
  const t2 = performance.now();
  const c2 = cpuNow();
  builder.free();
  return { fromJson: t1 - t0, sign: t2 - t1, cpu: c2 - c1, out };
}

for (const file of signs) {
  const ext = extname(file).toLowerCase();
  const mime = MIME[ext], format = mime;
  const bytes = new Uint8Array(readFileSync(file));
  const warm = await signOnce(file, mime, format, bytes);
  const outPath = join(dirname(file), `reference-signed${ext}`);
  writeFileSync(outPath, warm.out);
  const check = await validateOnce(mime, warm.out);
  const ts = [], tb = [], tc = [];
  for (let i = 0; i < iterations; i++) {
    const r = await signOnce(file, mime, format, bytes);
    ts.push(r.sign);
    tb.push(r.fromJson);
    tc.push(r.cpu);
  }
  console.log(JSON.stringify({
    op: 'sign', format: FORMAT[ext], file, bytes: bytes.length, signed_bytes: warm.out.length, iterations,
    state: check.state, failure: check.failure, sign_ms: round(median(ts)), sign_min_ms: round(Math.min(...ts)),
    sign_cpu_ms: round(median(tc)),
    from_json_ms: round(median(tb)), node_flags: process.execArgv.join(' '), output: outPath, wasm_memory_bytes: wasm.memory.buffer.byteLength,
    max_rss_kb: process.resourceUsage().maxRSS,
  }));
}
