// The CID the npm multiformats package gives each input's bytes: CID v1, raw codec, sha2-256,
// base32, one line each. Inputs are hex, one per line of the file named (or of standard input).
// The blockchain service's tests compare their own CIDs with these.
import { readFileSync } from 'node:fs'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'

const text = readFileSync(process.argv[2] ?? 0, 'utf8')
for (const line of text.split('\n').slice(0, -1)) {
  const bytes = Uint8Array.from(Buffer.from(line, 'hex'))
  const cid = CID.create(1, raw.code, await sha256.digest(bytes))
  console.log(cid.toString())
}
