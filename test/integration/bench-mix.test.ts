import {mkdtemp, readFile, writeFile} from 'node:fs/promises'
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {assertUserError, faas, faasJson} from '../helpers/cli.js'

/**
 * bench --protocol http --mix through the built CLI against an HTTP server in this process that keeps every
 * request it got (method, path, content type, body): what the mix file declares is what is sent, in the shares of
 * its weights, and the records and report have a row per request name.
 */
interface Seen {
  method: string
  url: string
  type?: string
  body: string
}
let server: http.Server
let base = ''
let seen: Seen[] = []

test.before(async () => {
  server = http.createServer((req, res) => {
    let body = ''
    req.on('data', (d) => (body += d))
    req.on('end', () => {
      seen.push({method: req.method!, url: req.url!, type: req.headers['content-type'], body})
      res.writeHead(req.url === '/dev/missing' ? 404 : 200, {'content-type': 'application/json'}).end('{"ok":true}')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

test.after(() => void server.close())

const env = async () => ({FAAS_HOME: await mkdtemp(join(tmpdir(), 'faas-home-'))})
const mixFile = async (text: string) => {
  const file = join(await mkdtemp(join(tmpdir(), 'faas-mix-')), 'mix.yaml')
  await writeFile(file, text)
  return file
}
const MIX = `
requests:
  - {name: search, weight: 60, path: /dev/stateflow, body: {op: search, tenant: bench}}
  - {name: recommend, weight: 39, path: /dev/stateflow, headers: {x-route: rec}, body: '{"op":"recommend"}'}
  - {name: health, weight: 1, method: GET, path: /dev/health}
  - {name: missing, weight: 10, method: DELETE, path: /dev/missing}
`

test('a mix sends each request as declared, in its weights, seeded; records and report per request name', async () => {
  const file = await mixFile(MIX)
  const runs: string[][] = []
  for (const _ of [1, 2]) {
    seen = []
    const dir = await mkdtemp(join(tmpdir(), 'faas-mix-out-'))
    const run = await faasJson(
      ['bench', '--protocol', 'http', '--mix', file, '--base-url', base, '--rps', '100', '--time', '2', '-o', dir],
      {env: await env()},
    )
    assert.is(run.exitCode, 0, run.stderr)
    assert.is(run.result.summary.count, 200)
    assert.is(seen.length, 200, 'every arrival sent one request')
    const records = (await readFile(join(dir, 'records.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .sort((a, b) => a.seq - b.seq)
    runs.push(records.map((r) => r.function))
    const count = (name: string) => records.filter((r) => r.function === name).length
    assert.ok(count('search') > 80 && count('search') < 140, `search ${count('search')} of 200 (60/110)`)
    assert.ok(count('missing') > 5, `missing ${count('missing')}`)
    assert.ok(
      records.filter((r) => r.function === 'missing').every((r) => r.error),
      'a 404 is an error',
    )
    const report = await readFile(join(dir, 'report.html'), 'utf8')
    for (const name of ['search', 'recommend', 'missing']) assert.match(report, `<th>${name}</th>`)
  }
  assert.equal(runs[0], runs[1], 'the same seed, the same sequence of requests')
  const search = seen.find((s) => s.body.includes('search'))!
  assert.equal(search, {
    method: 'POST',
    url: '/dev/stateflow',
    type: 'application/json',
    body: '{"op":"search","tenant":"bench"}',
  })
  assert.ok(seen.filter((s) => s.url === '/dev/health').every((s) => s.method === 'GET' && s.body === ''))
  assert.ok(seen.filter((s) => s.url === '/dev/missing').every((s) => s.method === 'DELETE'))
  assert.ok(seen.some((s) => s.body === '{"op":"recommend"}'))
})

test('bad mix input is refused before any request is sent', async () => {
  seen = []
  const file = await mixFile(MIX)
  assertUserError(
    await faas(['bench', '--mix', file, '--base-url', base, '--rps', '1', '--time', '1'], {env: await env()}),
    /--mix sends HTTP requests; it needs --protocol http/,
  )
  assertUserError(
    await faas(['bench', '--protocol', 'http', '--mix', file, '--rps', '1', '--time', '1'], {env: await env()}),
    /mix\.yaml: search gives a path, but there is no baseUrl/,
  )
  const bad = await mixFile('requests: [{name: a, weight: -1, url: "http://127.0.0.1:1/"}]')
  assertUserError(
    await faas(['bench', '--protocol', 'http', '--mix', bad, '--rps', '1', '--time', '1'], {env: await env()}),
    /"weight" must be a number above 0/,
  )
  const closed = await mixFile('requests: [{name: a, weight: 1, url: "http://127.0.0.1:1/x"}]')
  assertUserError(
    await faas(['bench', '--protocol', 'http', '--mix', closed, '--rps', '1', '--time', '1'], {env: await env()}),
    /a's URL http:\/\/127\.0\.0\.1:1 does not accept connections/,
  )
  assert.is(seen.length, 0)
})

test.run()
