// `faas run` of the vSwarm, vHive and DeathStarBench benchmarks through the binary, on the local target: each
// run's answer is checked by the benchmark folder's own checker (check/, Python in a container: known-answer vectors,
// digests recomputed independently of the handler). amd64 natively,
// and aes and chameleon also as arm64 images under emulation. Small workloads: images are built once
// and the engine's build cache serves every later build.
import {mkdtempSync, readFileSync, renameSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {assertUserError, faas, faasJson, scratchBenchmarks} from '../helpers/cli.js'

const env = {
  FAAS_HOME: mkdtempSync(join(tmpdir(), 'faas-home-')),
  FAAS_LOCAL_PORT: process.env.FAAS_BENCHMARKS_TEST_PORT ?? '9503',
  FAAS_LOCAL_S3_PORT: process.env.FAAS_BENCHMARKS_TEST_S3_PORT ?? '9504',
  FAAS_BASE_IMAGE: 'local',
  FAAS_TARGET: undefined,
}
const amd64 = ['--platform', 'linux/amd64']
const arm64 = ['--platform', 'linux/arm64']

/** A copy of a bundled benchmark under another name (in its manifest and its folder's), in a temporary folder. */
function copied(benchmark: string, name: string): string {
  const dir = scratchBenchmarks([benchmark])
  const manifest = join(dir, benchmark, 'benchmark.json')
  writeFileSync(manifest, readFileSync(manifest, 'utf8').replace(`"name": "${benchmark}"`, `"name": "${name}"`))
  renameSync(join(dir, benchmark), join(dir, name))
  return dir
}

/** Such a copy with its handler changed by `edit`. */
function broken(benchmark: string, fn: string, name: string, edit: (handler: string) => string): string {
  const dir = copied(benchmark, name)
  const handler = join(dir, name, fn, 'handler.py')
  const before = readFileSync(handler, 'utf8')
  const after = edit(before)
  assert.is.not(after, before, 'the edit changed the handler')
  writeFileSync(handler, after)
  return dir
}

for (const [platform, arch] of [
  [amd64, 'amd64'],
  [arm64, 'arm64'],
] as const) {
  test(`aes (${arch}): the NIST CTR vector and the payload's round trips match an independent AES`, async () => {
    const run = await faasJson(['run', 'aes', ...platform, '--payload', '{"num_of_iterations": 3}'], {env})
    assert.is(run.exitCode, 0, run.stderr)
    const record = run.result
    assert.is(record.correct, true)
    assert.equal(record.differences, [])
    assert.match(record.verified, /NIST CTR-AES128 vector and 3 encrypt\/decrypt round trip/)
    assert.is(record.images[0].architecture, arch)
    assert.is(record.invocations.length, 2, 'the vector, then the payload')
    assert.is(record.output.num_of_iterations, 3)
    assert.is(record.output.plaintext_bytes, 100, 'a generated vSwarm-like message')
  })

  test(`chameleon (${arch}): the table's shape and the digest of its HTML are as computed here`, async () => {
    const run = await faasJson(
      ['run', 'chameleon', ...platform, '--payload', '{"num_of_rows": 12, "num_of_cols": 7}'],
      {env},
    )
    assert.is(run.exitCode, 0, run.stderr)
    assert.is(run.result.correct, true)
    assert.is(run.result.images[0].architecture, arch)
    assert.equal([run.result.output.rows, run.result.output.cols], [12, 7])
    assert.match(run.result.verified, /a 12×7 table/)
  })
}

test('image-rotate (amd64): PNGs from the local S3 store, rotated, stored, checked pixel for pixel', async () => {
  const run = await faasJson(['run', 'image-rotate', ...amd64], {env})
  assert.is(run.exitCode, 0, run.stderr)
  assert.is(run.result.correct, true)
  assert.match(run.result.verified, /4 images rotated a quarter turn, pixel for pixel/)
  assert.equal(
    run.result.output.images.map((i: any) => [i.width, i.height]),
    [
      [240, 320],
      [256, 256],
      [101, 199],
      [480, 64],
    ],
  )
  assert.ok(
    run.result.output.images.every((i: any) => i.output_key.startsWith(`image-rotate/runs/${run.result.runId}/`)),
  )
})

test('cnn_serving (amd64): SqueezeNet in TensorFlow, each top-5 as the numpy reference computes it', async () => {
  const run = await faasJson(['run', 'cnn_serving', ...amd64], {env})
  assert.is(run.exitCode, 0, run.stderr)
  const record = run.result
  assert.is(record.correct, true)
  assert.match(record.verified, /top-5 of 3 images as the reference SqueezeNet/)
  assert.is(record.output.predictions.length, 3)
  assert.ok(
    record.invocations[0].cold && record.invocations[0].initDurationUs > 0,
    'a cold start, with the model built during init',
  )
})

test('a function that answers wrongly fails the run, naming what differs', async () => {
  const aes = broken('aes', 'encrypt', 'aes-broken', (h) =>
    h.replace(
      'counter = int(event.get("counter_hex", "0"), 16)',
      'counter = int(event.get("counter_hex", "0"), 16) + 1',
    ),
  )
  assertUserError(
    await faas(['run', 'aes-broken', ...amd64], {env: {...env, FAAS_BENCHMARKS_DIR: aes}}),
    /its answer is wrong: NIST SP 800-38A F\.5\.1: ciphertext [0-9a-f]+, expected 874d6191/,
  )
  const rotate = broken('image-rotate', 'rotate', 'rotate-broken', (h) =>
    h.replace('Image.Transpose.ROTATE_90', 'Image.Transpose.ROTATE_270'),
  )
  assertUserError(
    await faas(['run', 'rotate-broken', ...amd64], {env: {...env, FAAS_BENCHMARKS_DIR: rotate}}),
    /its answer is wrong: .*image-0-320x240\.png: the stored result's pixels differ/,
  )
  const cnn = broken('cnn_serving', 'classify', 'cnn-broken', (h) =>
    h.replace('MODEL = build_squeezenet()', 'MODEL = build_squeezenet(seed=7)'),
  )
  assertUserError(
    await faas(['run', 'cnn-broken', ...amd64], {env: {...env, FAAS_BENCHMARKS_DIR: cnn}}),
    /its answer is wrong: cnn_serving\/seed1\/image-0-227x227\.png: rank 1 is class \d+, expected 358/,
  )
})

test('a copy of chameleon outside the checkout runs verified by its path; broken, it is rejected', async () => {
  const copy = copied('chameleon', 'chameleon-elsewhere')
  const ran = await faasJson(['run', join(copy, 'chameleon-elsewhere'), ...amd64], {env})
  assert.is(ran.exitCode, 0, ran.stderr)
  assert.is(ran.result.benchmark, 'chameleon-elsewhere', 'named by its manifest')
  assert.is(ran.result.correct, true)
  assert.match(ran.result.verified, /a 100×100 table, its HTML's digest as expected/)

  const dir = broken('chameleon', 'render', 'chameleon-broken', (h) =>
    h.replace('table = [data for _ in range(num_of_rows)]', 'table = [data for _ in range(num_of_rows - 1)]'),
  )
  const record = join(dir, 'record.json')
  assertUserError(
    await faas(
      [
        'run',
        join(dir, 'chameleon-broken'),
        ...amd64,
        '--payload',
        '{"num_of_rows": 3, "num_of_cols": 2}',
        '--record',
        record,
      ],
      {env},
    ),
    /its answer is wrong: the table is 2×2, expected 3×2; .*sha256/,
  )
  const kept = JSON.parse(readFileSync(record, 'utf8'))
  assert.is(kept.correct, false)
  assert.match(kept.differences.join(), /the table is 2×2, expected 3×2/)
})

test('hotel-reservation (amd64): the mix, reservations competing, checked by its reference and tables', async () => {
  const run = await faasJson(
    ['run', 'hotel-reservation', ...amd64, '--payload', '{"requests": 150, "concurrency": 6, "hotels": 12}'],
    {env},
  )
  assert.is(run.exitCode, 0, run.stderr)
  const record = run.result
  assert.ok(record.correct, JSON.stringify(record.differences))
  assert.match(record.verified, /reservations stored once each, \d+ rejected without a trace, no night past capacity/)
  assert.ok(record.output.reservations.accepted > 0 && record.output.requests.search > 0, JSON.stringify(record.output))
  assert.ok(record.output.reservations.rejected.busy > 0, 'the held lock kept its hotel out')
  assert.is(record.output.via, 'POST /stateflow', 'driven over the route, as clients reach it')
  // Without the capacity check (neither the read nor the transaction's condition) the small hotels overbook.
  const hotel = broken('hotel-reservation', 'frontend', 'hotel-broken', (h) =>
    h
      .replace('booked.get(k, 0) + number > hotel["capacity"]', 'booked.get(k, 0) + number > 10 ** 6')
      .replace('":max": {"N": str(hotel["capacity"] - number)}', '":max": {"N": str(10**6)}'),
  )
  assertUserError(
    await faas(['run', 'hotel-broken', ...amd64, '--payload', '{"requests": 40, "concurrency": 6, "hotels": 12}'], {
      env: {...env, FAAS_BENCHMARKS_DIR: hotel},
    }),
    /answers or state are wrong: .*is booked past its capacity/,
  )
})

test('bad payloads are refused before anything is built', async () => {
  assertUserError(
    await faas(['run', 'chameleon', ...amd64, '--payload', '{"num_of_rows": 0, "num_of_cols": 2}'], {env}),
    /The chameleon payload needs whole numbers/,
  )
  assertUserError(
    await faas(['run', 'aes', ...amd64, '--payload', '{"num_of_iterations": 1'], {env}),
    /--payload is not valid JSON/,
  )
})

test.after(async () => {
  await faas(['local', 'stop'], {env})
})

test.run()
