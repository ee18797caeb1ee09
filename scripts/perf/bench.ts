/**
 * Load-generator figures against a trivial local HTTP endpoint (run in its own process):
 * requested vs. achieved rate at 200, 1000 and 2000 rps, p99 lateness of sends against the
 * schedule, client latency and client CPU per request, through the two clients `faas bench` sends
 * with: `--protocol http` (POST /, by default with timers and with --precise polling) and the AWS SDK
 * client the local target invokes with (`--protocol lambda`); then, on the same endpoint, autocannon at
 * the same rates (--overallRate), vegeta (open loop at a fixed interval, as ours) and wrk closed-loop
 * (the most the endpoint serves), each with its CPU per request. A 1 s run first warms the JIT and the
 * connections.
 *
 *   node --import tsx scripts/perf/bench.ts [seconds per rate, default 5]
 * Smoke mode (FAAS_PERF_SMOKE=1): 0.3 s per rate, one rate (200) per client; vegeta only when already built, wrk only
 * when on PATH (scripts/stack.sh installs it), each left out with a line otherwise.
 */
import {execFile} from 'node:child_process'
import {existsSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {promisify} from 'node:util'

import {httpProtocol} from '../../src/bench/protocols/http.js'
import {runLoad} from '../../src/bench/runner.js'
import {loadSettings} from '../../src/core/settings.js'
import {createLocalTarget} from '../../src/targets/local.js'
import {LOAD_HEADER, loadRow, startServer} from './lib/load.js'
import {SMOKE, sized, skipInSmoke} from './lib/smoke.js'

const seconds = Number(process.argv[2] ?? sized(5, 0.3))
const RATES = sized([200, 1000, 2000], [200])
// autocannon, vegeta and wrk take whole seconds.
const toolSeconds = Math.max(1, Math.round(seconds))
const run = promisify(execFile)

const SERVER = `
const http = require('node:http')
const s = http.createServer((req, res) => {
  req.resume()
  req.on('end', () => { res.writeHead(200, {'content-type': 'application/json'}); res.end('{}') })
})
s.keepAliveTimeout = 60000
s.listen(0, '127.0.0.1', () => console.log(s.address().port))
`

/** vegeta from the Go module proxy, built once into node_modules/.cache; undefined (and said) without Go. */
async function ensureVegeta(): Promise<string | undefined> {
  const bin = join(dirname(fileURLToPath(import.meta.url)), '../../node_modules/.cache/faas-perf/bin')
  const vegeta = join(bin, 'vegeta')
  if (existsSync(vegeta)) return vegeta
  // A smoke run builds nothing (the build needs the Go module proxy and a minute).
  if (SMOKE) return void skipInSmoke('vegeta', `not built yet; a full run builds it into ${bin}`)
  try {
    await run('go', ['install', 'github.com/tsenart/vegeta/v12@v12.12.0'], {env: {...process.env, GOBIN: bin}})
    return vegeta
  } catch (error) {
    console.log(`vegeta left out: it could not be built (${(error as Error).message.split('\n')[0]})`)
    return undefined
  }
}

const server = await startServer(SERVER, 'endpoint')
const url = `http://127.0.0.1:${server.port}`
const http = httpProtocol({maxSockets: 1000, timeoutMs: 10_000})
try {
  console.log(
    `faas bench load generator vs. a trivial HTTP endpoint (${seconds} s per rate, fixed interval, keep-alive)`,
  )
  console.log(LOAD_HEADER)
  // The SDK path: the local target's invoker (one attempt, sockets sized to the cap) against the same endpoint.
  const sdk = createLocalTarget(loadSettings({AWS_REGION: 'us-east-1'}), {
    endpoint: url,
    credentials: {accessKeyId: 'perf', secretAccessKey: 'perf'},
    maxInFlight: 1000,
  })
  const endpoint = `127.0.0.1:${server.port}`
  const lambda = (request: Parameters<typeof sdk.invoke>[0]) => sdk.invoke(request)
  const warm = {payload: '{}', rps: 1000, durationS: sized(1, 0.2), maxInFlight: 1000}
  await runLoad(http.invoke, {...warm, functions: [endpoint]})
  await runLoad(lambda, {...warm, functions: ['f']})
  const modes = (['http', 'precise', 'sdk'] as const).flatMap((mode) => RATES.map((rps) => [mode, rps] as const))
  for (const [mode, rps] of modes) {
    const options = {payload: '{}', rps, durationS: seconds, maxInFlight: 1000, precise: mode === 'precise'}
    if (mode === 'sdk') console.log(await loadRow(mode, lambda, {...options, functions: ['f']}))
    else console.log(await loadRow(mode, http.invoke, {...options, functions: [endpoint]}))
  }
  // Established tools on the same endpoint; bash's `times` gives the CPU each used.
  const invocations = `${url}/2015-03-31/functions/f/invocations`
  const perRequest = (us: number, requests: number) => (us / Math.max(1, requests)).toFixed(1)
  const cpuOf = (stdout: string) =>
    stdout
      .trim()
      .split('\n')
      .slice(-1)[0]!
      .split(/\s+/)
      .map((t) => /(\d+)m([\d.]+)s/.exec(t))
      .reduce((sum, m) => sum + (m ? (Number(m[1]) * 60 + Number(m[2])) * 1e6 : 0), 0)
  const autocannon = join(dirname(fileURLToPath(import.meta.url)), '../../node_modules/.bin/autocannon')
  // Its CPU includes starting node and loading autocannon, which ours (measured in-process) does not:
  // a one-request run tells that start-up, shown apart.
  const once = await run('bash', ['-c', `${autocannon} -a 1 -c 1 ${url}/ >/dev/null 2>&1; times`])
  const startupUs = cpuOf(once.stdout)
  for (const rps of RATES) {
    // autocannon with a rate limit (--overallRate): the nearest like-for-like figure.
    const command = `${autocannon} -c 100 --overallRate ${rps} -d ${toolSeconds} -m POST -b '{}' -j ${invocations}`
    const {stdout} = await run('bash', ['-c', `${command} 2>/dev/null; times`], {maxBuffer: 1 << 24})
    const json = JSON.parse(stdout.slice(0, stdout.lastIndexOf('}') + 1))
    const total = json.requests.total as number
    console.log(
      `autocannon --overallRate ${String(rps).padStart(4)}: achieved ${(total / toolSeconds).toFixed(1)} rps, ` +
        `${total} requests, ${json.errors} errors, latency p50 ${json.latency.p50} ms p99 ${json.latency.p99} ms, ` +
        `client CPU ${perRequest(cpuOf(stdout), total)} µs/req ` +
        `(${perRequest(cpuOf(stdout) - startupUs, total)} less its start-up of ${(startupUs / 1000).toFixed(0)} ms)`,
    )
  }
  // vegeta: an open-loop generator with a fixed interval, as ours (autocannon's --overallRate sends each
  // second's quota in a burst, hence its lower CPU and higher latency). Built once from the Go proxy.
  const vegeta = await ensureVegeta()
  for (const rps of vegeta ? RATES : []) {
    const results = join(tmpdir(), `faas-perf-vegeta-${process.pid}.bin`)
    const target = `echo 'POST ${invocations}'`
    const attack = `${vegeta} attack -rate=${rps}/s -duration=${toolSeconds}s -max-workers=1000 > ${results}`
    const {stdout} = await run('bash', ['-c', `${target} | ${attack}; times`])
    const report = JSON.parse((await run(vegeta!, ['report', '-type=json', results])).stdout)
    rmSync(results, {force: true})
    const total = report.requests as number
    const msOf = (ns: number) => (ns / 1e6).toFixed(3)
    console.log(
      `vegeta attack -rate ${String(rps).padStart(4)}: achieved ${report.rate.toFixed(1)} rps, ${total} requests, ` +
        `success ${(report.success * 100).toFixed(1)}%, latency p50 ${msOf(report.latencies['50th'])} ms ` +
        `p99 ${msOf(report.latencies['99th'])} ms, client CPU ${perRequest(cpuOf(stdout), total)} µs/req`,
    )
  }
  // wrk: closed loop, 1 thread, 10 connections: the most the endpoint serves.
  const hasWrk = (await run('bash', ['-c', 'command -v wrk']).catch(() => undefined)) !== undefined
  if (!hasWrk && SMOKE) skipInSmoke('wrk', 'not on PATH; scripts/stack.sh installs it')
  else {
    const {stdout} = await run('bash', ['-c', `wrk -t1 -c10 -d${toolSeconds}s --latency ${invocations}; times`], {
      maxBuffer: 1 << 20,
    })
    const requests = Number(/(\d+) requests in/.exec(stdout)?.[1] ?? 0)
    const rate = /Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]
    const p50 = /50%\s+(\S+)/.exec(stdout)?.[1]
    const p99 = /99%\s+(\S+)/.exec(stdout)?.[1]
    console.log(
      `wrk -t1 -c10 (closed loop, max rate): ${rate} req/s, ${requests} requests, latency p50 ${p50} p99 ${p99}, ` +
        `client CPU ${perRequest(cpuOf(stdout), requests)} µs/req`,
    )
  }
} finally {
  http.close()
  server.stop()
}
