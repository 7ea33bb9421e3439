// Writes `<file>.br` (Brotli, quality 11) and `<file>.gz` (gzip, level 9) beside every text file
// of the built app (dist/), once per build, so the gateway sends them compressed without
// compressing anything per request (services/gateway/src/web_app.hpp; like nginx's gzip_static).
// A file under 1 KB, or one that would not shrink by a tenth, is left alone.
//   node tools/compress.mjs dist
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const TEXT = /\.(html|js|mjs|css|svg|json|txt|webmanifest)$/;
const MIN_BYTES = 1024;

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else if (TEXT.test(name)) yield path;
  }
}

const dir = process.argv[2] ?? 'dist';
let before = 0;
let after = 0;
for (const path of files(dir)) {
  const bytes = readFileSync(path);
  if (bytes.length < MIN_BYTES) continue;
  const br = brotliCompressSync(bytes, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: 11,
      [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
      [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
    },
  });
  const gz = gzipSync(bytes, { level: 9 });
  const brWritten = br.length <= bytes.length * 0.9;
  if (brWritten) writeFileSync(`${path}.br`, br);
  if (gz.length <= bytes.length * 0.9) writeFileSync(`${path}.gz`, gz);
  before += bytes.length;
  after += brWritten ? br.length : bytes.length;
}
console.log(`compress: ${(before / 1024).toFixed(0)} KB of text → ${(after / 1024).toFixed(0)} KB with brotli`);
