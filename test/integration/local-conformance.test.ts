import {suite} from 'uvu'
import * as assert from 'uvu/assert'

import {DockerEngine} from '../../src/docker/engine.js'
import {LocalService} from '../../src/local/service.js'
import {fixtureImage} from '../fixtures/local/fixture.js'
import {signedFetch} from '../helpers/local.js'
import {startRie} from '../fixtures/local/rie.js'

/**
 * The same image and events through faas's local service and through the Runtime Interface
 * Emulator (built from source at a pinned commit): the same payloads and the same error shapes.
 * Known, deliberate difference: RIE answers 502 where Lambda (and faas) answer 200 with
 * X-Amz-Function-Error for init errors, crashes and oversize responses.
 */
const test = suite<{service: LocalService; image: string}>('local service vs. RIE')
const engine = new DockerEngine()

test.before(async (ctx) => {
  ctx.image = await fixtureImage(engine)
  ctx.service = await new LocalService(engine, {port: 0}).start()
})
test.after(async (ctx) => {
  await ctx.service?.close()
})

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g
const normalise = (text: string) => {
  try {
    return JSON.parse(text.replace(UUID, '<id>'))
  } catch {
    return text
  }
}

const cases: Array<{handler: string; event: unknown; timeoutS?: number; error?: string}> = [
  {handler: 'handler.echo', event: {value: 42, nested: {list: [1, 'two', null], unicode: 'żółw'}}},
  {handler: 'handler.trivial', event: {}},
  {handler: 'handler.handled', event: {value: 7}, error: 'ValueError'},
  {handler: 'handler.unhandled', event: {}, error: 'Runtime.MarshalError'},
  {handler: 'missing_module.handler', event: {}, error: 'Runtime.ImportModuleError'},
  {handler: 'handler.crash', event: {}, error: 'Runtime.ExitError'},
  {handler: 'handler.oversize', event: {}, error: 'Function.ResponseSizeTooLarge'},
]

for (const c of cases) {
  test(`${c.handler}: same payload${c.error ? ` (${c.error})` : ''} through faas and through RIE`, async (ctx) => {
    const name = c.handler.replace(/\W/g, '-')
    const create = await signedFetch(ctx.service, '/2015-03-31/functions', {
      method: 'POST',
      body: JSON.stringify({
        FunctionName: name,
        PackageType: 'Image',
        Code: {ImageUri: ctx.image},
        ImageConfig: {Command: [c.handler]},
        MemorySize: 512,
        Timeout: c.timeoutS ?? 30,
      }),
    })
    assert.is(create.status, 201)
    const ours = await signedFetch(ctx.service, `/2015-03-31/functions/${name}/invocations`, {
      method: 'POST',
      body: JSON.stringify(c.event),
    })
    const oursBody = await ours.text()
    const rie = await startRie(engine, ctx.image, c.handler, {timeoutS: c.timeoutS ?? 30})
    let rieStatus: number
    let rieBody: string
    try {
      const res = await fetch(rie.invokeUrl, {method: 'POST', body: JSON.stringify(c.event)})
      rieStatus = res.status
      rieBody = await res.text()
    } finally {
      await rie.close()
    }
    assert.equal(
      normalise(oursBody),
      normalise(rieBody),
      `faas: ${oursBody.slice(0, 300)}\nRIE:  ${rieBody.slice(0, 300)}`,
    )
    assert.is(ours.status, 200)
    if (c.error) {
      assert.is(normalise(oursBody).errorType, c.error)
      assert.is(ours.headers.get('x-amz-function-error'), 'Unhandled')
      assert.ok(rieStatus === 200 || rieStatus === 502, `RIE status ${rieStatus}`)
    } else {
      assert.is(rieStatus, 200)
      assert.is(ours.headers.get('x-amz-function-error'), null)
    }
  })
}

test.run()
