import {mkdtemp, readFile, writeFile} from 'node:fs/promises'
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {PROJECT_ROOT} from '../../src/core/paths.js'
import {assertUserError, faas, faasJson} from '../helpers/cli.js'

/**
 * Shaped load, thresholds and trace replay through the built CLI (npm run build) over the http
 * protocol, against a tiny HTTP server in this process that answers as the trace function does and
 * counts what it got (so "nothing was sent" can be asserted for bad input).
 */
let server: http.Server
let address = ''
let received = 0
let failEvery = 0
let delayMs = 0

test.before(async () => {
  server = http.createServer((req, res) => {
    let body = ''
    req.on('data', (d) => (body += d))
    req.on('end', () => {
      if (req.method === 'HEAD') return res.writeHead(200).end()
      received++
      const event = JSON.parse(body || '{}') as {ms?: number; mb?: number}
      const status = failEvery && received % failEvery === 0 ? 500 : 200
      setTimeout(() => {
        res.writeHead(status, {'content-type': 'application/json'})
        res.end(JSON.stringify({fn: 'trace-function', ms: event.ms ?? 0, mb: event.mb ?? 0}))
      }, delayMs)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  address = `127.0.0.1:${(server.address() as AddressInfo).port}`
})

test.after(() => void server.close())

const env = async () => ({FAAS_HOME: await mkdtemp(join(tmpdir(), 'faas-home-'))})
const out = () => mkdtemp(join(tmpdir(), 'faas-shapes-'))
const http_ = () => ['bench', '--protocol', 'http', '-f', address]

test('thresholds: all pass exits 0; a failed one exits 99 with the results written and each listed', async () => {
  failEvery = 0
  const dir = await out()
  const ok = await faas([...http_(), '--rps', '20', '--time', '1', '-o', dir, '--threshold', 'latency:p99<5s'], {
    env: await env(),
  })
  assert.is(ok.exitCode, 0, ok.stderr)
  assert.match(ok.stdout, /threshold latency:p99<5s: [\d.]+ ms pass/)
  failEvery = 4
  const dir2 = await out()
  const failed = await faasJson(
    [...http_(), '--rps', '20', '--time', '1', '-o', dir2, '--threshold', 'errors<1%', '--threshold', 'cold<5%'],
    {env: await env()},
  )
  failEvery = 0
  assert.is(failed.exitCode, 99, failed.stderr)
  assert.equal(
    failed.result.summary.thresholds.map((t: {threshold: string; pass: boolean}) => [t.threshold, t.pass]),
    [
      ['errors<1%', false],
      ['cold<5%', true],
    ],
  )
  const summary = JSON.parse(await readFile(join(dir2, 'summary.json'), 'utf8'))
  assert.is(summary.thresholds[0].value, 25)
})

test('--phases: per-phase calls as the schedule asks, each record carrying its phase', async () => {
  const dir = await out()
  const phases = join(dir, 'phases.yaml')
  await writeFile(phases, '- {duration: 1, rps: 10, name: low}\n- {duration: 1, rps: 10, rampTo: 30, name: up}\n')
  const run = await faasJson([...http_(), '--phases', phases, '-o', dir], {env: await env()})
  assert.is(run.exitCode, 0, run.stderr)
  assert.equal(
    run.result.summary.phases.map((p: {name: string; requested: number; sent: number}) => [
      p.name,
      p.requested,
      p.sent,
    ]),
    [
      ['low', 10, 10],
      ['up', 20, 20],
    ],
  )
  const lines = (await readFile(join(dir, 'records.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
  assert.is(lines.filter((r) => r.loadPhase === 'up').length, 20)
  assert.match(await readFile(join(dir, 'records.csv'), 'utf8'), /,loadPhase\n/)
  assert.match(await readFile(join(dir, 'report.html'), 'utf8'), /<table id="phases">/)
})

test('--trace over http: exactly the trace count per minute, trace fields in every record, invitro CSV', async () => {
  const dir = await out()
  const trace = join(PROJECT_ROOT, 'test', 'fixtures', 'trace', 'azure-2019')
  const before = received
  const run = await faasJson(
    [...http_(), '--trace', trace, '--speedup', '60', '--warmup-minutes', '1', '--trace-minutes', '3', '-o', dir],
    {env: await env()},
  )
  assert.is(run.exitCode, 0, run.stderr)
  assert.equal(
    run.result.summary.trace.minutes.map((m: {requested: number; sent: number}) => [m.requested, m.sent]),
    [
      [3, 3],
      [11, 11],
      [6, 6],
      [2, 2],
    ],
  )
  assert.is(received - before, 22)
  assert.is(run.result.summary.count, 19) // the warm-up minute is left out
  const records = (await readFile(join(dir, 'records.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
  for (const r of records) {
    assert.ok(['f1', 'f2', 'f3'].includes(r.traceFunction))
    assert.is(r.actualMs, r.requestedMs)
    assert.is(r.actualMemoryMb, r.requestedMemoryMb)
  }
  const invitro = (await readFile(join(dir, 'invitro.csv'), 'utf8')).trim().split('\n')
  assert.ok(invitro[0]!.startsWith('phase,instance,invocationID,startTime,requestedDuration,'))
  assert.is(invitro.length, 23)
  assert.match(await readFile(join(dir, 'report.html'), 'utf8'), /<table id="trace-minutes">/)
})

test('compare --fail-on: exit 99 when the second run is worse beyond bound and interval; 0 otherwise', async () => {
  const home = await env()
  const fast = await out()
  const slow = await out()
  assert.is((await faas([...http_(), '--rps', '40', '--time', '1', '-o', fast], {env: home})).exitCode, 0)
  delayMs = 20
  assert.is((await faas([...http_(), '--rps', '40', '--time', '1', '-o', slow], {env: home})).exitCode, 0)
  delayMs = 0
  const gate = ['--fail-on', 'latency:p50>+10%', '--fail-on', 'latency:p99>+500ms', '-o', await out()]
  const worse = await faasJson(['compare', fast, slow, ...gate], {env: home})
  assert.is(worse.exitCode, 99, worse.stderr)
  assert.equal(
    worse.result.failOn.map((r: {failOn: string; fail: boolean}) => [r.failOn, r.fail]),
    [
      ['latency:p50>+10%', true],
      ['latency:p99>+500ms', false],
    ],
  )
  const better = await faas(['compare', slow, fast, ...gate], {env: home})
  assert.is(better.exitCode, 0, better.stderr)
  assert.match(better.stdout, /fail-on latency:p50>\+10% \(.*\): -[\d.]+ ms .* pass/)
  assertUserError(await faas(['compare', fast, slow, '--fail-on', 'p99 worse'], {env: home}), /--fail-on "p99 worse"/)
})

test('bad input is a user error before any call is sent', async () => {
  const dir = await out()
  const before = received
  const home = await env()
  const bad = join(dir, 'bad.yaml')
  await writeFile(bad, '- {duration: 5}\n')
  const cases: Array<[string[], RegExp]> = [
    [['--phases', bad], /phase 1: rps undefined is not a rate/],
    [['--ramp', 'up'], /--ramp "up" is not FROM:TO/],
    [['--threshold', 'latency<fast'], /--threshold "latency<fast" is not metric/],
    [['--trace', dir], /has no invocations\.csv/],
    [['--trace', join(PROJECT_ROOT, 'test', 'fixtures', 'trace', 'azure-2021.csv'), '--speedup', '0'], /speedup/],
    [['--trace-minutes', '3'], /--trace-minutes applies to trace replay only/],
    [
      ['--trace', join(PROJECT_ROOT, 'test', 'fixtures', 'trace', 'azure-2021.csv'), '--warmup', '5'],
      /--warmup-minutes/,
    ],
  ]
  for (const [args, pattern] of cases) {
    const run = await faas([...http_(), ...args, '-o', dir], {env: home})
    assertUserError(run, pattern)
    assert.is(run.exitCode, 1)
  }
  assert.is(received, before)
})

test.run()
