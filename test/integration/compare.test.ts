import {mkdir, mkdtemp, readFile, rm, stat, writeFile} from 'node:fs/promises'
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {runBench} from '../../src/bench/bench.js'
import {httpProtocol} from '../../src/bench/protocols/http.js'
import {chromium, pngDetail} from '../helpers/chromium.js'
import {assertUserError, faas, faasJson} from '../helpers/cli.js'

/**
 * Two real bench runs over HTTP against Knative-style servers on loopback, one answering at once and
 * one 8 ms later, compared through the built binary; the report is checked in headless Chromium.
 */
async function startServer(delayMs: number) {
  const server = http.createServer((req, res) => {
    req.resume()
    req.on('end', () =>
      setTimeout(() => res.writeHead(200, {'content-type': 'application/json'}).end('{"ok":true}'), delayMs),
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  }
}

const dir = await mkdtemp(join(tmpdir(), 'faas-compare-'))
const fast = await startServer(0)
const slow = await startServer(8)

async function bench(out: string, functions: string[], durationS = 3) {
  const invoker = httpProtocol({maxSockets: 50, timeoutMs: 10_000})
  try {
    await runBench(
      {
        protocol: 'http',
        functions,
        payload: '{"n":1}',
        rps: 40,
        durationS,
        warmupS: 0,
        distribution: 'fixed',
        maxInFlight: 50,
        outDir: join(dir, out),
        latf: 'lat.csv',
        architecture: 'arm64',
      },
      {invoke: invoker.invoke, check: invoker.check, emit: () => {}},
    )
  } finally {
    invoker.close()
  }
  return join(dir, out)
}

test.after(async () => {
  await fast.close()
  await slow.close()
  await rm(dir, {recursive: true, force: true})
})

test('compare: a table, comparison.json, one offline report; the intervals see an 8 ms difference', async () => {
  const a = await bench('fast', [fast.address])
  const b = await bench('slow', [slow.address])
  const out = join(dir, 'cmp')
  const text = await faas(['compare', a, b, '--out', out])
  assert.is(text.exitCode, 0, text.stderr)
  assert.match(text.stdout, /run\s+protocol\s+calls\s+errors/)
  assert.match(text.stdout, new RegExp(`${b.replaceAll('/', '\\/')}\\s+http\\s+120\\s+0`))
  assert.match(text.stdout, /is faster than .*fast.* \(p50\)|fast is faster than/)

  const json = await faasJson(['compare', a, b, '--out', out])
  const [difference] = json.result.differences
  assert.is(json.result.baseline, a)
  assert.is(json.result.runs.length, 2)
  // The slow server adds 8 ms to every call: the p50 difference's interval lies around it, above zero.
  assert.ok(difference.p50.lo > 4 && difference.p50.hi < 20, JSON.stringify(difference.p50))
  assert.ok(difference.p90.lo > 0 && difference.p99.estimate > 0)
  assert.match(difference.verdict, /fast is faster than .*slow by/)
  assert.equal(JSON.parse(await readFile(join(out, 'comparison.json'), 'utf8')).differences[0].p50, difference.p50)

  const html = join(out, 'report.html')
  const page = await readFile(html, 'utf8')
  assert.not.match(page, /https?:\/\/(?!www\.w3\.org)/, 'no network references')
  assert.not.match(page, /<script/i)
  const {stdout: dom} = await chromium(dir, '--dump-dom', `file://${html}`)
  for (const id of ['runs', 'cdf-overlay', 'differences']) assert.ok(dom.includes(`id="${id}"`), `the DOM has #${id}`)
  assert.ok(dom.includes('class="cdf run-0"') && dom.includes('class="cdf run-1"'), 'one CDF per run on the same axes')
  assert.match(dom, /<td>\+\d+\.\d\d \[\+\d+\.\d\d, \+\d+\.\d\d\]<\/td>/, 'differences with their interval')
  const png = join(dir, 'compare.png')
  await chromium(dir, `--screenshot=${png}`, '--window-size=1000,900', `file://${html}`)
  assert.ok((await stat(png)).size > 20_000)
  assert.ok(pngDetail(await readFile(png)).nonZero > 0.01, 'the page is not blank')
})

test('compare pairs several endpoints by position and compares each', async () => {
  const a = await bench('two-a', [fast.address, slow.address], 2)
  const b = await bench('two-b', [slow.address, fast.address], 2)
  const json = await faasJson(['compare', a, b, '--out', join(dir, 'cmp-two')])
  assert.is(json.exitCode, 0, json.stderr)
  const scopes = json.result.differences.map((d: {scope: string}) => d.scope)
  assert.equal(scopes, ['all calls', `${fast.address} / ${slow.address}`, `${slow.address} / ${fast.address}`])
  assert.ok(json.result.differences[1].p50.lo > 0, 'endpoint 1 got slower')
  assert.ok(json.result.differences[2].p50.hi < 0, 'endpoint 2 got faster')
  const {stdout: dom} = await chromium(dir, '--dump-dom', `file://${join(dir, 'cmp-two', 'report.html')}`)
  assert.ok(dom.includes('id="cdf-endpoint-0"') && dom.includes('id="cdf-endpoint-1"'))
})

test('mismatched or invalid result folders: one clear paragraph each, nothing written', async () => {
  const one = join(dir, 'fast')
  const two = join(dir, 'two-a')
  const out = join(dir, 'never')
  assertUserError(
    await faas(['compare', one, two, '--out', out]),
    /fast drove 1 endpoint\(s\) .* but .*two-a drove 2 .*cannot be paired\. Compare runs of the same endpoints in the same order/s,
  )
  assertUserError(await faas(['compare', one, `${one}/`, '--out', out]), /fast is given twice/)
  assertUserError(await faas(['compare', one, '--out', out]), /needs at least two results folders/)
  assertUserError(await faas(['compare', one, join(dir, 'nowhere'), '--out', out]), /nowhere is not a folder/)
  const empty = join(dir, 'empty')
  await mkdir(empty)
  assertUserError(
    await faas(['compare', one, empty, '--out', out]),
    /empty is not a faas bench results folder \(no summary\.json\)/,
  )
  const sweep = join(dir, 'sweep')
  await mkdir(sweep)
  await writeFile(join(sweep, 'sweep.json'), '[]')
  assertUserError(await faas(['compare', one, sweep, '--out', out]), /sweep is a memory sweep.*memory-1024/s)
  const broken = join(dir, 'broken')
  await mkdir(broken)
  await writeFile(join(broken, 'summary.json'), '{"count": 1')
  assertUserError(await faas(['compare', one, broken, '--out', out]), /broken\/summary\.json is not valid JSON/)
  await stat(out).then(
    () => assert.unreachable('no report for refused input'),
    () => {},
  )
})

test.run()
