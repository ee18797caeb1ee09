// The four shipped workshop experiments, each at a small size, through the built binary on the local
// target (amd64 images: emulation is not what they measure). Directions are asserted only where the
// effect is large against the noise of a shared 2-core machine; otherwise that the run produced a
// comparison with figures for every variant.
import {execa} from 'execa'
import {cpSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {PROJECT_ROOT} from '../../src/core/paths.js'
import {faas, faasJson} from '../helpers/cli.js'

const env = {
  FAAS_HOME: mkdtempSync(join(tmpdir(), 'faas-home-experiments-')),
  FAAS_LOCAL_PORT: '9612',
  FAAS_LOCAL_S3_PORT: '9613',
  FAAS_BASE_IMAGE: 'local',
  FAAS_TARGET: undefined,
}
const work = mkdtempSync(join(tmpdir(), 'faas-experiments-e2e-'))

/** A copy of a shipped experiment (with its benchmark) whose file is cut down by `edit`. */
function smaller(name: string, edit: (text: string) => string): string {
  const dir = join(work, name)
  cpSync(join(PROJECT_ROOT, 'experiments', name), dir, {recursive: true})
  const file = join(dir, 'experiment.yaml')
  writeFileSync(file, edit(readFileSync(file, 'utf8')))
  return file
}

async function run(file: string, name: string) {
  const out = join(work, `${name}-results`)
  const result = await faasJson(['experiment', 'run', file, '--repeat', '1', '--out', out], {env})
  assert.is(result.exitCode, 0, result.stderr)
  const comparisons = result.result.comparisons as any[]
  for (const c of comparisons) assert.ok(!('missing' in c), `${c.metric} ${c.a}/${c.b}: ${c.missing}`)
  return {...result.result, comparisons, out, find: (metric: string, b: string) => comparisons.find((c) => c.metric === metric && c.b === b)}
}

const containers = async (label: string) => (await execa('docker', ['ps', '-aq', '--filter', `label=${label}`])).stdout.split('\n').filter(Boolean)

test.after(async () => {
  await faas(['local', 'stop'], {env})
})

test('keep-warm: without pings every call after a long gap is cold; with them none is', async () => {
  // First, so the service this file starts has the 4 s idle timeout the experiment needs.
  const file = smaller('keep-warm', (t) => t.replace('load: {rps: 0.125, time: 24}', 'load: {rps: 0.125, time: 16}'))
  const result = await run(file, 'keep-warm')
  const cold = result.find('cold:mean', 'pinged')
  assert.is(result.variants.find((v: any) => v.name === 'none').cold, 2, 'both calls of "none" were cold')
  assert.is(result.variants.find((v: any) => v.name === 'pinged').cold, 0, 'no call of "pinged" was cold')
  assert.is(cold.verdict.winner, 'b')
  assert.match(cold.verdict.text, /^pinged is less often cold than none by 100\.0 points/)
  const record = JSON.parse(readFileSync(join(result.out, 'experiment.json'), 'utf8'))
  assert.ok(record.variants.find((v: any) => v.name === 'pinged').keepWarm.pings >= 4, 'the pinger ran through the runs')
  assert.equal(await containers('dev.faas.local.function=keep-warm-pinged'), [], 'the functions are removed afterwards')
})

test('dependency size: the image with ~50 MB of unused imports initialises slower', async () => {
  const file = smaller('dependency-size', (t) => t.replace('coldStarts: 6', 'coldStarts: 3'))
  const result = await run(file, 'dependency-size')
  const init = result.find('init:median', 'fat')
  assert.is(init.countA, 3)
  assert.is(init.countB, 3)
  assert.ok(init.difference.estimate > 0, `fat - slim Init Duration ${init.difference.estimate} ms`)
  assert.not.equal(init.verdict.winner, 'b', init.verdict.text)
})

test('connection reuse: figures for both handlers, and reuse is not the slower one', async () => {
  const file = smaller('connection-reuse', (t) => t.replace('time: 5, warmup: 1', 'time: 3, warmup: 1'))
  const result = await run(file, 'connection-reuse')
  const duration = result.find('duration:median', 'reused')
  assert.ok(duration.countA >= 5 && duration.countB >= 5, `${duration.countA} and ${duration.countB} warm calls`)
  assert.not.equal(duration.verdict.winner, 'a', duration.verdict.text)
})

test('vCPUs: six variants (1 and 2 threads at three sizes) compared pairwise', async () => {
  const file = smaller('vcpus', (t) => t.replace('time: 5, warmup: 1', 'time: 2, warmup: 1').replace('mb: 24', 'mb: 8'))
  const result = await run(file, 'vcpus')
  assert.is(result.variants.length, 6)
  assert.is(result.comparisons.length, 5)
  for (const v of result.variants) assert.ok(v.calls >= 2 && v.errors === 0, `${v.name}: ${v.calls} calls, ${v.errors} errors`)
  for (const c of result.comparisons) assert.match(c.verdict.text, /faster|no difference detected/)
})

test('a bad experiment file: one paragraph naming the field, nothing deployed', async () => {
  const file = smaller('vcpus', (t) => t.replace('memory: 3008, env: {THREADS: "2"}', 'memory: 30080, env: {THREADS: "2"}'))
  const result = await faas(['experiment', 'run', file], {env})
  assert.is(result.exitCode, 1)
  assert.match(result.stderr, /is not a valid experiment: variants\[5\]\.memory: .*10240/)
  assert.not.match(result.stderr, /\n\s+at .+:\d+:\d+/)
})

test.run()
