// Validates files with @contentauth/c2pa-wasm (c2pa-rs compiled to WebAssembly) and prints one JSON
// line per file: {"file", "state", "failure": [codes], "ingredient_failure": [codes], "active_manifest"}.
//   node verify.mjs [--anchors bundle.pem] file...
// The package targets browsers: its wasm is loaded synchronously from node_modules, and a
// FileReaderSync stand-in is installed for the Blob-based readers (fromBytes needs none).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname, basename } from 'node:path';

if (typeof globalThis.FileReaderSync === 'undefined') {
  globalThis.FileReaderSync = class {
    readAsArrayBuffer(blob) {
      if (blob && blob._aimarkBytes) return blob._aimarkBytes.buffer;
      throw new Error('FileReaderSync stand-in: only blobs made by this harness can be read synchronously');
    }
  };
}

const require = createRequire(import.meta.url);
const { initSync, WasmReader } = await import('@contentauth/c2pa-wasm');
initSync({ module: readFileSync(require.resolve('@contentauth/c2pa-wasm/c2pa.wasm')) });

const MIME = {
  '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.png': 'image/png', '.webp': 'image/webp',
  '.wav': 'audio/wav', '.mp3': 'audio/mpeg', '.mp4': 'video/mp4', '.m4a': 'audio/mp4', '.mov': 'video/quicktime',
};

const args = process.argv.slice(2);
let anchors = null;
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--anchors') anchors = readFileSync(args[++i], 'utf8');
  else files.push(args[i]);
}
const context = {
  verify: { verify_trust: true, remote_manifest_fetch: false },
  ...(anchors ? { trust: { trust_anchors: anchors } } : {}),
};

let failed = 0;
for (const file of files) {
  const mime = MIME[extname(file).toLowerCase()];
  try {
    const reader = await WasmReader.fromBytes(mime, new Uint8Array(readFileSync(file)), JSON.stringify(context));
    const j = JSON.parse(reader.json());
    const am = j.validation_results?.activeManifest ?? {};
    const ingredientFailures = (j.validation_results?.ingredientDeltas ?? [])
      .flatMap((d) => (d.validationDeltas?.failure ?? []).map((s) => s.code));
    console.log(JSON.stringify({
      file: basename(file), state: j.validation_state, active_manifest: j.active_manifest,
      failure: (am.failure ?? []).map((s) => s.code), ingredient_failure: ingredientFailures,
    }));
    reader.free();
  } catch (e) {
    failed++;
    console.log(JSON.stringify({ file: basename(file), state: 'Error', error: String(e) }));
  }
}
process.exitCode = failed ? 1 : 0;
