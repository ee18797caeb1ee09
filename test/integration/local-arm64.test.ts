import {CreateFunctionCommand, InvokeCommand} from '@aws-sdk/client-lambda'
import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {parseReport} from '../../src/core/report.js'
import {findContainersByLabel} from '../../src/docker/containers.js'
import {FUNCTION_LABEL} from '../../src/local/contracts.js'
import {DockerEngine} from '../../src/docker/engine.js'
import {LABEL} from '../../src/local/contracts.js'
import {hostArchitecture} from '../../src/local/options.js'
import {LocalService} from '../../src/local/service.js'
import {fixtureImage} from '../fixtures/local/fixture.js'
import {lambdaClient} from '../helpers/local.js'

/** The default platform is linux/arm64: its images run on an amd64 host under qemu emulation. */
test('an arm64 image runs in the local service (under emulation) with cold then warm starts', async () => {
  const engine = new DockerEngine()
  const image = await fixtureImage(engine, 'behaviours', 'arm64')
  assert.is((await engine.inspectImage(image))?.architecture, 'arm64')
  const service = await new LocalService(engine, {port: 0, initTimeoutMs: 60_000}).start()
  try {
    const lambda = lambdaClient(service)
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'arm',
        Role: 'r',
        PackageType: 'Image',
        Code: {ImageUri: image},
        ImageConfig: {Command: ['handler.echo']},
        Architectures: ['arm64'],
        MemorySize: 1769,
        Timeout: 30,
      }),
    )
    const call = async () => {
      const out = await lambda.send(
        new InvokeCommand({FunctionName: 'arm', Payload: Buffer.from('{"arch":"arm64"}'), LogType: 'Tail'}),
      )
      return {
        payload: JSON.parse(Buffer.from(out.Payload!).toString()),
        report: parseReport(Buffer.from(out.LogResult!, 'base64').toString()),
      }
    }
    const cold = await call()
    assert.equal(cold.payload, {arch: 'arm64'})
    assert.ok(Number(cold.report?.initDurationMs) > 0)
    assert.is(cold.report?.emulated, true, 'figures from an emulated environment say so')
    const warm = await call()
    assert.is(warm.report?.initDurationMs, undefined)
    assert.is(warm.report?.emulated, true)
    // Emulated: the memory's CPU share times the emulation factor, capped at the host's cores; memory as set.
    const [container] = (await findContainersByLabel(engine, `${LABEL}=${service.options.instanceId}`)).filter(
      (c) => c.labels[FUNCTION_LABEL],
    )
    const host = (
      (await engine.docker.getContainer(container!.id).inspect()) as {
        HostConfig: {NanoCpus: number; Memory: number; ReadonlyRootfs: boolean}
      }
    ).HostConfig
    assert.is(
      host.NanoCpus,
      Math.round(Math.min(service.options.hostCpus, 1 * service.options.emulationCpuFactor) * 1e9),
    )
    assert.is(host.Memory, 1769 * 1024 * 1024)
    assert.is(host.ReadonlyRootfs, true)
  } finally {
    await service.close()
  }
})

test("a native image gets its memory's CPU share only, and is not marked emulated", async () => {
  const engine = new DockerEngine()
  const image = await fixtureImage(engine, 'behaviours', hostArchitecture() as 'amd64' | 'arm64')
  const service = await new LocalService(engine, {port: 0}).start()
  try {
    const lambda = lambdaClient(service)
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'native',
        Role: 'r',
        PackageType: 'Image',
        Code: {ImageUri: image},
        ImageConfig: {Command: ['handler.echo']},
        MemorySize: 1769,
        Timeout: 30,
      }),
    )
    const out = await lambda.send(
      new InvokeCommand({FunctionName: 'native', Payload: Buffer.from('{}'), LogType: 'Tail'}),
    )
    assert.is(parseReport(Buffer.from(out.LogResult!, 'base64').toString())?.emulated, undefined)
    const [container] = (await findContainersByLabel(engine, `${LABEL}=${service.options.instanceId}`)).filter(
      (c) => c.labels[FUNCTION_LABEL],
    )
    assert.is(
      ((await engine.docker.getContainer(container!.id).inspect()) as {HostConfig: {NanoCpus: number}}).HostConfig
        .NanoCpus,
      1e9,
    )
  } finally {
    await service.close()
  }
})

test.run()
