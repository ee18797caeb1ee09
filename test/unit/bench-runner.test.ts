import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {runLoad, type Invoke} from '../../src/bench/runner.js'
import {summarize} from '../../src/bench/stats.js'
import type {InvokeRequest} from '../../src/core/invoke.js'

/** An in-process function: answers on the next tick; the first call to each name is cold. */
function fakeFunction() {
  const seen = new Set<string>()
  const calls: InvokeRequest[] = []
  const invoke: Invoke = async (request) => {
    calls.push(request)
    const startedAtUs = (performance.timeOrigin + performance.now()) * 1000
    await new Promise((r) => setImmediate(r))
    const cold = !seen.has(request.name)
    seen.add(request.name)
    return {
      name: request.name,
      statusCode: 200,
      payload: request.payload,
      report: {durationMs: 1, billedDurationMs: 1, memorySizeMb: 128, ...(cold ? {initDurationMs: 50} : {})},
      startedAtUs,
      clientLatencyUs: (performance.timeOrigin + performance.now()) * 1000 - startedAtUs,
    }
  }
  return {invoke, calls}
}

test('a fixed-rate run sends rps × time calls, round-robin, on schedule, first call per function cold', async () => {
  const {invoke, calls} = fakeFunction()
  const statuses: number[] = []
  const started = performance.now()
  const result = await runLoad(invoke, {
    functions: ['a', 'b'],
    payload: '{"x":1}',
    rps: 100,
    durationS: 1,
    onStatus: (s) => statuses.push(s.sent),
  })
  const elapsed = performance.now() - started
  assert.is(result.records.length, 100)
  assert.is(calls.length, 100)
  assert.equal(
    result.records.slice(0, 4).map((r) => r.function),
    ['a', 'b', 'a', 'b'],
  )
  assert.equal(
    result.records.filter((r) => r.cold).map((r) => r.seq),
    [0, 1],
  )
  assert.is(result.interrupted, false)
  assert.is(result.dropped, 0)
  assert.ok(elapsed >= 990, `the window is held open to its end (${elapsed} ms)`)
  assert.ok(Math.abs(result.measuredS - 1) < 0.05)
  assert.ok(result.records.every((r) => r.requestBytes === 7 && r.latenessUs! >= 0))
  const s = summarize(result.records, {
    requestedRps: 100,
    durationS: 1,
    measuredS: result.measuredS,
    dropped: 0,
    interrupted: false,
    architecture: 'arm64',
  })
  assert.ok(Math.abs(s.achievedRps - 100) < 5, `achieved ${s.achievedRps}`)
  // Sends keep to the schedule: the median send is within a few ms of its time.
  assert.ok(s.latenessUs!.p50 < 5000, `p50 lateness ${s.latenessUs!.p50} µs`)
  assert.ok(statuses.length >= 1, 'a live status was reported')
})

test('warm-up calls are recorded as such and left out of the summary', async () => {
  const {invoke} = fakeFunction()
  const result = await runLoad(invoke, {functions: ['f'], payload: '{}', rps: 20, durationS: 0.5, warmupS: 0.5})
  assert.is(result.records.length, 20)
  assert.is(result.records.filter((r) => r.phase === 'warmup').length, 10)
  assert.ok(result.records[0]!.cold && result.records[0]!.phase === 'warmup')
  const s = summarize(result.records, {
    requestedRps: 20,
    durationS: 0.5,
    measuredS: result.measuredS,
    dropped: 0,
    interrupted: false,
    architecture: 'arm64',
  })
  assert.is(s.count, 10)
  assert.is(s.cold.count, 0)
})

test('the in-flight cap drops arrivals instead of queueing them (open loop)', async () => {
  // Each call takes longer (300 ms) than the whole window (10 arrivals in 200 ms): only the cap's 3 go out.
  let inFlight = 0
  let peak = 0
  const invoke: Invoke = async (request) => {
    peak = Math.max(peak, ++inFlight)
    await new Promise((r) => setTimeout(r, 300))
    inFlight--
    return {name: request.name, statusCode: 200, payload: '{}', startedAtUs: 0, clientLatencyUs: 300_000}
  }
  const result = await runLoad(invoke, {functions: ['f'], payload: '{}', rps: 50, durationS: 0.2, maxInFlight: 3})
  assert.is(peak, 3)
  assert.is(result.records.length, 3)
  assert.is(result.dropped, 7)
  assert.is(result.droppedMeasured, 7)
})

test('abort (Ctrl-C) stops sending, waits for calls in flight and keeps what was measured', async () => {
  const controller = new AbortController()
  let calls = 0
  const invoke: Invoke = async (request) => {
    calls++
    if (calls === 5) controller.abort()
    const startedAtUs = Date.now() * 1000
    await new Promise((r) => setTimeout(r, 20))
    return {name: request.name, statusCode: 200, payload: '{}', startedAtUs, clientLatencyUs: 20_000}
  }
  const started = performance.now()
  const result = await runLoad(invoke, {
    functions: ['f'],
    payload: '{}',
    rps: 100,
    durationS: 30,
    signal: controller.signal,
  })
  assert.ok(performance.now() - started < 2000, 'returned promptly')
  assert.is(result.interrupted, true)
  assert.is(result.records.length, 5)
  assert.ok(result.measuredS < 1)
})

test('a call that throws becomes an error record with the client-side latency', async () => {
  const invoke: Invoke = async () => {
    throw new Error('connect ECONNREFUSED 127.0.0.1:1')
  }
  const result = await runLoad(invoke, {functions: ['f'], payload: '{}', rps: 10, durationS: 0.3})
  assert.is(result.records.length, 3)
  assert.ok(
    result.records.every((r) => r.error === 'connect ECONNREFUSED 127.0.0.1:1' && r.clientLatencyUs >= 0 && !r.cold),
  )
})

test('a client that falls behind shows it: lateness grows, the achieved rate drops below the requested', async () => {
  // Each call blocks the event loop for 20 ms, twice the 10 ms gap of 100 rps.
  const invoke: Invoke = async (request) => {
    const until = performance.now() + 20
    while (performance.now() < until);
    return {name: request.name, statusCode: 200, payload: '{}', startedAtUs: 0, clientLatencyUs: 1}
  }
  const result = await runLoad(invoke, {functions: ['f'], payload: '{}', rps: 100, durationS: 0.3})
  assert.is(result.records.length, 30)
  assert.ok(result.measuredS > 0.5, `window ${result.measuredS} s`)
  const s = summarize(result.records, {
    requestedRps: 100,
    durationS: 0.3,
    measuredS: result.measuredS,
    dropped: 0,
    interrupted: false,
    architecture: 'arm64',
  })
  assert.ok(s.achievedRps < 60, `achieved ${s.achievedRps}`)
  assert.ok(s.latenessUs!.max > 200_000, `max lateness ${s.latenessUs!.max} µs`)
})

test('poisson arrivals at a modest rate', async () => {
  const {invoke} = fakeFunction()
  const result = await runLoad(invoke, {
    functions: ['f'],
    payload: '{}',
    rps: 200,
    durationS: 0.5,
    distribution: 'poisson',
    seed: 11,
  })
  assert.ok(Math.abs(result.records.length - 100) < 40, `${result.records.length}`)
})

test.run()
