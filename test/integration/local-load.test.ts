import {
  CreateFunctionCommand,
  DeleteFunctionCommand,
  InvokeCommand,
  LambdaClient,
  PutFunctionConcurrencyCommand,
  TooManyRequestsException,
} from '@aws-sdk/client-lambda'
import {NodeHttpHandler} from '@smithy/node-http-handler'
import {readdirSync} from 'node:fs'
import {Agent} from 'node:http'
import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {pollUntil} from '../../src/core/wait.js'
import {findContainersByLabel} from '../../src/docker/containers.js'
import {DockerEngine} from '../../src/docker/engine.js'
import {LABEL} from '../../src/local/contracts.js'
import {LocalService} from '../../src/local/service.js'
import {FUNCTION_LABEL} from '../../src/local/contracts.js'
import {fixtureImage} from '../fixtures/local/fixture.js'
import {lambdaClient} from '../helpers/local.js'

/**
 * A burst of concurrent calls (the 1,000-call figures are scripts/perf/local-load.ts): every call
 * completes or is throttled as Lambda would, none is lost or runs twice, and nothing leaks.
 */
const CALLS = 200
const engine = new DockerEngine()
const fds = () => readdirSync('/proc/self/fd').length

async function burst(lambda: LambdaClient, name: string) {
  const ids: string[] = []
  const reasons: string[] = []
  const others: unknown[] = []
  const perEnvironment = new Map<string, number>()
  await Promise.all(
    Array.from({length: CALLS}, async () => {
      try {
        const out = await lambda.send(new InvokeCommand({FunctionName: name, Payload: Buffer.from('{}')}))
        const body = JSON.parse(Buffer.from(out.Payload!).toString('utf8'))
        if (out.FunctionError) return void others.push(body)
        assert.is(body.request_id, out.$metadata.requestId, 'the caller gets the id of the invocation that ran')
        ids.push(body.request_id)
        perEnvironment.set(body.env, Math.max(perEnvironment.get(body.env) ?? 0, body.count))
      } catch (error) {
        if (error instanceof TooManyRequestsException) reasons.push(String(error.Reason))
        else others.push(error)
      }
    }),
  )
  // Each environment counts the invocations it ran in its own /tmp: the handler's side of the count.
  const handled = [...perEnvironment.values()].reduce((a, b) => a + b, 0)
  return {ids, unique: new Set(ids).size, handled, reasons, others, environments: perEnvironment.size}
}

test(`${CALLS} calls at limit 4, then reserved 4: done or 429, none lost or twice, nothing left over`, async () => {
  const image = await fixtureImage(engine)
  const fdsBefore = fds()
  const service = await new LocalService(engine, {
    port: 0,
    maxEnvironmentsPerFunction: 4,
    maxQueuedPerFunction: CALLS,
    queueTimeoutMs: 600_000,
  }).start()
  const agent = new Agent({keepAlive: true, maxSockets: CALLS})
  const lambda = lambdaClient(service, {
    requestHandler: new NodeHttpHandler({httpAgent: agent, requestTimeout: 600_000}),
  })
  const id = service.options.instanceId
  try {
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'limited',
        Role: 'r',
        PackageType: 'Image',
        Code: {ImageUri: image},
        ImageConfig: {Command: ['handler.count']},
        MemorySize: 128,
        Timeout: 30,
      }),
    )
    const limited = await burst(lambda, 'limited')
    assert.equal(limited.others, [], 'no other failure')
    assert.is(limited.ids.length, CALLS, 'with a queue long enough, every call completes')
    assert.is(limited.unique, CALLS, 'no request id twice')
    assert.is(limited.handled, CALLS, 'the handlers ran exactly as many invocations')
    assert.ok(
      limited.environments <= 4 && service.pools.get('limited')!.stats().peak <= 4,
      'never more environments than the limit',
    )

    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'reserved',
        Role: 'r',
        PackageType: 'Image',
        Code: {ImageUri: image},
        ImageConfig: {Command: ['handler.count']},
        MemorySize: 128,
        Timeout: 30,
      }),
    )
    await lambda.send(new PutFunctionConcurrencyCommand({FunctionName: 'reserved', ReservedConcurrentExecutions: 4}))
    const reserved = await burst(lambda, 'reserved')
    assert.equal(reserved.others, [], 'no other failure')
    assert.is(reserved.ids.length + reserved.reasons.length, CALLS, 'each call completed or was throttled')
    assert.ok(reserved.reasons.length > 0, 'calls past the reservation are throttled')
    assert.equal([...new Set(reserved.reasons)], ['ReservedFunctionConcurrentInvocationLimitExceeded'])
    assert.is(reserved.unique, reserved.ids.length)
    assert.is(reserved.handled, reserved.ids.length, 'a throttled call never ran')

    for (const name of ['limited', 'reserved']) await lambda.send(new DeleteFunctionCommand({FunctionName: name}))
    assert.equal(
      // The service's own loop keeper (disk-backed /tmp) lives with the service, not with a function.
      (await findContainersByLabel(engine, `${LABEL}=${id}`)).filter((c) => c.labels[FUNCTION_LABEL]),
      [],
      'deleting the functions removed their environments',
    )
  } finally {
    lambda.destroy()
    agent.destroy()
    await service.close()
  }
  assert.equal(await findContainersByLabel(engine, `${LABEL}=${id}`), [], 'no container left')
  assert.ok(
    await pollUntil(async () => fds() <= fdsBefore, {timeoutMs: 30_000}),
    `no fd left open: ${fds()} now, ${fdsBefore} before`,
  )
})

test.run()
