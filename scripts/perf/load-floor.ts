/**
 * Where the load generator's CPU per request goes on this machine, the figures docs/bench.md cites:
 * what one event-loop wake-up costs (a bare timer loop), how long V8's young-generation collections
 * take while bench sends at 2000 rps, and the CPU per request at 200 rps over a short and a long
 * window (the short one also pays for compiling the hot path).
 *
 *   node --import tsx scripts/perf/load-floor.ts
 * Smoke mode (FAAS_PERF_SMOKE=1): a tenth of a second of timers, half-second loads.
 */
import {PerformanceObserver} from 'node:perf_hooks'

import {httpProtocol} from '../../src/bench/protocols/http.js'
import {runLoad} from '../../src/bench/runner.js'
import {startServer} from './lib/load.js'
import {sized} from './lib/smoke.js'

const SERVER = `
const s = require('node:http').createServer((req, res) => { req.resume(); req.on('end', () => res.end('{}')) })
s.keepAliveTimeout = 60000
s.listen(0, '127.0.0.1', () => console.log(s.address().port))
`

const cpuUs = (since: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(since)
  return used.user + used.system
}

for (const ms of [5, 1]) {
  const count = sized(1000, 100) / ms
  const cpu0 = process.cpuUsage()
  for (let i = 0; i < count; i++) await new Promise((resolve) => setTimeout(resolve, ms))
  console.log(`a timer wake-up every ${ms} ms: ${(cpuUs(cpu0) / count).toFixed(1)} µs of CPU each`)
}

const server = await startServer(SERVER, 'endpoint')
const http = httpProtocol({maxSockets: 1000, timeoutMs: 10_000})
const functions = [`127.0.0.1:${server.port}`]
try {
  await runLoad(http.invoke, {functions, payload: '{}', rps: 1000, durationS: sized(1, 0.2)})
  const scavenges: number[] = []
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries())
      if ((entry as {detail?: {kind?: number}}).detail?.kind === 1) scavenges.push(entry.duration)
  })
  observer.observe({entryTypes: ['gc']})
  const collectS = sized(5, 0.5)
  await runLoad(http.invoke, {functions, payload: '{}', rps: 2000, durationS: collectS})
  observer.disconnect()
  scavenges.sort((a, b) => a - b)
  const mean = scavenges.reduce((a, b) => a + b, 0) / Math.max(1, scavenges.length)
  console.log(
    `young-generation collections while sending 2000 rps for ${collectS} s: ${scavenges.length}, ` +
      `mean ${mean.toFixed(2)} ms, longest ${(scavenges.at(-1) ?? 0).toFixed(2)} ms`,
  )
  for (const durationS of sized([5, 15], [0.5, 1])) {
    const cpu0 = process.cpuUsage()
    const result = await runLoad(http.invoke, {functions, payload: '{}', rps: 200, durationS})
    const perRequest = cpuUs(cpu0) / Math.max(1, result.records.length)
    console.log(`200 rps for ${durationS} s: ${perRequest.toFixed(1)} µs of CPU per request`)
  }
} finally {
  http.close()
  server.stop()
}
