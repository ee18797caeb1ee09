import {spawn} from 'node:child_process'
import {mkdtemp, readdir, readFile, rm, writeFile} from 'node:fs/promises'
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {waitFor} from '../helpers/wait.js'

/**
 * The built CLI (`node bin/run.js bench`, after npm run build) on the aws target, with the Lambda
 * endpoint pointed (AWS_ENDPOINT_URL_LAMBDA) at a trivial Lambda-compatible Invoke API, as the SDK
 * honours for any emulator.
 */
const root = fileURLToPath(new URL('../..', import.meta.url))
const SECRET = 'bench-secret-value-do-not-print'

async function startEndpoint() {
  const warm = new Set<string>()
  const hits = new Map<string, number>()
  const server = http.createServer((req, res) => {
    const name = decodeURIComponent(/\/functions\/([^/]+)\/invocations/.exec(req.url ?? '')?.[1] ?? '')
    req.resume()
    req.on('end', () => {
      hits.set(name, (hits.get(name) ?? 0) + 1)
      if (name === 'throttled' && req.headers['x-amz-invocation-type'] !== 'DryRun') {
        res.writeHead(429, {'content-type': 'application/json', 'x-amzn-errortype': 'TooManyRequestsException'})
        return res.end(
          JSON.stringify({
            Type: 'User',
            message: 'Rate Exceeded.',
            Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded',
          }),
        )
      }
      if (name === 'throttled') return res.writeHead(204).end()
      if (name !== 'hello') {
        res.writeHead(404, {'content-type': 'application/json', 'x-amzn-errortype': 'ResourceNotFoundException'})
        return res.end(JSON.stringify({Type: 'User', Message: `Function not found: ${name}`}))
      }
      if (req.headers['x-amz-invocation-type'] === 'DryRun') return res.writeHead(204).end()
      const cold = !warm.has(name)
      warm.add(name)
      const log =
        `REPORT RequestId: r\tDuration: 1.00 ms\tBilled Duration: 1 ms\tMemory Size: 128 MB\tMax Memory ` +
        `Used: 20 MB\t${cold ? 'Init Duration: 50.00 ms\t' : ''}\n`
      res
        .writeHead(200, {'content-type': 'application/json', 'x-amz-log-result': Buffer.from(log).toString('base64')})
        .end('{}')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    close: () => new Promise<void>((r) => server.close(() => r())),
  }
}

function cli(args: string[], endpoint: string) {
  const child = spawn(process.execPath, ['bin/run.js', 'bench', '--target', 'aws', ...args], {
    cwd: root,
    env: {
      ...process.env,
      AWS_ENDPOINT_URL_LAMBDA: endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AKIDBENCHTEST',
      AWS_SECRET_ACCESS_KEY: SECRET,
      CI: '1',
    },
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return {child, exited, out: () => stdout, err: () => stderr}
}

const withSetup = async (fn: (endpoint: string, dir: string, hits: Map<string, number>) => Promise<void>) => {
  const endpoint = await startEndpoint()
  const dir = await mkdtemp(join(tmpdir(), 'faas-bench-cli-'))
  try {
    await fn(endpoint.url, dir, endpoint.hits)
  } finally {
    await endpoint.close()
    await rm(dir, {recursive: true, force: true})
  }
}

test('--json: a short run returns the result object and writes every file; no secret anywhere', () =>
  withSetup(async (endpoint, dir) => {
    const run = cli(['--function_name', 'hello', '--rps', '20', '--time', '1', '--out', dir, '--json'], endpoint)
    assert.is(await run.exited, 0, run.err())
    const result = JSON.parse(run.out())
    assert.is(result.kind, 'load')
    assert.is(result.summary.count, 20)
    assert.is(result.summary.cold.count, 1)
    assert.is(run.err(), '', 'progress is silent with --json')
    const files = await readdir(dir)
    for (const f of ['records.jsonl', 'records.csv', 'summary.json', 'report.html', 'rps20.00_lat.csv'])
      assert.ok(files.includes(f), `${f} in ${files}`)
    for (const f of files) assert.not.ok((await readFile(join(dir, f), 'utf8')).includes(SECRET), f)
    assert.not.ok(run.out().includes(SECRET))
  }))

test('the vHive endpoints file and -latf naming, as the seed invoker uses them', () =>
  withSetup(async (endpoint, dir) => {
    const file = join(dir, 'endpoints.json')
    await writeFile(file, '[{"hostname": "hello", "eventing": false, "matchers": null}]')
    const out = join(dir, 'out')
    const run = cli(
      ['--endpoints', file, '--rps', '10', '--time', '1', '--latf', '1_hello.csv', '--out', out],
      endpoint,
    )
    assert.is(await run.exited, 0, run.err())
    const lat = await readFile(join(out, 'rps10.00_1_hello.csv'), 'utf8')
    assert.is(lat.trim().split('\n').length, 10)
    assert.ok(run.out().includes('rate: requested 10 rps, achieved 10.00 rps'), run.out())
  }))

test('on aws, throttled calls are recorded as errors, not retried away', () =>
  withSetup(async (endpoint, dir, hits) => {
    const run = cli(['-f', 'throttled', '--rps', '10', '--time', '1', '--out', dir, '--json'], endpoint)
    assert.is(await run.exited, 0, run.err())
    const result = JSON.parse(run.out())
    assert.is(result.summary.count, 10)
    assert.is(result.summary.errors, 10)
    assert.is(hits.get('throttled'), 11, 'one DryRun check, then exactly one request per call')
    const record = JSON.parse((await readFile(join(dir, 'records.jsonl'), 'utf8')).split('\n')[0]!)
    assert.match(record.error, /TooManyRequests|throttl/i)
  }))

test('Ctrl-C stops the run cleanly, exit 0, and keeps what it measured', () =>
  withSetup(async (endpoint, dir) => {
    const run = cli(['-f', 'hello', '--rps', '20', '--time', '120', '--out', dir], endpoint)
    // Wait for the live progress line to show calls completing, then interrupt.
    let exited: unknown
    void run.exited.then((code) => (exited = code))
    await waitFor(
      'a progress line with completed calls',
      () => /bench: \ds\s+[\d.]+ rps\s+\d+ in flight\s+[1-9]\d*\/\d+ done/.test(run.err()),
      {intervalMs: 100, giveUp: () => (exited === undefined ? undefined : `exited early (${exited}): ${run.err()}`)},
    )
    run.child.kill('SIGINT')
    assert.is(await run.exited, 0, run.err())
    const summary = JSON.parse(await readFile(join(dir, 'summary.json'), 'utf8'))
    assert.is(summary.interrupted, true)
    assert.ok(summary.count >= 20 && summary.count < 400, `count ${summary.count}`)
    assert.ok(run.out().includes('(interrupted)'))
    const records = (await readFile(join(dir, 'records.jsonl'), 'utf8')).trim().split('\n')
    assert.is(records.length, summary.count)
  }))

test('bad input: clear one-paragraph messages, exit 1, no stack trace', () =>
  withSetup(async (endpoint, dir) => {
    const cases: Array<[string[], string]> = [
      [['-f', 'hello', '--rps', '0'], '--rps is 0; it must be a number above 0 and at most 10000'],
      [['-f', 'hello', '--time', '-3'], '--time is -3'],
      [['-f', 'hello', '--memory', '128,99999'], '--memory value "99999"'],
      [['-f', 'nope', '--rps', '1', '--time', '1', '--out', dir], 'Function "nope" is not deployed'],
      [['--endpoints', join(dir, 'missing.json')], 'Cannot read the endpoints file'],
    ]
    for (const [args, message] of cases) {
      const run = cli(args, endpoint)
      assert.is(await run.exited, 1, args.join(' '))
      assert.ok(run.err().includes(message), `${args.join(' ')}: ${run.err()}`)
      assert.not.ok(/\n\s+at /.test(run.err()), 'no stack trace')
    }
  }))

test.run()
