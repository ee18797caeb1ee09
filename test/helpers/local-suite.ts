import {CreateFunctionCommand, type CreateFunctionCommandInput, type LambdaClient} from '@aws-sdk/client-lambda'
import {suite} from 'uvu'
import * as assert from 'uvu/assert'

import {findContainersByLabel} from '../../src/docker/containers.js'
import {DockerEngine} from '../../src/docker/engine.js'
import {LABEL} from '../../src/local/contracts.js'
import {LocalService} from '../../src/local/service.js'
import type {ServiceOptions} from '../../src/local/types.js'
import {fixtureImage} from '../fixtures/local/fixture.js'
import {lambdaClient} from './local.js'

export interface LocalSuiteContext {
  service: LocalService
  lambda: LambdaClient
  /** The behaviours fixture (test/fixtures/local): one handler per behaviour a test needs. */
  image: string
}

export const engine = new DockerEngine()

/**
 * A suite over one local service with real containers, driven through the real SDK: the service starts before the
 * suite (on a free port, with `options`), and closing it must leave no container of its own behind.
 */
export function localServiceSuite(name: string, options: Partial<ServiceOptions> = {}) {
  const test = suite<LocalSuiteContext>(name)
  test.before(async (ctx) => {
    ctx.image = await fixtureImage(engine)
    ctx.service = await new LocalService(engine, {port: 0, ...options}).start()
    ctx.lambda = lambdaClient(ctx.service)
  })
  test.after(async (ctx) => {
    const id = ctx.service?.options.instanceId
    ctx.lambda?.destroy()
    await ctx.service?.close()
    if (id) assert.equal(await findContainersByLabel(engine, `${LABEL}=${id}`), [], 'close() removes every container')
  })
  return test
}

/** Creates a function of the fixture image running `handler` (512 MB and 30 s unless `extra` says otherwise). */
export async function createFixtureFunction(
  ctx: Pick<LocalSuiteContext, 'lambda' | 'image'>,
  name: string,
  handler: string,
  extra: Partial<CreateFunctionCommandInput> = {},
): Promise<void> {
  await ctx.lambda.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Role: 'arn:aws:iam::000000000000:role/x',
      PackageType: 'Image',
      Code: {ImageUri: ctx.image},
      ImageConfig: {Command: [handler]},
      MemorySize: 512,
      Timeout: 30,
      ...extra,
    }),
  )
}
