import {toCsv, toJsonl} from '../bench/records.js'
import type {TuneResult} from './tune.js'

const escape = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`)

/** One curve over the power values: the median with its 95 % interval as a bar, as inline SVG. */
function chart(
  title: string,
  points: Array<{memoryMb: number; value: number; lo: number; hi: number}>,
  format: (v: number) => string,
  best: number,
): string {
  const W = 560
  const H = 260
  const pad = 48
  const xs = points.map((p) => p.memoryMb)
  const top = Math.max(...points.map((p) => p.hi)) * 1.1 || 1
  const x = (m: number) =>
    pad + (xs.length === 1 ? (W - 2 * pad) / 2 : (xs.indexOf(m) / (xs.length - 1)) * (W - 2 * pad))
  const y = (v: number) => H - pad - (v / top) * (H - 2 * pad)
  const path = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.memoryMb).toFixed(1)},${y(p.value).toFixed(1)}`)
  const marks = points
    .map(
      (p) =>
        `<line x1="${x(p.memoryMb)}" x2="${x(p.memoryMb)}" y1="${y(p.lo)}" y2="${y(p.hi)}" stroke="#888"/>` +
        `<circle cx="${x(p.memoryMb)}" cy="${y(p.value)}" r="4" fill="${p.memoryMb === best ? '#d33' : '#36c'}">` +
        `<title>${p.memoryMb} MB: ${escape(format(p.value))} [${escape(format(p.lo))}, ${escape(format(p.hi))}]` +
        `</title></circle>` +
        `<text x="${x(p.memoryMb)}" y="${H - pad + 16}" text-anchor="middle" font-size="11">${p.memoryMb}</text>`,
    )
    .join('')
  return (
    `<h2>${escape(title)}</h2><svg width="${W}" height="${H}" role="img" aria-label="${escape(title)}">` +
    `<line x1="${pad}" y1="${H - pad}" x2="${W - pad}" y2="${H - pad}" stroke="#000"/>` +
    `<text x="${pad - 4}" y="${y(top / 1.1)}" text-anchor="end" font-size="11">${escape(format(top / 1.1))}</text>` +
    `<text x="${pad - 4}" y="${H - pad}" text-anchor="end" font-size="11">0</text>` +
    `<path d="${path.join('')}" fill="none" stroke="#36c"/>${marks}` +
    `<text x="${W / 2}" y="${H - 8}" text-anchor="middle" font-size="11">memory (MB)</text></svg>`
  )
}

/** The report of a tune: offline (no scripts, no fetches), the duration and cost curves with their intervals. */
export function tuneReportHtml(r: TuneResult): string {
  const rows = r.results
    .map(
      (x) =>
        `<tr><td>${x.memoryMb}</td><td>${escape(x.version)}</td><td>${x.averageDurationMs.toFixed(2)}</td>` +
        `<td>${x.medianDurationMs.toFixed(2)} [${x.durationIntervalMs[0].toFixed(2)}, ` +
        `${x.durationIntervalMs[1].toFixed(2)}]</td><td>${(x.averageCostUsd * 1e6).toFixed(4)}</td>` +
        `<td>${(x.averageTotalUsd * 1e6).toFixed(4)}</td><td>${x.coldStarts}</td>` +
        `<td>${x.medianInitDurationMs?.toFixed(2) ?? ''}</td></tr>`,
    )
    .join('')
  return `<!doctype html><html><head><meta charset="utf-8"><title>faas tune ${escape(r.functionName)}</title>
<style>body{font-family:sans-serif;margin:2em}td,th{padding:2px 8px;text-align:right}</style></head><body>
<h1>faas tune: ${escape(r.functionName)} (${r.architecture}, strategy ${r.strategy}${
    r.onlyColdStarts ? ', only cold starts: one version per call' : ''
  })</h1>
<p><b>${r.best.memoryMb} MB</b> (version ${escape(r.best.version)}). ${escape(r.verdict)}.</p>
<table><tr><th>MB</th><th>version</th><th>avg ms</th><th>median ms [95 % CI]</th><th>$ per M calls (compute)</th>
<th>$ per M with requests</th><th>cold</th><th>median init ms</th></tr>${rows}</table>
${chart(
  'Duration: median and 95 % interval',
  r.results.map((x) => ({
    memoryMb: x.memoryMb,
    value: x.medianDurationMs,
    lo: x.durationIntervalMs[0],
    hi: x.durationIntervalMs[1],
  })),
  (v) => `${v.toFixed(1)} ms`,
  r.best.memoryMb,
)}
${chart(
  'Cost per million calls (compute): median and 95 % interval',
  r.results.map((x) => ({
    memoryMb: x.memoryMb,
    value: x.medianCostUsd * 1e6,
    lo: x.costIntervalUsd[0] * 1e6,
    hi: x.costIntervalUsd[1] * 1e6,
  })),
  (v) => `$${v.toFixed(3)}`,
  r.best.memoryMb,
)}
<p>Prices: $${r.prices.perGbSecondUsd} per GB-second, $${r.prices.perRequestUsd} per request
(${escape(r.prices.asOf)}).</p>
</body></html>
`
}

/**
 * The files of `tune -o DIR`: the result (tune.json, without the records), the kept calls per value (calls.csv), every
 * call as faas bench records it (records.jsonl, records.csv: the discarded ones too) and the report.
 */
export function tuneFiles(result: TuneResult): Array<[string, string]> {
  const {records, ...rest} = result
  const rows = ['memory_mb,version,duration_ms,cost_usd']
  for (const r of result.results)
    r.durationsMs.forEach((d, i) => rows.push(`${r.memoryMb},${r.version},${d},${r.costsUsd[i]}`))
  return [
    ['tune.json', JSON.stringify(rest, null, 2) + '\n'],
    ['calls.csv', rows.join('\n') + '\n'],
    ['records.jsonl', toJsonl(records)],
    ['records.csv', toCsv(records)],
    ['report.html', tuneReportHtml(result)],
  ]
}
