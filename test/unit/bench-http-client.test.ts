// bench's HTTP client against real loopback servers: answers timed and read whole, at most
// `connections` open at once, and its two common failures said in words rather than undici's codes.
import {createServer, type Server} from 'node:http'
import type {AddressInfo, Socket} from 'node:net'

import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {httpClient} from '../../src/bench/http.js'

async function serve(handler: Parameters<typeof createServer>[1]): Promise<{server: Server; origin: string}> {
  const server = createServer(handler)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`}
}

const stop = (server: Server) => {
  server.closeAllConnections()
  server.close()
}

test('an answer comes back whole with its status, headers and the time it took', async () => {
  const {server, origin} = await serve((req, res) => {
    let body = ''
    req.on('data', (c) => (body += c))
    req.on('end', () => {
      res.writeHead(201, {'x-echo': req.method})
      res.end(`got ${body}`)
    })
  })
  const client = httpClient({connections: 4})
  try {
    const answer = await client.send({origin, method: 'POST', path: '/', body: '{"a":1}'})
    assert.is(answer.statusCode, 201)
    assert.is(answer.headers['x-echo'], 'POST')
    assert.is(answer.body, 'got {"a":1}')
    assert.ok(answer.clientLatencyUs > 0)
    assert.ok(Math.abs(answer.startedAtUs / 1000 - Date.now()) < 60_000, 'startedAtUs is µs since the epoch')
  } finally {
    client.close()
    stop(server)
  }
})

test('no more than `connections` calls are open at once; the rest wait their turn and all complete', async () => {
  // Calls are held and answered in waves, so every call the client lets out is open at the same time.
  const held: (() => void)[] = []
  let most = 0
  const {server, origin} = await serve((req, res) => {
    req.resume()
    held.push(() => res.end('{}'))
    most = Math.max(most, held.length)
  })
  const waves = setInterval(() => {
    for (const answer of held.splice(0)) answer()
  }, 50)
  const client = httpClient({connections: 3})
  try {
    const answers = await Promise.all(
      Array.from({length: 12}, () => client.send({origin, method: 'POST', path: '/', body: '{}'})),
    )
    assert.ok(answers.every((a) => a.statusCode === 200))
    assert.ok(most <= 3, `${most} calls open at once`)
  } finally {
    clearInterval(waves)
    client.close()
    stop(server)
  }
})

test('a server that never answers fails the call after the timeout, in words', async () => {
  const {server, origin} = await serve(() => {})
  const client = httpClient({connections: 1, timeoutMs: 200})
  try {
    const error = await client.send({origin, method: 'POST', path: '/', body: '{}'}).catch((e: Error) => e)
    assert.instance(error, Error)
    assert.is((error as Error).message, 'no answer within 0.2 s')
  } finally {
    client.close()
    stop(server)
  }
})

test('a server that drops the connection before answering is said so', async () => {
  const {server, origin} = await serve((req) => (req.socket as Socket).destroy())
  const client = httpClient({connections: 1})
  try {
    const error = await client.send({origin, method: 'POST', path: '/', body: '{}'}).catch((e: Error) => e)
    assert.instance(error, Error)
    assert.match((error as Error).message, /closed the connection before it answered|ECONNRESET/)
  } finally {
    client.close()
    stop(server)
  }
})

test.run()
