import {CreateFunctionCommand, InvokeCommand, LambdaClient} from '@aws-sdk/client-lambda'
import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {parseReport} from '../../src/core/report.js'
import {DockerEngine} from '../../src/docker/engine.js'
import {LocalService} from '../../src/local/service.js'
import {fixtureImage} from '../fixtures/local/fixture.js'

/** The default platform is linux/arm64: its images run on an amd64 host under qemu emulation. */
test('an arm64 image runs in the local service (under emulation) with cold then warm starts', async () => {
  const engine = new DockerEngine()
  const image = await fixtureImage(engine, 'behaviours', 'arm64')
  assert.is((await engine.inspectImage(image))?.architecture, 'arm64')
  const service = await new LocalService(engine, {port: 0, initTimeoutMs: 60_000}).start()
  try {
    const lambda = new LambdaClient({endpoint: service.url, region: 'us-east-1', credentials: service.credentials, maxAttempts: 1})
    await lambda.send(new CreateFunctionCommand({FunctionName: 'arm', Role: 'r', PackageType: 'Image', Code: {ImageUri: image}, ImageConfig: {Command: ['handler.echo']}, Architectures: ['arm64'], MemorySize: 1769, Timeout: 30}))
    const call = async () => {
      const out = await lambda.send(new InvokeCommand({FunctionName: 'arm', Payload: Buffer.from('{"arch":"arm64"}'), LogType: 'Tail'}))
      return {payload: JSON.parse(Buffer.from(out.Payload!).toString()), report: parseReport(Buffer.from(out.LogResult!, 'base64').toString())}
    }
    const cold = await call()
    assert.equal(cold.payload, {arch: 'arm64'})
    assert.ok(cold.report?.initDurationMs! > 0)
    const warm = await call()
    assert.is(warm.report?.initDurationMs, undefined)
  } finally {
    await service.close()
  }
})

test.run()
