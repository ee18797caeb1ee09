import {
  CreateFunctionCommand,
  GetFunctionConfigurationCommand,
  InvokeCommand,
  LambdaClient,
  ListFunctionsCommand,
} from '@aws-sdk/client-lambda'
import Docker from 'dockerode'
import {mkdtempSync, readFileSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'

import type {ProgressEvent} from '../../src/core/events.js'
import {loadSettings} from '../../src/core/settings.js'
import {findContainersByLabel} from '../../src/docker/containers.js'
import {DockerEngine} from '../../src/docker/engine.js'
import {LABEL} from '../../src/local/contracts.js'
import {LocalService} from '../../src/local/service.js'
import {loadOrCreateSecrets} from '../../src/local/credentials.js'
import {functionsFile, serviceOptions} from '../../src/local/service-process.js'
import {fixtureImage} from '../fixtures/local/fixture.js'
import {EngineProxy} from '../helpers/engine-proxy.js'
import {lambdaClient} from '../helpers/local.js'

const engine = new DockerEngine()
async function invoke(lambda: LambdaClient, name: string, payload: unknown = {}) {
  const out = await lambda.send(new InvokeCommand({FunctionName: name, Payload: Buffer.from(JSON.stringify(payload))}))
  const body = Buffer.from(out.Payload ?? new Uint8Array()).toString('utf8')
  return {functionError: out.FunctionError, json: body ? JSON.parse(body) : undefined}
}

test('engine gone mid-call: that call and new ones fail clearly; the service stays up and recovers', async () => {
  const image = await fixtureImage(engine)
  const dir = mkdtempSync(join(tmpdir(), 'h1-engine-'))
  const proxy = new EngineProxy(dir)
  await proxy.up()
  let onStart = () => {}
  const started = new Promise<void>((resolve) => (onStart = resolve))
  const watch = (event: ProgressEvent) => {
    if (event.kind === 'log' && event.message.startsWith('START ')) onStart()
  }
  const service = await new LocalService(
    new DockerEngine(new Docker({socketPath: proxy.path})),
    {port: 0},
    watch,
  ).start()
  try {
    const lambda = lambdaClient(service)
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'slow',
        Role: 'r',
        PackageType: 'Image',
        Code: {ImageUri: image},
        ImageConfig: {Command: ['handler.slow']},
        MemorySize: 256,
        Timeout: 120,
      }),
    )
    const running = invoke(lambda, 'slow', {seconds: 60})
    await started
    await proxy.down()
    const lost = await running
    assert.is(lost.functionError, 'Unhandled')
    assert.match(lost.json.errorMessage, /Docker engine went away/, JSON.stringify(lost.json))
    const refused = await invoke(lambda, 'slow', {seconds: 0})
    assert.is(refused.functionError, 'Unhandled')
    assert.match(refused.json.errorMessage, /Docker engine is not reachable/, JSON.stringify(refused.json))
    const listed = await lambda.send(new ListFunctionsCommand({}))
    assert.equal(
      listed.Functions?.map((f) => f.FunctionName),
      ['slow'],
      'the service is still up',
    )
    await proxy.up()
    const back = await invoke(lambda, 'slow', {seconds: 0})
    assert.is(back.functionError, undefined, `works again once the engine is back: ${JSON.stringify(back.json)}`)
  } finally {
    const id = service.options.instanceId
    await proxy.up().catch(() => {})
    await service.close()
    await proxy.down()
    rmSync(dir, {recursive: true, force: true})
    assert.equal(
      await findContainersByLabel(engine, `${LABEL}=${id}`),
      [],
      'close() removes every container, the lost one included',
    )
  }
})

test('a service restarted on the same FAAS_HOME knows the functions deployed before, as configured', async () => {
  const image = await fixtureImage(engine)
  const home = mkdtempSync(join(tmpdir(), 'h1-home-'))
  const env = {FAAS_HOME: home}
  // As runService does: the service's own key pair from FAAS_HOME (it also seals the saved variables).
  const options = () => ({...serviceOptions(loadSettings(env), {port: 0}, env), secrets: loadOrCreateSecrets(env)})
  try {
    const first = await new LocalService(engine, options()).start()
    try {
      const lambda = lambdaClient(first)
      await lambda.send(
        new CreateFunctionCommand({
          FunctionName: 'kept',
          Role: 'r',
          PackageType: 'Image',
          Code: {ImageUri: image},
          ImageConfig: {Command: ['handler.ok']},
          MemorySize: 384,
          Timeout: 7,
          EphemeralStorage: {Size: 1024},
          Environment: {Variables: {KEPT_SECRET: 'marker-4711'}},
        }),
      )
    } finally {
      await first.close()
    }
    assert.is(statSync(functionsFile(env)).mode & 0o777, 0o600, 'the saved functions are readable by the user only')
    assert.not.match(readFileSync(functionsFile(env), 'utf8'), /marker-4711/, 'variables are saved encrypted')
    const second = await new LocalService(engine, options()).start()
    try {
      const out = await invoke(lambdaClient(second), 'kept', {hello: 1})
      assert.is(out.functionError, undefined, JSON.stringify(out.json))
      assert.equal(out.json.echo, {hello: 1})
      assert.is(out.json.memory, '384')
      const config = await lambdaClient(second).send(new GetFunctionConfigurationCommand({FunctionName: 'kept'}))
      assert.is(config.Timeout, 7)
      assert.equal(config.EphemeralStorage, {Size: 1024})
      assert.equal(config.Environment?.Variables, {KEPT_SECRET: 'marker-4711'})
    } finally {
      await second.close()
    }
  } finally {
    rmSync(home, {recursive: true, force: true})
  }
})

test.run()
