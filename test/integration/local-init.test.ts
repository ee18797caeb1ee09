import {InvokeCommand, LambdaClient} from '@aws-sdk/client-lambda'
import * as assert from 'uvu/assert'

import {parseReport} from '../../src/core/report.js'
import {DockerEngine} from '../../src/docker/engine.js'
import {LocalService} from '../../src/local/service.js'
import {lambdaClient} from '../helpers/local.js'
import {createFixtureFunction, localServiceSuite} from '../helpers/local-suite.js'

/**
 * Lambda's init semantics with real containers: the init limit (short here, 1 s) suppresses an init
 * rather than failing the call; an init error is reported at once; Init Duration starts at
 * container start, not before create.
 */
const INIT_LIMIT_MS = 1000
const test = localServiceSuite('local init', {initTimeoutMs: INIT_LIMIT_MS})
const deploy = createFixtureFunction

async function invoke(lambda: LambdaClient, name: string) {
  const out = await lambda.send(new InvokeCommand({FunctionName: name, Payload: Buffer.from('{}'), LogType: 'Tail'}))
  const body = Buffer.from(out.Payload ?? new Uint8Array()).toString('utf8')
  const log = Buffer.from(out.LogResult ?? '', 'base64').toString('utf8')
  return {
    status: out.StatusCode,
    functionError: out.FunctionError,
    json: body ? JSON.parse(body) : undefined,
    log,
    report: parseReport(log),
  }
}

test('an init past the limit goes on in the first call, which is cold with the whole Init Duration', async (ctx) => {
  await deploy(ctx, 'suppressed', 'slowinit.handler', {Environment: {Variables: {INIT_SLEEP: '3'}}})
  const cold = await invoke(ctx.lambda, 'suppressed')
  assert.is(cold.functionError, undefined, JSON.stringify(cold.json))
  assert.is(cold.json.ok, true)
  assert.ok(Number(cold.report?.initDurationMs) >= 3000, `Init Duration counts the whole init: ${cold.log}`)
  assert.ok(Number(cold.report?.billedDurationMs) >= 3000, 'and is billed')
  const serviceLog = ctx.service.logs.get('suppressed')!.join('\n')
  assert.match(
    serviceLog,
    /INIT_REPORT Init Duration: 1000\.00 ms\tPhase: init\tStatus: timeout/,
    "the log says the init was suppressed, as Lambda's does",
  )
  const warm = await invoke(ctx.lambda, 'suppressed')
  assert.is(warm.functionError, undefined)
  assert.is(warm.report?.initDurationMs, undefined, 'the environment is kept: the next call is warm')
})

test("a suppressed init is bounded by the function's timeout", async (ctx) => {
  await deploy(ctx, 'suppressed-timeout', 'slowinit.handler', {
    Timeout: 2,
    Environment: {Variables: {INIT_SLEEP: '30'}},
  })
  const out = await invoke(ctx.lambda, 'suppressed-timeout')
  assert.is(out.functionError, 'Unhandled')
  assert.is(out.json.errorType, 'Sandbox.Timedout')
  assert.match(out.json.errorMessage, /Task timed out after 2\.00 seconds/)
  assert.match(out.log, /Status: timeout/)
  assert.ok(out.report?.initDurationMs !== undefined, 'still a cold call with its Init Duration')
})

test('an init error (the handler cannot be imported) is reported at once', async (ctx) => {
  await deploy(ctx, 'import-error', 'no_such_module.handler')
  const out = await invoke(ctx.lambda, 'import-error')
  assert.is(out.functionError, 'Unhandled')
  assert.is(out.json.errorType, 'Runtime.ImportModuleError', JSON.stringify(out.json))
  assert.match(out.log, /Status: error\tError Type: Runtime.ImportModuleError/)
})

test('an init error after the init limit fails the first invocation with that error', async (ctx) => {
  await deploy(ctx, 'late-init-error', 'slowinit.handler', {
    Environment: {Variables: {INIT_SLEEP: '2', INIT_FAIL: '1'}},
  })
  const out = await invoke(ctx.lambda, 'late-init-error')
  assert.is(out.functionError, 'Unhandled')
  assert.match(JSON.stringify(out.json), /init failed on purpose/)
  assert.match(
    ctx.service.logs.get('late-init-error')!.join('\n'),
    /Status: timeout[\s\S]*Phase: init\tStatus: error/,
    'suppressed, then failed',
  )
})

test('Init Duration and the init limit start at container start: a slow `docker create` is not in', async (ctx) => {
  // The same engine, with every create held back (as many cold starts at once make it on a busy machine).
  const slow = new DockerEngine()
  const create = slow.docker.createContainer.bind(slow.docker)
  const CREATE_DELAY_MS = 5000
  slow.docker.createContainer = (async (options: object) => {
    await new Promise((resolve) => setTimeout(resolve, CREATE_DELAY_MS))
    return create(options as never)
  }) as typeof slow.docker.createContainer
  const service = await new LocalService(slow, {port: 0, initTimeoutMs: 4000}).start()
  try {
    const lambda = lambdaClient(service)
    await deploy({lambda, image: ctx.image}, 'slow-create', 'handler.trivial')
    const out = await invoke(lambda, 'slow-create')
    assert.is(out.functionError, undefined, JSON.stringify(out.json))
    assert.ok(
      Number(out.report?.initDurationMs) < CREATE_DELAY_MS,
      `Init Duration excludes the create: ${out.report?.initDurationMs} ms`,
    )
  } finally {
    await service.close()
  }
})

test.run()
