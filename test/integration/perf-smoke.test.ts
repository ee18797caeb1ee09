// Every perf script keeps working (issue 17): each scripts/perf/*.ts found is run in its smoke mode
// (FAAS_PERF_SMOKE=1: tiny sizes, the same code paths) and must exit 0 and print its figure lines. A new script is
// run too, and fails here until its figure lines are listed below. Needs the stack (engine, registry, moto).
import {execFile} from 'node:child_process'
import {mkdtempSync, readdirSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {promisify} from 'node:util'

import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {PROJECT_ROOT} from '../../src/core/paths.js'

const run = promisify(execFile)
const PERF = join(PROJECT_ROOT, 'scripts', 'perf')

/** Per script, the figure lines its smoke run prints (each pattern carries the number it is about). */
const FIGURES: Record<string, RegExp[]> = {
  bench: [
    /^http +200 +[\d.]+ +\d+ +0 /m,
    /^precise +200 +[\d.]+/m,
    /^sdk +200 +[\d.]+ +\d+ +0 /m,
    /^autocannon --overallRate +200: achieved [\d.]+ rps/m,
    /^(vegeta attack -rate +200: achieved [\d.]+ rps|smoke: vegeta left out)/m,
    /^wrk -t1 -c10 \(closed loop, max rate\): [\d.]+ req\/s/m,
  ],
  'cold-start': [
    /^cold first response +median [\d.]+ ms/m,
    /^bare docker start +median [\d.]+ ms .*ratio [\d.]+ x/m,
    /^ {2}with a network namespace of its own \('none'\): median [\d.]+ ms/m,
    /^Init Duration +median [\d.]+ ms +direct runtime init [\d.]+ ms/m,
    /^\d+ concurrent cold calls p99 [\d.]+ ms/m,
    /^\d+ concurrent cold calls, --prepared \d+: p99 [\d.]+ ms/m,
    /^ {2}the burst kept the machine busy [\d.]+ ms of CPU; \d+ runtime inits alone .* [\d.]+ x single$/m,
    /^local start --detach +[\d.]+ ms +function Active [\d.]+ ms +first successful call [\d.]+ ms/m,
    /^--no-prepare cold first response median [\d.]+ ms/m,
    /^--no-prepare breakdown \(median\) image [\d.]+ ms/m,
    /^local start --detach --no-prepare [\d.]+ ms +function Active [\d.]+ ms +first successful call [\d.]+ ms/m,
  ],
  benchmarks: [/checked run correct; Init Duration \d+ ms/, /aes +\S+ +Lambda image +[\d.]+ MB/, /aes +median +\d+ ms/],
  deploy: [
    /^first deploy, concurrent .* \d+ ms .*created/m,
    /^no-op redeploy, concurrent +\d+ ms .*unchanged/m,
    /^hotel-reservation \+ HTTP API, no-op redeploy +\d+ ms .*\(0 writes\).*api unchanged/m,
  ],
  'function-urls': [
    /^ {2}Function URL \(fetch\) +p50 [\d.]+ ms +p99 [\d.]+ ms/m,
    /^ {2}Invoke API \(JS SDK\) +p50 [\d.]+ ms +p99 [\d.]+ ms/m,
    /^ {2}URL \/ Invoke +p50 [\d.]+ x +p99 [\d.]+ x/m,
    /^ {2}API route \(fetch\) +p50 [\d.]+ ms +p99 [\d.]+ ms/m,
    /^ {2}route \/ Invoke +p50 [\d.]+ x +p99 [\d.]+ x/m,
    /^\(2\) 20 concurrent HTTP connections to the route/m,
    /^ {2}answered 20\/20: 200 \d+, 429 \d+, other 0/m,
    /^ {2}lost 0, duplicated request ids 0/m,
  ],
  'sam-local': [
    /^faas local \(template\) +warm p50 [\d.]+ ms +p99 [\d.]+ ms +8 concurrent 1 s requests in [\d.]+ s/m,
    /^smoke: sam local start-api left out/m,
  ],
  grpc: [/^sleep +200 +[\d.]+ +\d+ +0 /m, /^precise +200 +[\d.]+ +\d+ +0 /m],
  hotel: [
    /^hotel-reservation \S+ at 20 rps .*: achieved [\d.]+ rps, lateness p99 [\d.]+ ms, correct=true/m,
    /^ {2}search +p50 +[\d.]+ ms +p99 +[\d.]+ ms/m,
    /^ {2}throttles \d+, lock retries \d+, reservations accepted \d+/m,
    /^ {2}UpdateItem \(conditional\) +function p50 +[\d.]+ p99 +[\d.]+ +host p50 +[\d.]+ p99 +[\d.]+/m,
  ],
  images: [
    /^cold build, 1 arm64 image\(s\): sequential [\d.]+ s, concurrent [\d.]+ s/m,
    /^rebuild with nothing changed: [\d.]+ s, 0 step\(s\) run/m,
    /^second push of unchanged images: [\d.]+ MB sent, 1\/1 skipped/m,
  ],
  'load-floor': [
    /^a timer wake-up every 1 ms: [\d.]+ µs/m,
    /^young-generation collections while sending 2000 rps/m,
    /^200 rps for [\d.]+ s: [\d.]+ µs of CPU per request/m,
  ],
  'local-load': [
    /^\(a\) environment limit 2.*: 20 concurrent calls in [\d.]+ s/m,
    /^ {2}completed 20, throttled 0/m,
    /^ {2}lost 0, duplicated request ids 0/m,
    /^after stop: 0 containers/m,
  ],
  local: [
    /^ {2}faas local +p50 [\d.]+ ms +p99 [\d.]+ ms/m,
    /^ {2}RIE direct +p50 [\d.]+ ms/m,
    /^ {2}2 environments +\d+ invocations\/s/m,
    /^ {2}Init Duration +median [\d.]+ ms/m,
  ],
  run: [
    /^first .*1 MiB, 1 mapper\(s\)\/1 reducer\(s\): [\d.]+ s wall, correct=true/m,
    /warm rerun \/ first run: [\d.]+/,
  ],
  trace: [
    /^schedule: .* calls generated in [\d.]+ s .*per-minute counts exact, peak RSS \d+ MB/m,
    /^replay at 1000 calls\/s aggregate .*: \d+ sent .*, 0 errors, achieved [\d.]+\/s/m,
  ],
  workers: [
    /^4 workers, requested 20 rps for 3 s: achieved [\d.]+ rps \(-?[\d.]+ %\), \d+ calls, 0 errors/m,
    /^merged lateness \(clock-corrected\): p50 [\d.]+ ms +p99 [\d.]+ ms/m,
    /^ {2}worker 3: offset -?[\d.]+ ms \(rtt [\d.]+ ms\)/m,
  ],
  'tmp-disk': [
    /^cold first response, \/tmp tmpfs +median [\d.]+ ms/m,
    /^cold first response, \/tmp disk +median [\d.]+ ms \(-?[\d.]+ %\)/m,
    /^first cold start of a disk service [\d.]+ ms/m,
  ],
  streaming: [
    /^streaming, 4 chunks 100 ms apart: first chunk written to read p50 [\d.]+ ms +p99 [\d.]+ ms/m,
    /^first chunk read \d+ ms \(p50\) before the call ended/m,
    /^streaming URL \(fetch\), 4 chunks 100 ms apart: first chunk written to read p50 [\d.]+ ms +p99 [\d.]+ ms/m,
  ],
  sqs: [
    /^SQS mapping, batch size 10: \d+ messages drained in [\d.]+ s, \d+ messages\/s/m,
    /^send to handler start, full queue: p50 \d+ ms +p99 \d+ ms/m,
    /^sustained, batch size 10, at most \d+ outstanding: \d+ messages sent and handled in [\d.]+ s, \d+ messages\/s/m,
    /^send to handler start, sustained: p50 \d+ ms +p99 \d+ ms/m,
    /^processed \d+, distinct (\d+) of \1 sent, batches \d+/m,
    /^send to handler start, one at a time \(\d+\): p50 \d+ ms +p99 \d+ ms/m,
  ],
  startup: [/^faas --version +[\d.]+ /m, /^faas deploy map-reduce --target aws \(no-op\) +[\d.]+ /m],
  tune: [
    /^ {2}single values: [\d.]+ s/m,
    /^ {2}all values in one tune [\d.]+ s, slowest single [\d.]+ s, ratio [\d.]+ x/m,
    /^ {2}the single values kept the machine \d+ % busy .* on \d+ cores, [\d.]+ x the slowest single$/m,
  ],
  versions: [
    /^ {2}unqualified +p50 [\d.]+ ms +p99 [\d.]+ ms/m,
    /^ {2}alias live +p50 [\d.]+ ms +p99 [\d.]+ ms +\(-?[\d.]+ % p50 over unqualified\)/m,
    /^ {2}weighted alias +p50 [\d.]+ ms +p99 [\d.]+ ms +\(-?[\d.]+ % p50 over unqualified\)/m,
    /^ {2}qualifier resolution \(weighted alias\) [\d.]+ µs per call/m,
    /^ {2}provisioned +cold starts \d+ +p50 [\d.]+ ms +p99 [\d.]+ ms/m,
    /^ {2}warm on-demand +cold starts \d+ +p50 [\d.]+ ms +p99 [\d.]+ ms/m,
    /^ {2}provisioned p99 \/ warm on-demand p99 [\d.]+ x/m,
  ],
}

const scripts = readdirSync(PERF)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.slice(0, -'.ts'.length))
  .sort()

test('the smoke test sees the perf scripts', () => {
  assert.ok(scripts.includes('local') && scripts.includes('bench'), scripts.join(', '))
})

const home = mkdtempSync(join(tmpdir(), 'faas-perf-smoke-'))
test.after(() => rmSync(home, {recursive: true, force: true}))

scripts.forEach((name, i) => {
  test(`scripts/perf/${name}.ts runs in smoke mode and prints its figures`, async () => {
    const figures = FIGURES[name]
    assert.ok(figures, `list the figure lines scripts/perf/${name}.ts prints in FIGURES (test/integration/perf-smoke)`)
    const started = performance.now()
    // Its own home and ports (this helper's range, 9900-9949), so a smoke run meets no one's service.
    const env = {
      ...process.env,
      FAAS_PERF_SMOKE: '1',
      FAAS_HOME: join(home, name),
      FAAS_LOCAL_PORT: String(9900 + 2 * i),
      FAAS_LOCAL_S3_PORT: String(9901 + 2 * i),
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      // uvu sets FORCE_COLOR; the figures are read as plain text.
      FORCE_COLOR: '0',
    }
    const {stdout} = await run(process.execPath, ['--import', 'tsx', join(PERF, `${name}.ts`)], {
      cwd: PROJECT_ROOT,
      env,
      maxBuffer: 1 << 24,
      timeout: 180_000,
    }).catch((error: {code?: number; stdout?: string; stderr?: string}) => {
      throw new Error(`${name}.ts exited ${error.code}:\n${error.stdout}\n${error.stderr}`)
    })
    for (const figure of figures) assert.match(stdout, figure, `${name}.ts printed no line like ${figure}:\n${stdout}`)
    console.log(`  perf smoke: ${name}.ts in ${((performance.now() - started) / 1000).toFixed(1)} s`)
  })
})

test.run()
