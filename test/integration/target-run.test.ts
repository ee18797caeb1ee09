// What surrounds the functions, behind the local target (issue 17): preparing (the S3 store and the service, and
// the checks an experiment makes of a running one), keep-warm, and the cleanup and diagnosis after a failed run.
// The S3 store here is moto itself (what the local store's container runs), on a port of its own.
import {execa, type ResultPromise} from 'execa'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {suite} from 'uvu'
import * as assert from 'uvu/assert'

import {isUserError} from '../../src/core/errors.js'
import {silent} from '../../src/core/events.js'
import {loadBenchmark} from '../../src/core/manifest.js'
import {loadSettings} from '../../src/core/settings.js'
import {DockerEngine} from '../../src/docker/engine.js'
import {stopLocalService} from '../../src/local/service-process.js'
import {createTarget} from '../../src/targets/index.js'
import type {FunctionSpec, RunTarget} from '../../src/targets/target.js'
import {fixtureImage} from '../fixtures/local/fixture.js'
import {waitFor} from '../helpers/wait.js'

const test = suite('local target: prepare, keep-warm, a failed run')
const engine = new DockerEngine()
const home = mkdtempSync(join(tmpdir(), 'faas-target-run-'))
const S3_PORT = process.env.FAAS_TARGET_RUN_TEST_S3_PORT ?? '9771'
const saved = {
  FAAS_HOME: process.env.FAAS_HOME,
  FAAS_LOCAL_PORT: process.env.FAAS_LOCAL_PORT,
  FAAS_LOCAL_S3_PORT: process.env.FAAS_LOCAL_S3_PORT,
}
const MOTO = process.env.FAAS_MOTO_SERVER ?? '/var/lib/faas-stack/venv/bin/moto_server'
let moto: ResultPromise | undefined
let target: RunTarget

const storeAnswers = () =>
  fetch(`http://127.0.0.1:${S3_PORT}/`).then(
    () => true,
    () => false,
  )

async function startStore() {
  moto = execa(MOTO, ['-H', '127.0.0.1', '-p', S3_PORT], {reject: false, stdio: 'ignore'})
  await waitFor('moto to answer', storeAnswers, {giveUp: () => (moto!.exitCode !== null ? 'moto exited' : undefined)})
}

async function stopStore() {
  moto?.kill()
  await moto
  moto = undefined
}

test.before(async () => {
  process.env.FAAS_HOME = home
  process.env.FAAS_LOCAL_PORT = process.env.FAAS_TARGET_RUN_TEST_PORT ?? '9770'
  process.env.FAAS_LOCAL_S3_PORT = S3_PORT
  await startStore()
  target = await createTarget('local', loadSettings({...process.env, FAAS_TARGET: 'local'}))
})

test.after(async () => {
  await stopLocalService().catch(() => {})
  await stopStore()
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k]
    else process.env[k] = v
  }
  rmSync(home, {recursive: true, force: true})
})

const spec = (image: string): FunctionSpec => ({
  name: 'target-run-fn',
  image: {uri: image, architecture: 'x86_64'},
  handler: 'handler.ok',
  memoryMb: 256,
  timeoutS: 10,
  env: {},
  policies: [],
})

test('prepare starts the service with the store, timed as storage and service, and deploys by image ID', async () => {
  const image = await fixtureImage(engine)
  const info = (await engine.inspectImage(image))!
  const manifest = await loadBenchmark('aes')
  const built = {
    function: 'aes',
    image,
    imageId: info.id,
    architecture: 'amd64',
    sizeBytes: 0,
    stepsRun: [],
    seconds: 0,
  }
  const phases: string[] = []
  const [prepared] = await target.prepare(
    {
      manifest,
      engine,
      builds: [{tag: 't', functions: manifest.functions, images: [built]}],
      service: {experiment: 'demo', needsS3: true},
      timed: (phase, work) => (phases.push(phase), work()),
    },
    silent,
  )
  assert.equal(prepared, [{function: 'aes', uri: info.id}])
  assert.equal(phases, ['storage', 'service'])
  // The service it started gives functions this store: a second experiment that needs S3 finds it so.
  await target.prepare({manifest, engine, builds: [], service: {experiment: 'demo', needsS3: true}}, silent)
})

test('a running service with another idle timeout is refused by name, not restarted', async () => {
  const manifest = await loadBenchmark('aes')
  const error = await target
    .prepare({manifest, engine, builds: [], service: {experiment: 'idle', needsS3: false, idleTimeoutS: 7}}, silent)
    .catch((e: unknown) => e)
  assert.ok(isUserError(error), String(error))
  assert.is(error.code, 'IDLE_TIMEOUT_MISMATCH')
  assert.match(error.message, /Experiment idle needs the local service to reclaim idle environments after 7 s/)
  assert.match(error.fix ?? '', /faas local stop/)
})

test("an image given by reference must be in the engine; the engine's answer when it is", async () => {
  const error = await target.inspectImage(engine, 'faas-test/never-built:x', 'Variant a').catch((e: unknown) => e)
  assert.ok(isUserError(error))
  assert.is(error.code, 'NO_IMAGE')
  assert.is(error.message, "Variant a's image faas-test/never-built:x is not in the Docker engine.")
  const image = await fixtureImage(engine)
  assert.is((await target.inspectImage(engine, image, 'Variant a'))?.id, (await engine.inspectImage(image))!.id)
})

test('keep-warm: the first ping is sent before keepWarm returns; stop says how many went', async () => {
  await target.deploy(spec(await fixtureImage(engine)), silent)
  const schedule = await target.keepWarm({name: 'target-run-fn', everyS: 60, payload: {'faas-keep-warm': true}}, silent)
  assert.is(schedule.expression, undefined)
  assert.equal(await schedule.stop(), {pings: 1, errors: 0})
})

test('a failed run: its functions go; the error stays as it was while the store answers', async () => {
  await target.deploy(spec(await fixtureImage(engine)), silent)
  const original = new Error('mapper failed')
  assert.is(await target.runFailed(['target-run-fn'], original, silent), original)
  assert.is(await target.describe('target-run-fn'), undefined, 'the function was destroyed')
})

test('a failed run after the store died is reported as LOCAL_S3_GONE, naming the error it caused', async () => {
  await stopStore()
  const error = await target.runFailed(['target-run-fn'], new Error('S3 read timed out'), silent)
  assert.ok(isUserError(error))
  assert.is(error.code, 'LOCAL_S3_GONE')
  assert.match(error.message, new RegExp(`store at http://127.0.0.1:${S3_PORT} stopped answering.*S3 read timed out`))
})

test.run()
