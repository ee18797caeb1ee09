// Open loop means open: with --max-in-flight 200 and a slow function, the server must see 200 calls
// at once from either target's invoker (the SDK's default agent would hold all but 50 inside the
// client, and their latency would be misattributed). A plain HTTP server stands in for the Lambda
// Invoke API; it answers every call once 200 are open, or at its deadline, so the test cannot hang.
import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'

import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {runLoad} from '../../src/bench/runner.js'
import {loadSettings} from '../../src/core/settings.js'
import {createTarget} from '../../src/targets/index.js'
import {createLocalTarget} from '../../src/targets/local.js'
import type {Target} from '../../src/targets/target.js'

const IN_FLIGHT = 200

/**
 * A Lambda Invoke API that holds every call until `wanted` are open (or 10 s passed), counting the most open at once.
 */
async function slowInvokeApi(wanted: number): Promise<{url: string; most: () => number; server: Server}> {
  let open = 0
  let most = 0
  let held: Array<() => void> = []
  const releaseAll = () => {
    for (const release of held) release()
    held = []
  }
  const server = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      open++
      most = Math.max(most, open)
      const timer = setTimeout(releaseAll, 10_000)
      held.push(() => {
        clearTimeout(timer)
        open--
        res.writeHead(200, {'content-type': 'application/json'}).end('{}')
      })
      if (open >= wanted) releaseAll()
    })
  })
  server.keepAliveTimeout = 60_000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, most: () => most, server}
}

async function inFlightThrough(
  makeTarget: (url: string) => Promise<Target>,
): Promise<{most: number; errors: number; count: number}> {
  const api = await slowInvokeApi(IN_FLIGHT)
  try {
    const target = await makeTarget(api.url)
    // 200 arrivals within 0.1 s, all allowed in flight at once.
    const result = await runLoad((request) => target.invoke(request), {
      functions: ['slow'],
      payload: '{}',
      rps: 2000,
      durationS: 0.1,
      maxInFlight: IN_FLIGHT,
    })
    return {most: api.most(), errors: result.records.filter((r) => r.error).length, count: result.records.length}
  } finally {
    api.server.closeAllConnections()
    await new Promise((resolve) => api.server.close(resolve))
  }
}

test('local target: the server sees all 200 calls in flight at once', async () => {
  const settings = loadSettings({AWS_REGION: 'us-east-1'})
  const seen = await inFlightThrough(async (url) =>
    createLocalTarget(settings, {
      endpoint: url,
      credentials: {accessKeyId: 'k', secretAccessKey: 's'},
      maxInFlight: IN_FLIGHT,
    }),
  )
  assert.equal(seen, {most: IN_FLIGHT, errors: 0, count: IN_FLIGHT})
})

test('AWS target: the server sees all 200 calls in flight at once', async () => {
  const saved = process.env.AWS_ENDPOINT_URL
  try {
    const seen = await inFlightThrough(async (url) => {
      process.env.AWS_ENDPOINT_URL = url
      return createTarget('aws', loadSettings({AWS_REGION: 'us-east-1', AWS_ACCESS_KEY: 'k', AWS_SECRET_KEY: 's'}), {
        maxInFlight: IN_FLIGHT,
      })
    })
    assert.equal(seen, {most: IN_FLIGHT, errors: 0, count: IN_FLIGHT})
  } finally {
    if (saved === undefined) delete process.env.AWS_ENDPOINT_URL
    else process.env.AWS_ENDPOINT_URL = saved
  }
})

test.run()
