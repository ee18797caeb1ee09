import {execFile} from 'node:child_process'
import {join} from 'node:path'
import {promisify} from 'node:util'
import {inflateSync} from 'node:zlib'

import * as assert from 'uvu/assert'

const run = promisify(execFile)

/** Share of non-zero bytes in a PNG's decompressed (filtered) scanlines: ~0 for a single-colour page. */
export function pngDetail(png: Buffer): {width: number; height: number; nonZero: number} {
  assert.equal([...png.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10], 'a PNG signature')
  const idat: Buffer[] = []
  let width = 0
  let height = 0
  for (let at = 8; at < png.length;) {
    const length = png.readUInt32BE(at)
    const type = png.toString('latin1', at + 4, at + 8)
    if (type === 'IHDR') {
      width = png.readUInt32BE(at + 8)
      height = png.readUInt32BE(at + 12)
    }
    if (type === 'IDAT') idat.push(png.subarray(at + 8, at + 8 + length))
    at += 12 + length
  }
  const raw = inflateSync(Buffer.concat(idat))
  let nonZero = 0
  for (const byte of raw) if (byte !== 0) nonZero++
  return {width, height, nonZero: nonZero / raw.length}
}

/** Headless Chromium with a throwaway profile under dir (for --dump-dom and --screenshot of offline reports). */
export const chromium = (dir: string, ...args: string[]) =>
  run(
    'chromium',
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${join(dir, 'profile')}`,
      ...args,
    ],
    {
      maxBuffer: 64 * 1024 * 1024,
      timeout: 120_000,
    },
  )
