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

test('a benchmark name that is a path is refused', async () => {
  for (const command of [
    ['run', '../../x'],
    ['build', '../map-reduce'],
  ])
    assertUserError(await faas(command, {env: env()}), /"\.\.\/.*" is not a benchmark name/)
})

test('numeric flags have upper bounds', async () => {
  assertUserError(
    await faas(['run', 'map-reduce', '--input-mb', '100000'], {env: env()}),
    /--input-mb is 100000; faas accepts at most 1024/,
  )
  assertUserError(
    await faas(['run', 'map-reduce', '--mappers', '5000', '--shards', '5000'], {env: env()}),
    /--shards is 5000; faas accepts at most 1000/,
  )
  assertUserError(
    await faas(['bench', '-f', 'x', '--rps', '1000000'], {env: env()}),
    /--rps is 1000000; faas accepts at most 10000/,
  )
  assertUserError(
    await faas(['bench', '-f', 'x', '--time', '1e9'], {env: env()}),
    /--time is 1000000000; faas accepts at most 86400/,
  )
  assertUserError(
    await faas(['bench', '-f', 'x', '--max-in-flight', '99999'], {env: env()}),
    /--max-in-flight is 99999/,
  )
  assertUserError(await faas(['bench', '-f', 'x', '--cold-starts', '99999'], {env: env()}), /cold-starts/)
})

test.run()
