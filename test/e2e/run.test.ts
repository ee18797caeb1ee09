// `faas run` end to end through the binary, on the local target: real arm64 images under emulation,
// faas's local Lambda service, the local S3 store, the driver invoking mappers and reducers via boto3.
import {execa} from 'execa'
import {existsSync, mkdtempSync, readFileSync, renameSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {assertUserError, faas, faasJson, scratchBenchmarks} from '../helpers/cli.js'

const env = {
  FAAS_HOME: mkdtempSync(join(tmpdir(), 'faas-home-')),
  FAAS_LOCAL_PORT: '9211',
  FAAS_LOCAL_S3_PORT: '9212',
  FAAS_BASE_IMAGE: 'local',
  FAAS_TARGET: undefined,
}
const containers = async (label: string) =>
  (await execa('docker', ['ps', '-aq', '--filter', `label=${label}`])).stdout.split('\n').filter(Boolean)

test('map-reduce on the local target: 4 mappers, 2 reducers, counts verified, a run record written', async () => {
  const run = await faasJson(
    ['run', 'map-reduce', '--mappers', '4', '--reducers', '2', '--input-mb', '3', '--shards', '8'],
    {env},
  )
  assert.is(run.exitCode, 0, run.stderr)
  const record = run.result
  assert.is(record.correct, true)
  assert.equal(record.differences, [])
  assert.ok(record.words.total > 300_000 && record.words.distinct > 1000, JSON.stringify(record.words))
  assert.is(record.invocations.length, 1 + 4 + 2)
  assert.equal(record.invocations.filter((i: any) => i.function === 'map-reduce-mapper').length, 4)
  assert.is(record.coldStarts, 7, 'a first run starts every environment cold')
  for (const image of record.images) assert.is(image.architecture, 'arm64')
  for (const phase of ['build', 'deploy', 'upload', 'invoke', 'verify', 'function.map', 'function.reduce'])
    assert.type(record.phasesMs[phase], 'number')
  assert.ok(record.bytes.functionsRead >= record.bytes.input, 'mappers read the whole input')
  const saved = JSON.parse(readFileSync(record.recordPath, 'utf8'))
  assert.is(saved.runId, record.runId)
  assert.ok(saved.invocations.every((i: any) => i.endUs >= i.startUs))
})

test('a rerun reuses the deployed functions and their warm environments', async () => {
  const run = await faasJson(
    ['run', 'map-reduce', '--mappers', '4', '--reducers', '2', '--input-mb', '3', '--shards', '8'],
    {env},
  )
  assert.is(run.exitCode, 0, run.stderr)
  assert.is(run.result.correct, true)
  assert.equal(
    run.result.deploy.map((d: any) => d.action),
    ['unchanged', 'unchanged', 'unchanged'],
  )
  assert.is(run.result.coldStarts, 0)
  assert.is(run.result.bytes.uploaded, 0, 'the input was already there')
})

test("a broken benchmark fails the run with the function's error, and its containers are removed", async () => {
  const dir = scratchBenchmarks(['map-reduce'])
  const manifestPath = join(dir, 'map-reduce', 'benchmark.json')
  writeFileSync(manifestPath, readFileSync(manifestPath, 'utf8').replace('"name": "map-reduce"', '"name": "mr-broken"'))
  renameSync(join(dir, 'map-reduce'), join(dir, 'mr-broken'))
  const mapper = join(dir, 'mr-broken', 'mapper', 'handler.py')
  writeFileSync(
    mapper,
    readFileSync(mapper, 'utf8').replace(
      '    started = time.time()\n',
      '    raise RuntimeError("mapper exploded on purpose")\n',
    ),
  )

  const run = await faas(['run', 'mr-broken', '--platform', 'linux/amd64', '--input-mb', '1', '--shards', '4'], {
    env: {...env, FAAS_BENCHMARKS_DIR: dir},
  })
  assertUserError(run, /The run failed: mr-broken-driver returned an error: .*mapper exploded on purpose/s)
  for (const fn of ['driver', 'mapper', 'reducer'])
    assert.equal(await containers(`dev.faas.local.function=mr-broken-${fn}`), [], `${fn} containers left`)
})

test('bad input: clear messages, and nothing is started', async () => {
  // Containers other services hold may come and go meanwhile (idle reaping, sweeps): none may be new.
  const before = new Set(await containers('dev.faas.local'))
  assertUserError(
    await faas(['run', 'map-reduce', '--reducers', '3'], {env}),
    /--reducers must be a power of two \(got 3\)/,
  )
  assertUserError(
    await faas(['run', 'map-reduce', '--mappers', '2', '--reducers', '4'], {env}),
    /--reducers \(4\) must not outnumber --mappers \(2\)/,
  )
  assertUserError(
    await faas(['run', 'map-reduce', '--input-mb', '0'], {env}),
    /--input-mb is 0; it must be a number above 0/,
  )
  assertUserError(
    await faas(['run', 'map-reduce', '--input-mb=-2'], {env}),
    /--input-mb is -2; it must be a number above 0/,
  )
  assertUserError(
    await faas(['run', 'map-reduce', '--mappers', '0'], {env}),
    /--mappers is 0; it must be a whole number from 1/,
  )
  assertUserError(
    await faas(['run', 'map-reduce', '--target', 'gcp'], {env}),
    /--target is gcp; it must be one of: local, aws\. For example --target local\./,
  )
  assert.equal(
    (await containers('dev.faas.local')).filter((id) => !before.has(id)),
    [],
    'no container was started',
  )
})

test('faas new: the scaffold, made in the current folder, runs verified as generated', async () => {
  const cwd = mkdtempSync(join(tmpdir(), 'faas-new-'))
  assertUserError(await faas(['new', 'bad name!'], {env, cwd}), /"bad name!" is not a valid benchmark name\./)
  const created = await faasJson(['new', 'hello-bench', '--function', 'greet'], {env, cwd})
  assert.is(created.exitCode, 0, created.stderr)
  for (const file of ['benchmark.json', 'greet/handler.py', 'check/checker.py', 'check/Dockerfile'])
    assert.ok(existsSync(join(cwd, 'hello-bench', file)), file)
  const run = await faasJson(['run', 'hello-bench', '--platform', 'linux/amd64'], {env, cwd})
  assert.is(run.exitCode, 0, run.stderr)
  assert.is(run.result.correct, true)
  assert.match(run.result.verified, /1000 seeded numbers sorted and summed as expected/)
  assert.is(run.result.output.message, 'Hello, faas!')
  assert.is(run.result.output.function, 'hello-bench-greet')
  assert.is(run.result.output.machine, 'x86_64')

  // Its checker catches a handler that stops doing the work right.
  const handler = join(cwd, 'hello-bench', 'greet', 'handler.py')
  writeFileSync(handler, readFileSync(handler, 'utf8').replace('"sum": sum(numbers)', '"sum": sum(numbers) + 1'))
  assertUserError(
    await faas(['run', './hello-bench', '--platform', 'linux/amd64'], {env, cwd}),
    /its answer is wrong: sum \d+, expected \d+\./,
  )

  // Benching it prices the function's own architecture (x86_64), not FAAS_PLATFORM's default (arm64).
  const out = mkdtempSync(join(tmpdir(), 'faas-bench-'))
  const bench = await faasJson(['bench', '-f', 'hello-bench-greet', '--rps', '5', '--time', '1', '--out', out], {
    env,
    cwd,
  })
  assert.is(bench.exitCode, 0, bench.stderr)
  assert.is(bench.result.summary.count, 5)
  assert.is(bench.result.summary.architecture, 'x86_64')
  assert.ok(existsSync(join(out, 'report.html')))
})

test('faas local stop removes every container the run started: environments and the S3 store', async () => {
  assert.ok((await containers('dev.faas.local-s3=9212')).length > 0)
  const service = JSON.parse(readFileSync(join(env.FAAS_HOME, 'local', 'service.json'), 'utf8')).id
  assert.ok(
    (await containers(`dev.faas.local=${service}`)).length > 0,
    'the warm environments are there before the stop',
  )
  const stop = await faasJson(['local', 'stop'], {env})
  assert.is(stop.exitCode, 0, stop.stderr)
  assert.is(stop.result.storesStopped, 1)
  assert.equal(await containers('dev.faas.local-s3=9212'), [])
  assert.equal(await containers(`dev.faas.local=${service}`), [])
})

test.after(async () => {
  await faas(['local', 'stop'], {env})
})

test.run()
