import {test} from 'uvu'
import * as assert from 'uvu/assert'

import type {InvocationRecord} from '../../src/bench/records.js'
import {renderReport} from '../../src/bench/report.js'
import {summarize} from '../../src/bench/stats.js'

const facts = {
  requestedRps: 10,
  durationS: 1,
  measuredS: 1,
  dropped: 0,
  interrupted: false,
  architecture: 'arm64' as const,
}
const rec = (seq: number, o: Partial<InvocationRecord> = {}): InvocationRecord => ({
  seq,
  phase: 'measure',
  function: 'f',
  scheduledUs: seq * 100_000,
  latenessUs: 10,
  startUs: 1e15 + seq * 100_000,
  endUs: 1e15 + seq * 100_000 + 5000,
  clientLatencyUs: 5000 + seq * 100,
  providerDurationUs: 4000,
  cold: seq === 0,
  ...(seq === 0 ? {initDurationUs: 200_000} : {}),
  requestBytes: 2,
  ...o,
})

test('the report has the three charts, one point per call, and no external reference', () => {
  const records = Array.from({length: 10}, (_, i) => rec(i))
  const html = renderReport({title: 'run', summary: summarize(records, facts), records})
  for (const id of ['latency-over-time', 'latency-cdf', 'cold-warm', 'summary', 'latency'])
    assert.ok(html.includes(`id="${id}"`), id)
  assert.is((html.match(/<circle /g) ?? []).length, 10)
  assert.is((html.match(/fill="#d62728"\/>/g) ?? []).length, 1, 'one cold point')
  assert.not.match(html, /<script|<link|src=|https?:\/\//)
})

test('many calls: points thinned to ~4000 (cold ones all kept), p50/p99 trend lines drawn', () => {
  const records = Array.from({length: 20_000}, (_, i) => rec(i, {cold: i % 1000 === 0}))
  const html = renderReport({title: 'big', summary: summarize(records, facts), records})
  const points = (html.match(/<circle /g) ?? []).length
  assert.ok(points >= 4000 && points <= 4020, `${points} points`)
  assert.is((html.match(/fill="#d62728"\/>/g) ?? []).length, 20)
  assert.ok(html.includes('class="trend p50"') && html.includes('class="trend p99"'))
  assert.not.ok(
    renderReport({
      title: 'small',
      summary: summarize(records.slice(0, 50), facts),
      records: records.slice(0, 50),
    }).includes('class="trend'),
  )
})

test('names are escaped, and an empty or error-only run renders without NaN', () => {
  const html = renderReport({title: 'bench <script>alert(1)</script>', summary: summarize([], facts), records: []})
  assert.not.ok(html.includes('<script>'))
  assert.ok(html.includes('&lt;script&gt;'))
  assert.not.ok(html.includes('NaN'))
  const errors = [rec(0, {error: 'boom', providerDurationUs: undefined, cold: false, initDurationUs: undefined})]
  const html2 = renderReport({title: 'x', summary: summarize(errors, facts), records: errors})
  assert.not.ok(html2.includes('NaN'))
  assert.ok(html2.includes('fill="#7f7f7f"'), 'the error point is grey')
})

test('a comparison table is rendered when given', () => {
  const records = [rec(0)]
  const html = renderReport({
    title: 'x',
    summary: summarize(records, facts),
    records,
    comparison: {
      caption: 'Memory sweep',
      columns: ['memory MB', 'p50 ms'],
      rows: [
        [128, '5.00'],
        [1024, '1.00'],
      ],
    },
  })
  assert.ok(
    html.includes(
      '<table id="comparison"><tr><th>memory MB</th><th>p50 ms</th></tr><tr><td>128</td><td>5.00</td></tr>',
    ),
  )
})

test.run()
