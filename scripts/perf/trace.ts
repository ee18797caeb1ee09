/**
 * Trace replay figures (issue 23): on a synthetic Azure 2019 trace written here (never shipped),
 * whether the schedule makes exactly the trace's calls per function and minute, how fast and in how
 * much memory (peak RSS) the streaming generator makes a full day's schedule with --functions 1000,
 * and the send lateness of a replay at 1,000 calls/s aggregate against a trivial local HTTP endpoint.
 * FAAS_PERF_SMOKE=1: a small trace and a 1 s replay (well under 30 s).
 *
 *   node --import tsx scripts/perf/trace.ts
 */
import {once} from 'node:events'
import {createWriteStream, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {httpProtocol} from '../../src/bench/protocols/http.js'
import {runLoad} from '../../src/bench/runner.js'
import {summarize} from '../../src/bench/stats.js'
import {readTrace, type Trace} from '../../src/bench/trace/read.js'
import {traceArrivals} from '../../src/bench/trace/schedule.js'
import {rng} from '../../src/core/random.js'
import {startServer} from './lib/load.js'

const smoke = process.env.FAAS_PERF_SMOKE === '1'
const FUNCTIONS = smoke ? 2000 : 20_000
const MINUTES = smoke ? 60 : 1440
const SAMPLED = smoke ? 100 : 1000

/** A 2019 folder: FUNCTIONS rows of MINUTES counts, rates log-uniform from 0.1 to 100 calls a minute. */
async function syntheticTrace(dir: string): Promise<void> {
  const random = rng(42)
  const out = createWriteStream(join(dir, 'invocations.csv'))
  out.write(`HashOwner,HashApp,HashFunction,Trigger,${Array.from({length: MINUTES}, (_, i) => i + 1).join(',')}\n`)
  const durations = [
    'HashOwner,HashApp,HashFunction,Average,Count,Minimum,Maximum,percentile_Average_0,' +
      'percentile_Average_1,percentile_Average_25,percentile_Average_50,percentile_Average_75,percentile_Average_99,' +
      'percentile_Average_100',
  ]
  const memory = [
    'HashOwner,HashApp,SampleCount,AverageAllocatedMb,AverageAllocatedMb_pct1,AverageAllocatedMb_pct5,' +
      'AverageAllocatedMb_pct25,AverageAllocatedMb_pct50,AverageAllocatedMb_pct75,AverageAllocatedMb_pct95,' +
      'AverageAllocatedMb_pct99,AverageAllocatedMb_pct100',
  ]
  for (let f = 0; f < FUNCTIONS; f++) {
    const rate = 10 ** (random() * 3 - 1)
    const counts = Array.from({length: MINUTES}, () => Math.floor(rate + random()))
    if (!out.write(`o${f},a${f},${f.toString(16).padStart(12, '0')},http,${counts.join(',')}\n`))
      await once(out, 'drain')
    durations.push(`o${f},a${f},${f.toString(16).padStart(12, '0')},50,1,1,900,1,2,10,50,120,800,900`)
    memory.push(`o${f},a${f},1,100,60,70,80,100,120,150,180,200`)
  }
  out.end()
  await once(out, 'close')
  writeFileSync(join(dir, 'durations.csv'), durations.join('\n') + '\n')
  writeFileSync(join(dir, 'memory.csv'), memory.join('\n') + '\n')
}

/**
 * The whole schedule, counted per function for one minute at a time and checked against the trace as
 * each minute ends (so the check holds no more than the generator does).
 */
function generate(trace: Trace): {calls: number; exact: boolean; seconds: number} {
  const t0 = performance.now()
  const index = new Map(trace.functions.map((f, i) => [f.hash, i]))
  const cursors = new Uint32Array(trace.functions.length)
  const made = new Uint32Array(trace.functions.length)
  let minute = trace.startMinute + 1
  let calls = 0
  let exact = true
  const check = () => {
    trace.functions.forEach((f, i) => {
      const due = f.minutes[cursors[i]!] === minute - trace.startMinute - 1 ? f.counts[cursors[i]++]! : 0
      if (made[i] !== due) exact = false
    })
    made.fill(0)
  }
  for (const a of traceArrivals(trace, {iat: 'exponential', seed: 1, speedup: 1, endpoint: () => 'x'})) {
    for (; a.tag!.minute! > minute; minute++) check()
    made[index.get(a.tag!.traceFunction!)!]!++
    calls++
  }
  for (; minute <= trace.startMinute + trace.warmupMinutes + trace.minutes; minute++) check()
  return {calls, exact, seconds: (performance.now() - t0) / 1000}
}

/** A one-minute trace whose calls add up to 1,000 a second at the speed-up, replayed over HTTP. */
async function replay(): Promise<string> {
  const speedup = smoke ? 60 : 6
  const perMinute = (1000 * 60) / speedup
  const trace: Trace = {
    format: 'azure-2019',
    path: 'synthetic',
    functions: Array.from({length: 100}, (_, i) => ({
      hash: `h${i}`,
      app: 'a',
      minutes: Uint16Array.of(0),
      counts: Uint32Array.of(perMinute / 100),
      total: perMinute / 100,
      durationMs: {ranks: [0, 100], values: [1, 1]},
      memorySizeMb: 128,
    })),
    candidates: 100,
    warmupMinutes: 0,
    minutes: 1,
    startMinute: 0,
    withoutMemory: 100,
  }
  const server = await startServer(
    `const s = require('node:http').createServer((q, r) => { q.resume(); q.on('end', () => r.end('{}')) })
s.keepAliveTimeout = 60000
s.listen(0, '127.0.0.1', () => console.log(s.address().port))`,
    'endpoint',
  )
  const invoker = httpProtocol({maxSockets: 1000, timeoutMs: 10_000})
  try {
    const endpoint = `127.0.0.1:${server.port}`
    const durationS = 60 / speedup
    const result = await runLoad(invoker.invoke, {
      protocol: 'http',
      functions: [endpoint],
      payload: '{}',
      rps: 1000,
      durationS,
      schedule: traceArrivals(trace, {iat: 'exponential', seed: 1, speedup, endpoint: () => endpoint}),
    })
    const s = summarize(result.records, {
      requestedRps: 1000,
      durationS,
      measuredS: result.measuredS,
      dropped: result.droppedMeasured,
      interrupted: false,
      architecture: 'arm64',
    })
    const ms = (us?: number) => ((us ?? Number.NaN) / 1000).toFixed(3)
    return (
      `replay at 1000 calls/s aggregate (100 functions, exponential iat, ${durationS} s): ${s.count} sent ` +
      `(${perMinute} asked), ${s.errors} errors, achieved ${s.achievedRps.toFixed(1)}/s, send lateness p50 ` +
      `${ms(s.latenessUs?.p50)} ms p99 ${ms(s.latenessUs?.p99)} ms`
    )
  } finally {
    invoker.close()
    server.stop()
  }
}

const dir = mkdtempSync(join(tmpdir(), 'faas-perf-trace-'))
try {
  await syntheticTrace(dir)
  const rss0 = process.memoryUsage().rss
  const t0 = performance.now()
  const trace = await readTrace(dir, {start: 0, warmupMinutes: 0, functions: SAMPLED, seed: 1})
  const readS = (performance.now() - t0) / 1000
  const g = generate(trace)
  const peakMb = process.resourceUsage().maxRSS / 1024
  console.log(
    `schedule: ${FUNCTIONS} functions × ${MINUTES} minutes, --functions ${SAMPLED}: read ${readS.toFixed(1)} s, ` +
      `${g.calls} calls generated in ${g.seconds.toFixed(1)} s (${Math.round(g.calls / g.seconds)}/s), per-minute ` +
      `counts ${g.exact ? 'exact' : 'NOT EXACT'}, peak RSS ${peakMb.toFixed(0)} MB (before reading ` +
      `${(rss0 / 2 ** 20).toFixed(0)} MB)`,
  )
  console.log(await replay())
} finally {
  rmSync(dir, {recursive: true, force: true})
}
