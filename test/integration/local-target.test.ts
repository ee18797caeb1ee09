import {execa} from 'execa'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {suite} from 'uvu'
import * as assert from 'uvu/assert'

import {loadSettings} from '../../src/core/settings.js'
import {findContainersByLabel} from '../../src/docker/containers.js'
import {FUNCTION_LABEL} from '../../src/local/contracts.js'
import {DockerEngine} from '../../src/docker/engine.js'
import {
  functionLogs,
  health,
  localStatus,
  readState,
  ensureLocalService,
  stopLocalService,
} from '../../src/local/service-process.js'
import {LocalTarget} from '../../src/targets/local.js'
import type {FunctionSpec} from '../../src/targets/target.js'
import {fixtureImage} from '../fixtures/local/fixture.js'
import {freePort} from '../helpers/net.js'
import {waitFor} from '../helpers/wait.js'

/** The service as a process (detached and foreground) and the local target over it. */
const test = suite('local service process and target')
const engine = new DockerEngine()
const home = mkdtempSync(join(tmpdir(), 'faas-local-'))
const saved = {FAAS_HOME: process.env.FAAS_HOME, FAAS_LOCAL_PORT: process.env.FAAS_LOCAL_PORT}
let port = 0

// The service's containers but its loop keeper (disk-backed /tmp), which lives with the service.
const containersOf = async (pid: number) =>
  (await findContainersByLabel(engine, `dev.faas.local.pid=${pid}`)).filter((c) => c.labels[FUNCTION_LABEL]).length

test.before(async () => {
  port = await freePort()
  process.env.FAAS_HOME = home
  process.env.FAAS_LOCAL_PORT = String(port)
})

test.after(async () => {
  await stopLocalService().catch(() => {})
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k]
    else process.env[k] = v
  }
  rmSync(home, {recursive: true, force: true})
})

/** The function's calls ran in `n` environments, and its containers are those and any sandbox prepared ahead. */
async function ranIn(pid: number, n: number): Promise<void> {
  const envs = (await localStatus()).environments?.['demo-fn'] as {environments: number; prepared: number}
  assert.is(envs.environments - envs.prepared, n, JSON.stringify(envs))
  assert.ok((await containersOf(pid)) <= n + 1, 'at most one sandbox prepared ahead besides')
}

test('the local target starts a detached service on demand, deploys idempotently, invokes and destroys', async () => {
  const image = await fixtureImage(engine)
  const target = new LocalTarget(loadSettings({...process.env, FAAS_TARGET: 'local'}))
  const spec: FunctionSpec = {
    name: 'demo-fn',
    image: {uri: image, architecture: 'x86_64'},
    handler: 'handler.ok',
    memoryMb: 256,
    timeoutS: 10,
    env: {A: '1'},
    policies: [],
  }
  const created = await target.deploy(spec, () => {})
  assert.is(created.action, 'created')
  const state = readState()
  assert.is(state?.port, port, 'the detached service recorded its state file')
  assert.is(
    await ensureLocalService(loadSettings()),
    `http://127.0.0.1:${port}`,
    'a second ensure finds the running service',
  )
  assert.is((await target.deploy(spec, () => {})).action, 'unchanged')
  const changed = await target.deploy({...spec, memoryMb: 512, env: {A: '2'}}, () => {})
  assert.equal(changed.changed, ['memory', 'env'])
  const out = await target.invoke({name: 'demo-fn', payload: '{"k":"v"}', logTail: true})
  assert.is(out.statusCode, 200)
  assert.equal(JSON.parse(out.payload).echo, {k: 'v'})
  assert.is(out.report?.memorySizeMb, 512)
  assert.ok(out.report?.initDurationMs !== undefined)
  const logs = await functionLogs('demo-fn')
  assert.ok(
    logs.some((l) => l.startsWith(`REPORT RequestId: ${out.requestId}`)),
    "the function's log has the invocation's REPORT line",
  )
  const status = await localStatus()
  assert.equal(status.functions, ['demo-fn'])
  await ranIn(state!.pid, 1)
  assert.equal(await target.destroy(['demo-fn', 'never-was'], {}, () => {}), [
    {name: 'demo-fn', kind: 'function', action: 'deleted'},
    {name: 'never-was', kind: 'function', action: 'absent'},
  ])
  await target.deploy(spec, () => {})
  await target.invoke({name: 'demo-fn', payload: '{}'})
  await ranIn(state!.pid, 1)
  const stopped = await stopLocalService()
  assert.is(stopped.stopped, true)
  assert.is(await health(`http://127.0.0.1:${port}`), undefined)
  assert.is(await containersOf(state!.pid), 0, 'stopping removed the containers')
})

test('JSON log format and more ephemeral storage: REPORT from platform.report; a redeploy undoes them', async () => {
  const image = await fixtureImage(engine)
  const target = new LocalTarget(loadSettings({...process.env, FAAS_TARGET: 'local'}))
  const spec: FunctionSpec = {
    name: 'json-fn',
    image: {uri: image, architecture: 'x86_64'},
    handler: 'handler.ok',
    memoryMb: 256,
    timeoutS: 10,
    env: {},
    policies: [],
    logFormat: 'JSON',
    ephemeralStorageMb: 2048,
  }
  assert.is((await target.deploy(spec, () => {})).action, 'created')
  const state = await target.describe('json-fn')
  assert.is(state?.logFormat, 'JSON')
  assert.is(state?.ephemeralStorageMb, 2048)
  assert.is((await target.deploy(spec, () => {})).action, 'unchanged')
  const cold = await target.invoke({name: 'json-fn', payload: '{}', logTail: true})
  assert.match(cold.log ?? '', /"type":"platform.report"/)
  assert.ok(
    cold.report?.initDurationMs !== undefined && cold.report.memorySizeMb === 256,
    `figures from the JSON record: ${cold.log}`,
  )
  assert.is(cold.report?.requestId, cold.requestId)
  const back = await target.deploy({...spec, logFormat: 'Text', ephemeralStorageMb: undefined}, () => {})
  assert.equal(back.changed, ['ephemeral-storage', 'log-format'])
  const text = await target.invoke({name: 'json-fn', payload: '{}', logTail: true})
  assert.match(text.log ?? '', /^REPORT RequestId: /m)
  await target.destroy(['json-fn'], {}, () => {})
  await stopLocalService()
})

test('deploying an image the engine does not have is a user error that says to build', async () => {
  const target = new LocalTarget(loadSettings(), {endpoint: 'http://127.0.0.1:1'})
  try {
    await target.deploy(
      {
        name: 'x',
        image: {uri: 'faas-test/absent:nope', architecture: 'x86_64'},
        memoryMb: 128,
        timeoutS: 3,
        env: {},
        policies: [],
      },
      () => {},
    )
    assert.unreachable('should have thrown')
  } catch (error) {
    assert.is((error as {code?: string}).code, 'NO_LOCAL_IMAGE')
    assert.match((error as Error).message, /faas-test\/absent:nope/)
  }
})

test('Ctrl-C on a foreground service removes every container it started', async () => {
  const image = await fixtureImage(engine)
  const fgPort = await freePort()
  const child = execa('node', ['--import', 'tsx', 'src/local/main.ts', '--port', String(fgPort)], {
    env: {FAAS_HOME: home},
    reject: false,
  })
  try {
    const url = `http://127.0.0.1:${fgPort}`
    await waitFor(`the foreground service on ${url}`, async () => Boolean(await health(url)), {
      intervalMs: 100,
      giveUp: () => (child.exitCode !== null ? `the service exited with ${child.exitCode}` : undefined),
    })
    const target = new LocalTarget(loadSettings(), {endpoint: url})
    await target.deploy(
      {
        name: 'fg',
        image: {uri: image, architecture: 'x86_64'},
        handler: 'handler.trivial',
        memoryMb: 128,
        timeoutS: 5,
        env: {},
        policies: [],
      },
      () => {},
    )
    await Promise.all([target.invoke({name: 'fg', payload: '{}'}), target.invoke({name: 'fg', payload: '{}'})])
    assert.ok((await containersOf(child.pid!)) >= 1)
    child.kill('SIGINT')
    const result = await child
    assert.is(result.exitCode, 0, result.stderr)
    assert.is(await containersOf(child.pid!), 0)
  } finally {
    child.kill('SIGKILL')
    for (const c of await findContainersByLabel(engine, `dev.faas.local.pid=${child.pid}`))
      await engine.docker.getContainer(c.id).remove({force: true})
  }
})

test.run()
