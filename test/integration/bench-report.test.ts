import {execFile} from 'node:child_process'
import {mkdtemp, readFile, rm, stat} from 'node:fs/promises'
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {promisify} from 'node:util'

import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {runBench} from '../../src/bench/bench.js'
import {httpInvoke} from '../helpers/http-invoke.js'
import {UserError} from '../../src/core/errors.js'
import {formatReport} from '../../src/core/report.js'
import {chromium, pngDetail} from '../helpers/chromium.js'

const run = promisify(execFile)

/**
 * A trivial Lambda-compatible Invoke API over HTTP: functions "hello" and "world"; the first call to
 * each is cold (its REPORT has Init Duration); unknown names get Lambda's 404.
 */
async function startEndpoint() {
  const known = new Set(['hello', 'world'])
  const warm = new Set<string>()
  let n = 0
  const server = http.createServer((req, res) => {
    const name = decodeURIComponent(/\/functions\/([^/]+)\/invocations/.exec(req.url ?? '')?.[1] ?? '')
    req.resume()
    req.on('end', () => {
      if (!known.has(name)) {
        res.writeHead(404, {'content-type': 'application/json', 'x-amzn-errortype': 'ResourceNotFoundException'})
        return res.end(JSON.stringify({Type: 'User', message: `Function not found: ${name}`}))
      }
      if (req.headers['x-amz-invocation-type'] === 'DryRun') return res.writeHead(204).end()
      const cold = !warm.has(name)
      warm.add(name)
      const id = `req-${++n}`
      const report = formatReport(id, {
        durationMs: 1.5,
        billedDurationMs: 2,
        memorySizeMb: 512,
        maxMemoryUsedMb: 30,
        ...(cold ? {initDurationMs: 120} : {}),
      })
      res.writeHead(200, {
        'content-type': 'application/json',
        'x-amzn-requestid': id,
        'x-amz-log-result': Buffer.from(`START RequestId: ${id}\nEND RequestId: ${id}\n${report}\n`).toString('base64'),
      })
      res.end(JSON.stringify({hello: name}))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {url, close: () => new Promise<void>((resolve) => server.close(() => resolve()))}
}

test('a run against an HTTP endpoint: records, cold flags, vHive file, a report Chromium renders', async () => {
  const endpoint = await startEndpoint()
  const invoke = httpInvoke(endpoint.url)
  const dir = await mkdtemp(join(tmpdir(), 'faas-bench-report-'))
  try {
    const result = await runBench(
      {
        functions: ['hello', 'world'],
        payload: '{"n":1}',
        rps: 50,
        durationS: 2,
        warmupS: 0,
        distribution: 'fixed',
        maxInFlight: 100,
        outDir: dir,
        latf: 'lat.csv',
        architecture: 'arm64',
      },
      {invoke, emit: () => {}},
    )
    const records = (await readFile(join(dir, 'records.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    assert.is(records.length, 100)
    assert.equal(
      records.filter((r) => r.cold).map((r) => r.seq),
      [0, 1],
    )
    assert.ok(records.every((r) => r.error === undefined && r.memoryMb === 512 && r.billedDurationUs === 2000))
    assert.is(result.summary.cold.count, 2)
    assert.is(result.summary.cold.initDurationUs?.p50, 120_000)
    assert.ok(Math.abs(result.summary.achievedRps - 50) < 3, `achieved ${result.summary.achievedRps}`)
    const lat = await readFile(join(dir, `rps${result.summary.achievedRps.toFixed(2)}_lat.csv`), 'utf8')
    assert.is(lat.trim().split('\n').length, 100)
    assert.ok(
      lat
        .trim()
        .split('\n')
        .every((l) => /^\d+$/.test(l)),
    )

    const html = join(dir, 'report.html')
    const text = await readFile(html, 'utf8')
    assert.not.match(text, /https?:\/\/(?!www\.w3\.org)/, 'no network references')
    const {stdout: dom} = await chromium(dir, '--dump-dom', `file://${html}`)
    for (const id of ['latency-over-time', 'latency-cdf', 'cold-warm', 'summary'])
      assert.ok(dom.includes(`id="${id}"`), `the DOM has #${id}`)
    assert.ok((dom.match(/<circle /g) ?? []).length >= 100, 'the timeline has a point per call')
    assert.ok(dom.includes('class="cdf client"'))
    assert.ok(dom.includes('class="bar cold"') && dom.includes('class="bar warm"'))

    const png = join(dir, 'report.png')
    await chromium(dir, `--screenshot=${png}`, '--window-size=1200,900', `file://${html}`)
    assert.ok((await stat(png)).size > 20_000, 'the screenshot has content')
    const detail = pngDetail(await readFile(png))
    assert.equal([detail.width, detail.height], [1200, 900])
    assert.ok(detail.nonZero > 0.01, `the page is not blank (${detail.nonZero})`)
    if (process.env.FAAS_KEEP_SCREENSHOT) await run('cp', [png, process.env.FAAS_KEEP_SCREENSHOT])
  } finally {
    invoke.close()
    await endpoint.close()
    await rm(dir, {recursive: true, force: true})
  }
})

test('an unknown function on a real endpoint is refused before the run', async () => {
  const endpoint = await startEndpoint()
  const invoke = httpInvoke(endpoint.url)
  const dir = await mkdtemp(join(tmpdir(), 'faas-bench-report-'))
  try {
    await runBench(
      {
        functions: ['hello', 'ghost'],
        payload: '{}',
        rps: 5,
        durationS: 1,
        warmupS: 0,
        distribution: 'fixed',
        maxInFlight: 10,
        outDir: dir,
        latf: 'lat.csv',
        architecture: 'arm64',
      },
      {invoke, emit: () => {}},
    )
    assert.unreachable()
  } catch (error) {
    assert.instance(error, UserError)
    assert.is((error as UserError).code, 'UNKNOWN_FUNCTION')
    assert.ok((error as UserError).paragraph.includes('"ghost"'))
  } finally {
    invoke.close()
    await endpoint.close()
    await rm(dir, {recursive: true, force: true})
  }
})

test.run()
