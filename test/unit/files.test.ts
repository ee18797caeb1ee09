import {spawn} from 'node:child_process'
import {existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {UserError} from '../../src/core/errors.js'
import {openRotatedLog, readJsonFile, RotatingLog, updateJsonFile, writeJsonFile} from '../../src/core/files.js'

const scratch = () => mkdtempSync(join(tmpdir(), 'faas-files-'))
const mode = (path: string) => statSync(path).mode & 0o777
const info = {what: 'test data', fix: 'Remove it.'}

test('a JSON file is written 0600 in a 0700 folder, with no temp file left beside it', async () => {
  const dir = join(scratch(), 'a', 'b')
  await writeJsonFile(join(dir, 'x.json'), {a: 1})
  assert.is(mode(join(dir, 'x.json')), 0o600)
  assert.is(mode(dir), 0o700)
  assert.equal(readdirSync(dir), ['x.json'])
  assert.equal(await readJsonFile(join(dir, 'x.json'), info), {a: 1})
})

test('rewriting a world-readable file leaves it 0600', async () => {
  const path = join(scratch(), 'x.json')
  writeFileSync(path, '{}', {mode: 0o644})
  await writeJsonFile(path, {b: 2})
  assert.is(mode(path), 0o600)
})

test('a missing file reads as undefined; a truncated one is a UserError naming it and is left as it was', async () => {
  const dir = scratch()
  assert.is(await readJsonFile(join(dir, 'none.json'), info), undefined)
  const path = join(dir, 'cut.json')
  writeFileSync(path, '{"a": {"b": 1')
  try {
    await updateJsonFile(path, info, () => ({}))
    assert.unreachable('a truncated file must not be overwritten')
  } catch (error) {
    assert.instance(error, UserError)
    assert.match((error as UserError).paragraph, new RegExp(`${path}.*test data.*not valid JSON.*Remove it`))
  }
  assert.is(readFileSync(path, 'utf8'), '{"a": {"b": 1')
})

test('updates from several processes at once all survive', async () => {
  const path = join(scratch(), 'counts.json')
  const script = `import {updateJsonFile} from ${JSON.stringify(join(process.cwd(), 'src/core/files.ts'))}
await updateJsonFile(process.argv[1], {what: 'x', fix: 'y'}, (all) => ({...all, [process.argv[2]]: true}))`
  const run = (key: string) =>
    new Promise<number>((resolve) =>
      spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, path, key], {
        stdio: 'inherit',
      }).on('exit', (code) => resolve(code ?? -1)),
    )
  const codes = await Promise.all(Array.from({length: 8}, (_, i) => run(`k${i}`)))
  assert.equal(codes, Array(8).fill(0))
  const all = JSON.parse(readFileSync(path, 'utf8'))
  assert.equal(
    Object.keys(all).sort(),
    Array.from({length: 8}, (_, i) => `k${i}`),
  )
  assert.not.ok(existsSync(`${path}.lock`))
})

test('a log past its cap rotates to .1 and .2, the oldest dropped, each 0600', () => {
  const path = join(scratch(), 'service.log')
  const log = new RotatingLog(path, {maxBytes: 100, keep: 2})
  for (let i = 0; i < 10; i++) log.write(`${String(i).repeat(39)}\n`)
  assert.equal(readdirSync(join(path, '..')).sort(), ['service.log', 'service.log.1', 'service.log.2'])
  assert.is(readFileSync(path, 'utf8'), `${'8'.repeat(39)}\n${'9'.repeat(39)}\n`)
  assert.is(readFileSync(`${path}.1`, 'utf8'), `${'6'.repeat(39)}\n${'7'.repeat(39)}\n`)
  for (const name of ['service.log', 'service.log.1', 'service.log.2']) assert.is(mode(join(path, '..', name)), 0o600)
  // Opening an oversized log for a new process rotates it first.
  writeFileSync(path, 'x'.repeat(200))
  openRotatedLog(path, {maxBytes: 100, keep: 2})
  assert.is(statSync(path).size, 0)
  assert.is(statSync(`${path}.1`).size, 200)
})

test.run()
