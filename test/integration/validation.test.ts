import {mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {DockerEngine} from '../../src/docker/engine.js'
import {assertUserError, faas, scratchBenchmarks} from '../helpers/cli.js'

const home = mkdtempSync(join(tmpdir(), 'faas-validation-'))
const env = (extra: Record<string, string> = {}) => ({
  FAAS_HOME: home,
  FAAS_LOCAL_PORT: '9351',
  FAAS_LOCAL_S3_PORT: '9352',
  FAAS_BASE_IMAGE: 'local',
  ...extra,
})

function benchmark(name: string, manifest: object): string {
  const root = scratchBenchmarks(['map-reduce'])
  mkdirSync(join(root, name), {recursive: true})
  writeFileSync(join(root, name, 'benchmark.json'), JSON.stringify({name, ...manifest}))
  return root
}

test('faas run refuses a bad manifest before building anything', async () => {
  const cases: Array<[object, RegExp]> = [
    [{functions: {fn: null}}, /function "fn" must be an object/],
    [{functions: {fn: {memory: 0}}}, /"memory" of fn is 0 MB/],
    [{functions: {fn: {policies: ['no_such_bundle']}}}, /Unknown policy bundle: no_such_bundle/],
  ]
  for (const [i, [manifest, message]] of cases.entries()) {
    const name = `h2-invalid-${process.pid}-${i}`
    const run = await faas(['run', name], {env: env({FAAS_BENCHMARKS_DIR: benchmark(name, manifest)})})
    assertUserError(run, message)
    assert.not.match(run.stderr + run.stdout, /Build/)
    assert.is(await new DockerEngine().inspectImage(`${name}-fn:latest`), undefined, `an image was built for case ${i}`)
  }
})

test('a path without a benchmark.json, or a name that is no folder name, is refused', async () => {
  for (const command of [
    ['run', '../../x'],
    ['build', '../map-reduce'],
  ])
    assertUserError(
      await faas(command, {env: env()}),
      /Unknown benchmark "\.\.\/.*" \(no .*benchmark\.json\)\. Give the path of a folder holding a benchmark\.json/,
    )
  assertUserError(await faas(['build', 'a b'], {env: env()}), /"a b" is not a benchmark name/)
})

test('numeric flags have upper bounds', async () => {
  assertUserError(
    await faas(['run', 'map-reduce', '--input-mb', '100000'], {env: env()}),
    /^Error: --input-mb is 100000; it must be a number above 0 and at most 1024\. For example --input-mb 4\.$/m,
  )
  assertUserError(
    await faas(['run', 'map-reduce', '--mappers', '5000', '--shards', '5000'], {env: env()}),
    /--shards is 5000; it must be a whole number from 1 to 1000\. For example --shards 16\./,
  )
  assertUserError(
    await faas(['bench', '-f', 'x', '--rps', '1000000'], {env: env()}),
    /--rps is 1000000; it must be a number above 0 and at most 10000\./,
  )
  assertUserError(
    await faas(['bench', '-f', 'x', '--time', '1e9'], {env: env()}),
    /--time is 1e9; it must be a number above 0 and at most 86400\./,
  )
  assertUserError(
    await faas(['bench', '-f', 'x', '--max-in-flight', '99999'], {env: env()}),
    /--max-in-flight is 99999; it must be a whole number from 1 to 10000\./,
  )
  assertUserError(
    await faas(['bench', '-f', 'x', '--cold-starts', '99999'], {env: env()}),
    /--cold-starts is 99999; it must be a whole number from 1 to 1000\./,
  )
  assertUserError(
    await faas(['deploy', '-n', 'x', '-f', 'x', '--memory', '99999'], {env: env()}),
    /--memory is 99999; it must be a whole number from 128 to 10240\. Give one in that range, or leave --memory out\./,
  )
})

test('a refused flag value is one paragraph and exit 1, with --json too', async () => {
  for (const args of [
    ['bench', '-f', 'x', '--rps', 'abc'],
    ['deploy', 'map-reduce', '--concurrency', '0'],
    ['local', 'start', '--port', '70000'],
    ['run', 'map-reduce', '--target', 'gcp'],
  ]) {
    const run = await faas(args, {env: env()})
    assert.is(run.exitCode, 1, run.stderr)
    assert.match(run.stderr, /^Error: --\S+ is \S+; it must be [^\n]+\. (For example|Give one)[^\n]+\.$/)
    const json = await faas([...args, '--json'], {env: env()})
    assert.is(json.exitCode, 1, json.stderr)
    const {error} = JSON.parse(json.stdout) as {error: {code: string; message: string}}
    assert.is(error.code, 'BAD_FLAG')
    assert.is(`Error: ${error.message}`, run.stderr, 'the same paragraph with --json')
  }
})

test.run()
