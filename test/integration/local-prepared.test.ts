import {
  CreateFunctionCommand,
  DeleteFunctionCommand,
  GetFunctionCommand,
  InvokeCommand,
  LambdaClient,
  UpdateFunctionConfigurationCommand,
  waitUntilFunctionActiveV2,
} from '@aws-sdk/client-lambda'
import Docker from 'dockerode'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {failedConfiguration} from '../../src/aws/lambda.js'
import {UserError} from '../../src/core/errors.js'
import {parseInitBreakdown} from '../../src/core/init-breakdown.js'
import {parseReport} from '../../src/core/report.js'
import {loadSettings} from '../../src/core/settings.js'
import {findContainersByLabel} from '../../src/docker/containers.js'
import {DockerEngine} from '../../src/docker/engine.js'
import {FUNCTION_LABEL, LABEL} from '../../src/local/contracts.js'
import {DROPPED_CAPABILITIES} from '../../src/local/container-spec.js'
import {sandboxInit} from '../../src/local/sandbox.js'
import {LocalService} from '../../src/local/service.js'
import {LocalTarget} from '../../src/targets/local.js'
import {fixtureImage} from '../fixtures/local/fixture.js'
import {EngineProxy} from '../helpers/engine-proxy.js'
import {lambdaClient} from '../helpers/local.js'
import {waitFor} from '../helpers/wait.js'

/**
 * Sandboxes prepared ahead of calls (issue 18), on the real engine: a cold call takes one and pays only for the
 * runtime's init; the prepared container is limited and isolated as any; a changed function is never served by a
 * sandbox made for its old configuration; a sandbox killed from outside, an engine that goes away and an image that
 * cannot start all end in a correct answer (or a clear Failed state), and nothing is left behind.
 */

const engine = new DockerEngine()
if (!sandboxInit('amd64')) throw new Error('build the helper first: bash docker/sandbox-init/build.sh')

async function create(lambda: LambdaClient, name: string, image: string, extra: Record<string, unknown> = {}) {
  return lambda.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Role: 'arn:aws:iam::000000000000:role/x',
      PackageType: 'Image',
      Code: {ImageUri: image},
      ImageConfig: {Command: ['handler.env']},
      MemorySize: 512,
      Timeout: 30,
      ...extra,
    }),
  )
}

async function invoke(lambda: LambdaClient, name: string, payload: unknown = {}) {
  const out = await lambda.send(
    new InvokeCommand({FunctionName: name, Payload: Buffer.from(JSON.stringify(payload)), LogType: 'Tail'}),
  )
  const log = Buffer.from(out.LogResult ?? '', 'base64').toString('utf8')
  const body = Buffer.from(out.Payload ?? []).toString('utf8')
  return {error: out.FunctionError, json: JSON.parse(body), log, report: parseReport(log), b: parseInitBreakdown(log)}
}

/** The prepared (unclaimed) sandboxes' containers of a function. */
const preparedIds = (service: LocalService, name: string) =>
  [...(service.pools.get(name)?.envs ?? [])].filter((e) => e.state === 'prepared').map((e) => e.containerId)

const waitPrepared = (service: LocalService, name: string) =>
  waitFor(`a sandbox prepared for ${name}`, () =>
    [...(service.pools.get(name)?.envs ?? [])].some((e) => e.hold.waiting && e.containerId),
  )

/** The service's function containers (not its own helpers: the loop keeper of /tmp disks). */
async function ourContainers(service: LocalService): Promise<string[]> {
  const ours = await findContainersByLabel(engine, `${LABEL}=${service.options.instanceId}`)
  return ours.filter((c) => c.labels[FUNCTION_LABEL]).map((c) => c.id)
}

test('a cold call takes a prepared sandbox: Pending until one is ready, then only runtime init is paid', async () => {
  const image = await fixtureImage(engine)
  await using service = await new LocalService(engine, {port: 0}).start()
  const lambda = lambdaClient(service)
  const created = await create(lambda, 'ahead', image, {Environment: {Variables: {MY_SETTING: 'one'}}})
  assert.is(created.State, 'Pending', 'a new function is Pending until its first sandbox is ready')
  assert.is(created.StateReasonCode, 'Creating')
  assert.is(created.LastUpdateStatus, 'InProgress')
  await waitUntilFunctionActiveV2({client: lambda, maxWaitTime: 120, minDelay: 1}, {FunctionName: 'ahead'})
  const [id] = preparedIds(service, 'ahead')
  assert.ok(id, 'Active means a sandbox is prepared')

  // The prepared container is the environment exactly as a cold call's: limits, read-only root, network, isolation.
  const c = await engine.docker.getContainer(id!).inspect()
  assert.ok(c.State.Running, 'started ahead')
  assert.equal(c.Config.Entrypoint, ['/.faas-sandbox-init'], 'held by the helper until claimed')
  assert.is(c.HostConfig.Memory, 512 * 1024 * 1024)
  assert.ok(Number(c.HostConfig.NanoCpus) > 0)
  assert.ok(c.HostConfig.ReadonlyRootfs)
  // /tmp: a disk volume where the engine gives loop devices (issue 22), else a tmpfs; never the image's.
  assert.ok(c.HostConfig.Tmpfs?.['/tmp'] || c.HostConfig.Binds?.some((b) => b.endsWith(':/tmp:nocopy')), 'own /tmp')
  assert.equal([...(c.HostConfig.CapDrop ?? [])].sort(), [...DROPPED_CAPABILITIES].sort())
  assert.equal(c.HostConfig.SecurityOpt, ['no-new-privileges'])
  assert.is(c.HostConfig.NetworkMode, service.options.network!.name, "on the functions' own network")
  assert.not.ok(JSON.stringify(c.Config.Env).includes('one'), 'the variables are not in its configuration')
  const logs = (await engine.docker.getContainer(id!).logs({stdout: true, stderr: true})) as Buffer
  assert.not.match(logs.toString('utf8'), /init: module loaded/, 'the runtime has not started')

  const cold = await invoke(lambda, 'ahead')
  assert.is(cold.error, undefined, JSON.stringify(cold.json))
  assert.is(cold.json.MY_SETTING, 'one')
  assert.ok(cold.report?.initDurationMs !== undefined, 'cold: Init Duration')
  assert.ok(cold.b?.prepared, `the breakdown says the sandbox was prepared: ${cold.log}`)
  assert.is(cold.b?.initMs.toFixed(2), cold.report!.initDurationMs!.toFixed(2), 'its Init Duration is the REPORT one')
  // The runtime's init output comes after the claim (it had not started before); under load the engine may deliver
  // it after the call's log tail was cut, so the function's log is looked at too.
  await waitFor("the runtime's init output, after the claim", () =>
    [cold.log, ...(service.logs.get('ahead') ?? [])].some((l) => l.includes('init: module loaded')),
  )
  assert.ok(
    [...service.pools.get('ahead')!.envs].some((e) => e.containerId === id && e.state !== 'prepared'),
    'the call ran in the prepared container',
  )
  // Replenished in the background; `local status` shows it.
  await waitPrepared(service, 'ahead')
  const health = service.health() as {environments: Record<string, {prepared: number}>; prepared: {held: number}}
  assert.is(health.environments.ahead!.prepared, 1)
  assert.is(health.prepared.held, 1)
  const warm = await invoke(lambda, 'ahead')
  assert.is(warm.report?.initDurationMs, undefined, 'the next call is warm, not a claim')
  lambda.destroy()
})

test('deleting a function with a sandbox prepared removes it (the delete succeeds, nothing is left)', async () => {
  const image = await fixtureImage(engine)
  await using service = await new LocalService(engine, {port: 0}).start()
  const lambda = lambdaClient(service)
  await create(lambda, 'deleting', image)
  await waitPrepared(service, 'deleting')
  const [held] = preparedIds(service, 'deleting')
  // One attempt (the helper's client): a failed delete is not hidden by a retry that finds the function gone.
  await lambda.send(new DeleteFunctionCommand({FunctionName: 'deleting'}))
  assert.not.ok((await ourContainers(service)).includes(held!), 'its prepared sandbox is gone')
  assert.is(service.options.reserve!.held, 0, 'its slot is free again')
  lambda.destroy()
})

test('a service closed while a sandbox is being prepared leaves no container', async () => {
  const image = await fixtureImage(engine)
  const service = await new LocalService(engine, {port: 0}).start()
  const id = service.options.instanceId
  const lambda = lambdaClient(service)
  await create(lambda, 'closing', image)
  lambda.destroy()
  // Its sandbox is being created and started now (the function is Pending).
  await waitFor('a sandbox being prepared', () => (service.pools.get('closing')?.envs.size ?? 0) > 0)
  await service.close()
  assert.equal(await findContainersByLabel(engine, `${LABEL}=${id}`), [], 'close() waited for it and removed it')
})

test('without the pool every cold call makes its own sandbox, and the function is Active at once', async () => {
  const image = await fixtureImage(engine)
  await using service = await new LocalService(engine, {port: 0, preparedPerFunction: 0}).start()
  const lambda = lambdaClient(service)
  const created = await create(lambda, 'on-demand', image)
  assert.is(created.State, 'Active')
  assert.is(created.LastUpdateStatus, 'Successful')
  assert.equal(await ourContainers(service), [], 'nothing is made ahead')
  const cold = await invoke(lambda, 'on-demand')
  assert.is(cold.error, undefined, JSON.stringify(cold.json))
  assert.ok(cold.b && !cold.b.prepared, `a breakdown without Prepared: ${cold.log}`)
  assert.ok(cold.b!.startMs > 0 && cold.report?.initDurationMs !== undefined)
  assert.is(service.pools.get('on-demand')!.stats().prepared, 0)
  lambda.destroy()
})

test('a changed configuration is never served by a sandbox prepared for the old one', async () => {
  const image = await fixtureImage(engine)
  await using service = await new LocalService(engine, {port: 0}).start()
  const lambda = lambdaClient(service)
  await create(lambda, 'changing', image, {Environment: {Variables: {MY_SETTING: 'old'}}})
  await waitUntilFunctionActiveV2({client: lambda, maxWaitTime: 120, minDelay: 1}, {FunctionName: 'changing'})
  const [stale] = preparedIds(service, 'changing')
  const updated = await lambda.send(
    new UpdateFunctionConfigurationCommand({FunctionName: 'changing', Environment: {Variables: {MY_SETTING: 'new'}}}),
  )
  assert.is(updated.State, 'Active', 'an update keeps the function Active')
  assert.is(updated.LastUpdateStatus, 'InProgress', 'until its new sandbox is ready')
  // Called at once, before the new sandbox is ready: still the new configuration.
  const first = await invoke(lambda, 'changing')
  assert.is(first.json.MY_SETTING, 'new', JSON.stringify(first.json))
  assert.ok(first.report?.initDurationMs !== undefined, 'a cold call')
  const got = await lambda.send(new GetFunctionCommand({FunctionName: 'changing'}))
  assert.is(got.Configuration?.LastUpdateStatus, 'Successful')
  await waitFor('the stale sandbox removed', async () => !(await ourContainers(service)).includes(stale!))
  lambda.destroy()
})

test('a prepared sandbox killed from outside: the next call still answers, cold, and the pool heals', async () => {
  const image = await fixtureImage(engine)
  await using service = await new LocalService(engine, {port: 0}).start()
  const lambda = lambdaClient(service)
  await create(lambda, 'killed', image, {Environment: {Variables: {MY_SETTING: 'k'}}})
  await waitPrepared(service, 'killed')
  const [victim] = preparedIds(service, 'killed')
  await engine.docker.getContainer(victim!).kill()
  const out = await invoke(lambda, 'killed')
  assert.is(out.error, undefined, JSON.stringify(out.json))
  assert.is(out.json.MY_SETTING, 'k')
  assert.ok(out.report?.initDurationMs !== undefined, 'a cold call')
  await waitFor('a new prepared sandbox', () => preparedIds(service, 'killed').some((id) => id && id !== victim))
  await waitFor('the killed one removed', async () => !(await ourContainers(service)).includes(victim!))
  lambda.destroy()
})

test('the engine going away with a sandbox prepared: calls answer once it is back, orphans removed', async () => {
  const image = await fixtureImage(engine)
  const dir = mkdtempSync(join(tmpdir(), 'prepared-engine-'))
  const proxy = new EngineProxy(dir)
  await proxy.up()
  const service = await new LocalService(new DockerEngine(new Docker({socketPath: proxy.path})), {port: 0}).start()
  const id = service.options.instanceId
  try {
    const lambda = lambdaClient(service)
    await create(lambda, 'engine', image, {Environment: {Variables: {MY_SETTING: 'e'}}})
    await waitPrepared(service, 'engine')
    const [held] = preparedIds(service, 'engine')
    await proxy.down()
    await waitFor('the lost sandbox forgotten', () => !preparedIds(service, 'engine').includes(held))
    await proxy.up()
    await waitFor('a sandbox prepared again', () => preparedIds(service, 'engine').some((c) => c && c !== held))
    const out = await invoke(lambda, 'engine')
    assert.is(out.error, undefined, JSON.stringify(out.json))
    assert.is(out.json.MY_SETTING, 'e')
    // The container lost with the engine (its removal failed then) is removed once the engine answers.
    await waitFor('the orphan removed', async () => !(await ourContainers(service)).includes(held!))
    lambda.destroy()
  } finally {
    await proxy.up().catch(() => {})
    await service.close()
    await proxy.down()
    rmSync(dir, {recursive: true, force: true})
  }
  assert.equal(await findContainersByLabel(engine, `${LABEL}=${id}`), [], 'close() leaves no container')
})

test('an image deleted under the pool: its sandbox answers, then a clear error; healed once back', async () => {
  const base = await fixtureImage(engine)
  // A tag of our own to delete (the image's layers stay: other tests use them).
  const tag = `faas-test/prepared-deleted:${process.pid}`
  const [repo, version] = tag.split(':')
  await engine.docker.getImage(base).tag({repo, tag: version})
  const service = await new LocalService(engine, {port: 0}).start()
  const id = service.options.instanceId
  try {
    const lambda = lambdaClient(service)
    await create(lambda, 'deleted', tag, {Environment: {Variables: {MY_SETTING: 'd'}}})
    await waitPrepared(service, 'deleted')
    await engine.docker.getImage(tag).remove()
    // The sandbox made before holds its image: the call is served, correctly, cold.
    const first = await invoke(lambda, 'deleted')
    assert.is(first.error, undefined, JSON.stringify(first.json))
    assert.is(first.json.MY_SETTING, 'd')
    assert.ok(first.b?.prepared)
    // Two at once: one holds the warm environment (it sleeps first, so it is surely busy when the other arrives), the
    // other needs a new sandbox, which cannot be made: the engine's reason, no hang.
    const holding = invoke(lambda, 'deleted', {seconds: 2})
    await waitFor('the warm environment busy', () => service.pools.get('deleted')?.stats().busy === 1)
    const failed = await invoke(lambda, 'deleted')
    const held = await holding
    assert.is(held.error, undefined, JSON.stringify(held.json))
    assert.ok(failed.error, `the second call needed a new sandbox: ${JSON.stringify(failed.json)}`)
    assert.match(failed.json.errorMessage, /could not start.*(no such image|not found)/is)
    assert.is(preparedIds(service, 'deleted').length, 0, 'no sandbox can be prepared meanwhile')
    // The image back: the pool heals (its retries back off, so this may take a few seconds).
    await engine.docker.getImage(base).tag({repo, tag: version})
    await waitPrepared(service, 'deleted')
    lambda.destroy()
  } finally {
    await service.close()
    await engine.docker
      .getImage(tag)
      .remove()
      .catch(() => {})
  }
  assert.equal(await findContainersByLabel(engine, `${LABEL}=${id}`), [], 'close() leaves no container')
})

test('a function whose sandbox cannot start is Failed with the reason; its calls get the same error', async () => {
  const image = await fixtureImage(engine, 'bad-user')
  const service = await new LocalService(engine, {port: 0}).start()
  const id = service.options.instanceId
  try {
    const lambda = lambdaClient(service)
    await create(lambda, 'bad', image)
    const failed = await waitUntilFunctionActiveV2(
      {client: lambda, maxWaitTime: 120, minDelay: 1},
      {FunctionName: 'bad'},
    ).then(() => undefined, failedConfiguration)
    assert.is(failed?.State, 'Failed', 'the waiter sees Failed, not Pending forever')
    assert.is((failed as {StateReasonCode?: string}).StateReasonCode, 'InvalidImage')
    assert.match(failed?.StateReason ?? '', /could not start.*faas-no-such-user/s)
    const out = await invoke(lambda, 'bad')
    assert.is(out.error, 'Unhandled')
    assert.match(out.json.errorMessage, /faas-no-such-user/)
    // faas's own deploy waits for Active too, and says why it failed in one paragraph.
    const target = new LocalTarget(loadSettings({...process.env, FAAS_TARGET: 'local'}), {
      endpoint: service.url,
      credentials: service.credentials,
      engine,
    })
    const spec = {name: 'bad-deploy', image: {uri: image, architecture: 'x86_64' as const}, handler: 'handler.ok'}
    const error = await target
      .deploy({...spec, memoryMb: 256, timeoutS: 10, env: {}, policies: []}, () => {})
      .then(
        () => undefined,
        (e: UserError) => e,
      )
    assert.instance(error, UserError)
    assert.is(error!.code, 'FUNCTION_FAILED')
    assert.match(
      error!.message,
      /^bad-deploy did not become active: The environment could not start: .*faas-no-such-user/,
    )
    assert.not.match(error!.message, /[{}]/, 'no JSON dump')
    lambda.destroy()
  } finally {
    await service.close()
  }
  assert.equal(await findContainersByLabel(engine, `${LABEL}=${id}`), [], 'close() leaves no container')
})

test.run()
