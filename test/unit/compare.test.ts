import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {compareResults, formatComparison, type ResultSet} from '../../src/bench/compare.js'
import {percentile} from '../../src/bench/stats.js'

const set = (label: string, values: number[], functions = ['f']): ResultSet => {
  const sorted = [...values].sort((a, b) => a - b)
  return {
    label,
    dir: mkdtempSync(join(tmpdir(), 'faas-compare-unit-')),
    summary: {
      count: values.length,
      errors: 0,
      requestedRps: 10,
      achievedRps: 10,
      interrupted: false,
    } as ResultSet['summary'],
    functions,
    latenciesMs: sorted,
    byFunction: new Map(functions.map((f) => [f, sorted])),
    requestBytes: [7],
  }
}

// A skewed sample in a scrambled order, so selection without sorting is exercised.
const base = Array.from({length: 501}, (_, i) => ((i * 7919) % 501) ** 1.5 / 100)

test('a constant shift: each estimate is the shift, each interval holds it, and p50 sees it', async () => {
  const c = await compareResults(
    [
      set('a', base),
      set(
        'b',
        base.map((x) => x + 50),
      ),
    ],
    {iterations: 500},
  )
  const [d] = c.differences
  for (const p of [d!.p50, d!.p90, d!.p99]) {
    assert.ok(Math.abs(p.estimate - 50) < 1e-9 && p.lo <= 50 + 1e-9 && p.hi >= 50 - 1e-9, JSON.stringify(p))
  }
  assert.ok(d!.p50.lo > 0, JSON.stringify(d!.p50))
  assert.match(d!.verdict, /a is faster than b by 50\.00 ms/)
})

test("run rows use the summaries' nearest-rank percentiles; the table names runs, intervals and notes", async () => {
  const c = await compareResults(
    [set('a', base), {...set('b', base), summary: {...set('b', base).summary, requestedRps: 20}}],
    {iterations: 200},
  )
  const sorted = [...base].sort((x, y) => x - y)
  assert.is(c.runs[0]!.p90Ms, percentile(sorted, 90))
  assert.is(c.runs[0]!.p99Ms, percentile(sorted, 99))
  assert.is(c.differences[0]!.p50.estimate, 0)
  assert.match(c.differences[0]!.verdict, /no difference detected/)
  const text = formatComparison(c).join('\n')
  assert.match(text, /differences from a in ms/)
  assert.match(text, /note: The runs asked for different rates/)
})

test('several endpoints are compared one by one, paired by position', async () => {
  const c = await compareResults([set('a', base, ['x', 'y']), set('b', base, ['p', 'q'])], {iterations: 100})
  assert.equal(
    c.differences.map((d) => d.scope),
    ['all calls', 'x / p', 'y / q'],
  )
})

test.run()
