import {spawn} from 'node:child_process'
import {createCipheriv} from 'node:crypto'
import {mkdtemp, readdir, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {grpcProtocol} from '../../src/bench/protocols/grpc.js'
import {httpProtocol} from '../../src/bench/protocols/http.js'
import {PROJECT_ROOT} from '../../src/core/paths.js'
import {pollUntil} from '../../src/core/wait.js'
import {assertUserError, faas, faasJson} from '../helpers/cli.js'
import {freePort} from '../helpers/net.js'

/**
 * `faas serve` runs the Greeter fixture (test/fixtures/serve/greeter: a gRPC helloworld.Greeter and an
 * HTTP POST / server around a tiny handler) as a real container on loopback ports, and `faas bench
 * --protocol grpc|http` drives it through the built binary.
 */
const home = await mkdtemp(join(tmpdir(), 'faas-protocols-home-'))
const work = await mkdtemp(join(tmpdir(), 'faas-protocols-'))
const env = {
  FAAS_HOME: home,
  FAAS_BENCHMARKS_DIR: join(PROJECT_ROOT, 'test/fixtures/serve'),
  FAAS_PLATFORM: 'linux/amd64',
}
// Ports of h6's range (9550-9599) for the servers; the engine picks the others.
const GRPC_PORT = 9571
const HTTP_PORT = 9572
const AES_PORT = 9573

const records = async (dir: string) =>
  (await readFile(join(dir, 'records.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
const latencyFile = async (dir: string) => {
  const name = (await readdir(dir)).find((f) => /^rps[\d.]+_lat\.csv$/.test(f))
  assert.ok(name, `a vHive latency file in ${dir}`)
  return (await readFile(join(dir, name!), 'utf8')).trim().split('\n').filter(Boolean)
}
const endpointsFile = async (name: string, endpoints: unknown) => {
  const file = join(work, name)
  await writeFile(file, JSON.stringify(endpoints))
  return file
}

test.after(async () => {
  await faas(['serve', '--stop'], {env})
  await rm(home, {recursive: true, force: true})
  await rm(work, {recursive: true, force: true})
})

test('serve starts the Greeter on loopback, prints its endpoints file; a second serve reuses it', async () => {
  const first = await faasJson(['serve', 'greeter', '--port', String(GRPC_PORT)], {env})
  assert.is(first.exitCode, 0, first.stderr)
  assert.equal(first.result.endpoints, [{hostname: `127.0.0.1:${GRPC_PORT}`, eventing: false, matchers: null}])
  assert.is(first.result.protocol, 'grpc')
  assert.ok(['started', 'replaced'].includes(first.result.served[0].action))
  const again = await faas(['serve', 'greeter', '--port', String(GRPC_PORT)], {env})
  assert.is(again.exitCode, 0, again.stderr)
  assert.equal(JSON.parse(again.stdout), first.result.endpoints, 'plain output is the endpoints file itself')
  assert.match(again.stderr, /reusing the running server/)
})

test('bench over gRPC: a record per call, the vHive latency file, results like Lambda runs', async () => {
  const out = join(work, 'grpc')
  const file = await endpointsFile('grpc.json', [{hostname: `127.0.0.1:${GRPC_PORT}`, eventing: false, matchers: null}])
  const run = await faasJson(
    [
      'bench',
      '--protocol',
      'grpc',
      '--endpoints',
      file,
      '--rps',
      '20',
      '--time',
      '2',
      '--payload',
      '{"name": "bench"}',
      '--out',
      out,
    ],
    {env},
  )
  assert.is(run.exitCode, 0, run.stderr)
  const all = await records(out)
  assert.is(all.length, 40)
  assert.ok(
    all.every(
      (r) =>
        r.protocol === 'grpc' && r.statusCode === 0 && r.error === undefined && r.function === `127.0.0.1:${GRPC_PORT}`,
    ),
  )
  assert.ok(
    all.every((r) => r.responseBytes === Buffer.byteLength('{"hello": "bench", "function": "hello"}')),
    'the reply is the handler result',
  )
  assert.is(run.result.summary.protocol, 'grpc')
  assert.is(run.result.summary.count, 40)
  assert.is((await latencyFile(out)).length, 40)
  for (const name of ['records.csv', 'summary.json', 'report.html']) assert.ok((await readdir(out)).includes(name))
})

test('bench over HTTP against the same server published for HTTP', async () => {
  const served = await faasJson(['serve', 'greeter', '--protocol', 'http', '--port', String(HTTP_PORT)], {env})
  assert.is(served.exitCode, 0, served.stderr)
  assert.is(served.result.served[0].action, 'replaced', 'another host port needs another container')
  const out = join(work, 'http')
  const run = await faasJson(
    [
      'bench',
      '--protocol',
      'http',
      '--endpoints',
      served.result.file ?? (await endpointsFile('http.json', served.result.endpoints)),
      '--rps',
      '20',
      '--time',
      '2',
      '--out',
      out,
    ],
    {env},
  )
  assert.is(run.exitCode, 0, run.stderr)
  const all = await records(out)
  assert.is(all.length, 40)
  assert.ok(all.every((r) => r.protocol === 'http' && r.statusCode === 200 && !r.error))
  assert.is((await latencyFile(out)).length, 40)
  // A handler error is an HTTP 500, counted as an error and left out of the latency file.
  const failing = join(work, 'http-fail')
  const bad = await faasJson(
    [
      'bench',
      '--protocol',
      'http',
      '-f',
      `127.0.0.1:${HTTP_PORT}`,
      '--payload',
      '{"fail": true}',
      '--rps',
      '10',
      '--time',
      '1',
      '--out',
      failing,
    ],
    {env},
  )
  assert.is(bad.exitCode, 0, bad.stderr)
  assert.is(bad.result.summary.errors, 10)
  assert.ok((await records(failing)).every((r) => r.error === 'HTTP 500'))
  assert.is((await latencyFile(failing)).length, 0)
})

for (const [protocol, port, failure] of [
  ['grpc', GRPC_PORT, /^gRPC (UNAVAILABLE|CANCELLED|INTERNAL|UNKNOWN)/],
  ['http', HTTP_PORT, /ECONNREFUSED|ECONNRESET|closed the connection before it answered/],
] as const) {
  test(`a server stopped mid-run (${protocol}): later calls are counted errors; the results are written`, async () => {
    const served = await faasJson(['serve', 'greeter', '--protocol', protocol, '--port', String(port)], {env})
    assert.is(served.exitCode, 0, served.stderr)
    const out = join(work, `stopped-${protocol}`)
    const child = spawn(
      process.execPath,
      [
        join(PROJECT_ROOT, 'bin/run.js'),
        'bench',
        '--protocol',
        protocol,
        '-f',
        `127.0.0.1:${port}`,
        '--rps',
        '20',
        '--time',
        '8',
        '--out',
        out,
        '--json',
      ],
      {
        env: {...process.env, ...env},
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    let stdout = ''
    child.stdout.on('data', (d) => (stdout += d))
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
    // Stop the server once some calls have succeeded (records stream to disk as calls complete).
    assert.ok(
      await pollUntil(async () => (await records(out).catch(() => [])).length >= 20, {timeoutMs: 60_000}),
      'calls were recorded',
    )
    const stop = await faas(['serve', 'greeter', '--stop'], {env})
    assert.is(stop.exitCode, 0, stop.stderr)
    assert.is(await exited, 0)
    const summary = JSON.parse(stdout).summary
    const all = await records(out)
    assert.is(all.length, 160, 'every arrival is recorded')
    const failed = all.filter((r) => r.error)
    assert.ok(failed.length > 0 && failed.length < 140, `${failed.length} errors`)
    assert.is(summary.errors, failed.length)
    assert.ok(
      failed.every((r) => failure.test(r.error)),
      [...new Set(failed.map((r) => r.error))].join(' | '),
    )
    // Errors come after the successes: the server answered until it was stopped.
    assert.ok(all.slice(0, 20).every((r) => !r.error))
    assert.is((await latencyFile(out)).length, 160 - failed.length)
  })
}

test('bad input: unknown protocol, unreachable endpoint, a server that is not a Greeter', async () => {
  const unknown = await faas(['bench', '--protocol', 'soap', '-f', 'x', '--rps', '1', '--time', '1'], {env})
  assertUserError(unknown, /Unknown protocol "soap".*--protocol lambda.*http.*grpc/s)

  const nobody = await freePort()
  for (const protocol of ['grpc', 'http']) {
    const out = join(work, `unreachable-${protocol}`)
    const run = await faas(
      ['bench', '--protocol', protocol, '-f', `127.0.0.1:${nobody}`, '--rps', '1', '--time', '1', '--out', out],
      {env},
    )
    assertUserError(
      run,
      new RegExp(
        `Endpoint 127\\.0\\.0\\.1:${nobody} does not answer ${protocol === 'grpc' ? 'gRPC' : 'HTTP'}` +
          '.*ECONNREFUSED.*faas serve',
        's',
      ),
    )
    assert.is(await readdir(out).catch(() => 'absent'), 'absent', 'no results folder for a refused run')
  }

  const stranger = await faasJson(['serve', 'greeter', '--function', 'stranger'], {env})
  assert.is(stranger.exitCode, 0, stranger.stderr)
  const address = stranger.result.endpoints[0].hostname
  const run = await faas(
    ['bench', '--protocol', 'grpc', '-f', address, '--rps', '1', '--time', '1', '--out', join(work, 'stranger')],
    {env},
  )
  assertUserError(
    run,
    new RegExp(
      `${address.replaceAll('.', '\\.')} answers gRPC but has no helloworld\\.Greeter/SayHello \\(UNIMPLEMENTED`,
    ),
  )

  const http = await faas(
    [
      'bench',
      '--protocol',
      'http',
      '--endpoints',
      await endpointsFile('bad.json', [{hostname: 'not a host'}]),
      '--rps',
      '1',
      '--time',
      '1',
    ],
    {env},
  )
  assertUserError(http, /bad\.json: entry 1: "not a host" is not host\[:port\]/)
})

test('aes served by faas serve answers gRPC and HTTP with node:crypto ciphertext; bench over gRPC', async () => {
  const bundled = {...env, FAAS_BENCHMARKS_DIR: join(PROJECT_ROOT, 'benchmarks')}
  const served = await faasJson(['serve', 'aes', '--port', String(AES_PORT)], {env: bundled})
  assert.is(served.exitCode, 0, served.stderr)
  const {grpc, http} = served.result.served[0].ports
  assert.is(grpc, AES_PORT)
  const plaintext = 'faas serve aes'
  const key = Buffer.from('a1f6258c877d5fcd8964484538bfc92c', 'hex') // vSwarm's key, the handler's default
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16))
  const expected = Buffer.concat([cipher.update(plaintext), cipher.final()]).toString('hex')
  const payload = JSON.stringify({plaintext, num_of_iterations: 3})
  const overGrpc = await grpcProtocol({timeoutMs: 30_000})
  const overHttp = httpProtocol({maxSockets: 1, timeoutMs: 30_000})
  try {
    for (const [invoker, port] of [
      [overGrpc, grpc],
      [overHttp, http],
    ] as const) {
      const outcome = await invoker.invoke({name: `127.0.0.1:${port}`, payload})
      assert.is(outcome.functionError, undefined, outcome.functionError)
      assert.is(JSON.parse(outcome.payload).ciphertext_hex, expected, `${invoker.protocol} answer`)
    }
  } finally {
    overGrpc.close()
    overHttp.close()
  }
  const out = join(work, 'aes')
  const run = await faasJson(
    [
      'bench',
      '--protocol',
      'grpc',
      '--endpoints',
      await endpointsFile('aes.json', served.result.endpoints),
      '--payload',
      payload,
      '--rps',
      '10',
      '--time',
      '2',
      '--out',
      out,
    ],
    {env: bundled},
  )
  assert.is(run.exitCode, 0, run.stderr)
  assert.is(run.result.summary.count, 20)
  assert.is(run.result.summary.errors, 0)
  assert.is((await latencyFile(out)).length, 20)
  assert.is((await faas(['serve', 'aes', '--stop'], {env: bundled})).exitCode, 0)
})

test("serve --stop removes only this home's servers; a second stop finds none", async () => {
  const stop = await faasJson(['serve', '--stop'], {env})
  assert.is(stop.exitCode, 0, stop.stderr)
  assert.ok(stop.result.removed.some((r: {function: string}) => r.function === 'stranger'))
  const again = await faas(['serve', '--stop'], {env})
  assert.match(again.stdout, /No servers to remove/)
  const missing = await faas(['serve', 'map-reduce'], {
    env: {...env, FAAS_BENCHMARKS_DIR: join(PROJECT_ROOT, 'benchmarks')},
  })
  assertUserError(missing, /map-reduce declares no servers \("serve" is missing/)
})

test.run()
