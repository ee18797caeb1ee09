import {baseStyle, esc, figure, niceMax, page, r2, seriesColor} from '../bench/chart-kit.js'
import type {InvocationRecord} from '../bench/records.js'
import {percentile} from '../bench/stats.js'
import {formatValue, METRIC_INFO, metricValues, type Comparison} from './compare.js'
import type {ExperimentRecord, VariantResult} from './record.js'
import type {MetricName} from './spec.js'

/**
 * The experiment's offline report (inline SVG and CSS, no script, no network): the verdicts, then per
 * metric the variants' distributions side by side on one axis (box from p25 to p75, whiskers to p5 and
 * p95, the statistic marked, every value as a dot), then what was run, so the page stands alone.
 */
export interface ExperimentReportInput {
  record: ExperimentRecord
  variants: VariantResult[]
  comparisons: Array<Comparison | {metric: string; a: string; b: string; missing: string}>
  verdicts: string[]
  records: Map<string, InvocationRecord[]>
}

/** One metric: a row per variant on a shared axis from 0. */
function distributionsChart(
  metric: MetricName,
  statistic: string,
  names: string[],
  values: Map<string, number[]>,
): string {
  const W = 760
  const left = 150
  const right = 20
  const rowH = 46
  const top = 10
  const H = top + rowH * names.length + 40
  const all = names.flatMap((n) => values.get(n) ?? [])
  const {max, step} = niceMax(all.reduce((m, v) => Math.max(m, v), 0))
  const x = (v: number) => left + (v / max) * (W - left - right)
  const info = METRIC_INFO[metric]
  let svg = ''
  for (let t = 0; t <= max + step / 2; t += step) {
    svg +=
      `<line x1="${r2(x(t))}" x2="${r2(x(t))}" y1="${top}" y2="${top + rowH * names.length}" stroke="#eee"/>` +
      `<text x="${r2(x(t))}" y="${top + rowH * names.length + 16}" text-anchor="middle">${r2(t)}</text>`
  }
  svg +=
    `<text x="${left + (W - left - right) / 2}" y="${H - 4}" text-anchor="middle" ` +
    `class="label">${esc(`${info.label} (${info.unit})`)}</text>`
  names.forEach((name, i) => {
    const vs = [...(values.get(name) ?? [])].sort((a, b) => a - b)
    const cy = top + rowH * i + rowH / 2
    const color = seriesColor(i)
    svg += `<text x="${left - 8}" y="${cy + 4}" text-anchor="end" class="label">${esc(name)}</text>`
    if (vs.length === 0) {
      svg += `<text x="${left + 8}" y="${cy + 4}">no values</text>`
      return
    }
    const q = (p: number) => percentile(vs, p)
    svg += `<line x1="${r2(x(q(5)))}" x2="${r2(x(q(95)))}" y1="${cy}" y2="${cy}" stroke="${color}"/>`
    svg +=
      `<rect class="box" x="${r2(x(q(25)))}" y="${cy - 10}" width="${r2(Math.max(1, x(q(75)) - x(q(25))))}" ` +
      `height="20" fill="${color}" fill-opacity="0.18" stroke="${color}"><title>${esc(name)}: ` +
      `p25 ${q(25).toFixed(2)}, p50 ${q(50).toFixed(2)}, p75 ${q(75).toFixed(2)} ${info.unit}</title></rect>`
    // Every value as a dot, spread vertically by a fixed pattern (no randomness: the page is reproducible).
    const stride = Math.max(1, Math.ceil(vs.length / 2000))
    vs.forEach((v, k) => {
      if (k % stride === 0)
        svg +=
          `<circle cx="${r2(x(v))}" cy="${r2(cy - 14 + ((k * 7) % 29))}" r="1.6" fill="${color}" ` +
          `fill-opacity="0.55"/>`
    })
    const stat =
      statistic === 'mean'
        ? vs.reduce((s, v) => s + v, 0) / vs.length
        : statistic === 'median'
          ? q(50)
          : q(Number(statistic.slice(1)))
    svg +=
      `<line class="statistic" x1="${r2(x(stat))}" x2="${r2(x(stat))}" y1="${cy - 16}" y2="${cy + 16}" ` +
      `stroke="#000" stroke-width="2"><title>${esc(name)} ${statistic}: ${stat.toFixed(2)} ${info.unit}</title></line>`
  })
  return figure({
    id: `metric-${metric}-${statistic}`,
    className: 'metric',
    caption: `${esc(info.label)} — ${esc(statistic)} marked in black, box p25–p75, whiskers p5–p95`,
    label: info.label,
    size: [W, H],
  })(svg)
}

/**
 * Cold starts on the local service, broken down (medians per variant), with which part is which of
 * Lambda's figures; empty when no record carries a breakdown (AWS, or no cold call).
 */
export function initBreakdownTable(names: string[], records: Map<string, InvocationRecord[]>): string {
  const med = (xs: number[]) =>
    xs.length === 0
      ? '–'
      : (
          percentile(
            [...xs].sort((a, b) => a - b),
            50,
          ) / 1000
        ).toFixed(1)
  const rows = names
    .map((name) => {
      const cold = (records.get(name) ?? []).filter((r) => r.cold && r.initBreakdown && !r.error)
      if (cold.length === 0) return ''
      const b = cold.map((r) => r.initBreakdown!)
      const cells = [
        b.map((x) => x.imageUs),
        b.map((x) => x.createUs),
        b.map((x) => x.startUs),
        b.map((x) => x.initUs),
        cold.flatMap((r) => (r.providerDurationUs === undefined ? [] : [r.providerDurationUs])),
        cold.map((r) => r.clientLatencyUs),
      ].map(med)
      return `<tr><th>${esc(name)} (${cold.length})</th>${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`
    })
    .join('')
  if (!rows) return ''
  return `<h2>Cold starts, broken down (local service; medians, ms)</h2>
<table id="init-breakdown"><tr><th>variant (cold calls)</th><th>image resolution</th><th>container create</th>\
<th>container start</th><th>Init Duration</th><th>first invocation (Duration)</th><th>client latency</th>\
</tr>${rows}</table>
<p>Which parts are Lambda's figures: <b>Init Duration</b> is Lambda's (from the environment's start to the runtime's \
first <code>next</code>; it includes container start). <b>First invocation</b> is the REPORT line's Duration of the \
cold call. Image resolution and container create come before Init on Lambda too (fetching the image, making the \
sandbox) and are in no figure Lambda reports; the client latency of a cold call includes them all, plus the API's own \
time.</p>`
}

/** Text tables (left-aligned), the detected verdicts in bold. */
const EXPERIMENT_STYLE = `${baseStyle(860, 'left')}\
tr.detected td:last-child{font-weight:600}svg text{font-size:11px;fill:#444}svg .label{font-size:12px;fill:#222}\
figure{margin:16px 0}figcaption{font-weight:600;margin-bottom:4px}
ul#verdicts li{margin:4px 0}code{font-size:11px}
`

export function renderExperimentReport(input: ExperimentReportInput): string {
  const {record} = input
  const names = record.variants.map((v) => v.name)
  const charts = record.metrics
    .map((m) =>
      distributionsChart(
        m.name,
        m.statistic,
        names,
        new Map(names.map((n) => [n, metricValues(input.records.get(n) ?? [], m.name, record.architecture)])),
      ),
    )
    .join('\n')
  const rows = input.comparisons
    .map((c) =>
      'missing' in c
        ? `<tr><td>${esc(c.metric)}</td><td>${esc(c.a)}</td><td>${esc(c.b)}</td><td ` +
          `colspan="4">${esc(c.missing)}</td></tr>`
        : `<tr class="${c.verdict.winner === 'none' ? 'none' : 'detected'}"><td>${esc(c.metric)}</td>` +
          `<td>${esc(c.a)} (${c.countA})</td><td>${esc(c.b)} (${c.countB})</td>` +
          `<td>${esc(formatValue(c.metric.split(':')[0] as MetricName, c.statisticA))}</td>` +
          `<td>${esc(formatValue(c.metric.split(':')[0] as MetricName, c.statisticB))}</td>` +
          `<td>${c.difference.estimate.toFixed(3)} [${c.difference.lo.toFixed(3)}, ${c.difference.hi.toFixed(3)}]` +
          `</td><td>${esc(c.verdict.text)}</td></tr>`,
    )
    .join('')
  const variantRows = record.variants
    .map((v) => {
      const result = input.variants.find((r) => r.name === v.name)
      const keepWarm = v.keepWarm
        ? `every ${v.keepWarm.everyS} s${v.keepWarm.expression ? ` (${v.keepWarm.expression})` : ''}` +
          `${v.keepWarm.pings !== undefined ? `, ${v.keepWarm.pings} pings` : ''}`
        : '–'
      return (
        `<tr><th>${esc(v.name)}</th><td>${esc(v.function)}</td><td><code title="${esc(v.digest ?? v.imageId)}">` +
        `${esc((v.digest ?? v.imageId).slice(0, 19))}…</code></td><td>${v.memoryMb}</td><td>${esc(keepWarm)}</td>` +
        `<td>${result?.calls ?? 0}</td><td>${result?.errors ?? 0}</td><td>${result?.cold ?? 0}</td></tr>`
      )
    })
    .join('')
  const order = record.runs.map((r) => `${r.variant}`).join(' → ')
  const load = record.load.coldStarts
    ? `${record.load.coldStarts} forced cold starts per run`
    : `${record.load.rps} rps for ${record.load.time} ` +
      `s${record.load.warmup ? ` after ${record.load.warmup} s warm-up` : ''}, ${record.load.distribution} arrivals`
  return page(
    `faas experiment: ${record.name}`,
    EXPERIMENT_STYLE,
    `<h1>Experiment ${esc(record.name)} on ${esc(record.target)}</h1>
<ul id="verdicts">${input.verdicts.map((v) => `<li>${esc(v)}</li>`).join('')}</ul>
<p>Each interval is \
a ${Math.round((input.comparisons.find((c): c is Comparison => 'verdict' in c)?.confidence ?? 0.95) * 100)}% \
percentile-bootstrap interval (seed ${record.seed}) of the difference of the statistic between the two variants; "no \
difference detected" means the interval includes zero.</p>
${charts}
<h2>Comparisons</h2>
<table id="comparisons"><tr><th>metric</th><th>a (values)</th><th>b (values)</th><th>a</th><th>b</th><th>b − a \
[interval]</th><th>verdict</th></tr>${rows}</table>
${initBreakdownTable(names, input.records)}
<h2>Variants</h2>
<table id="variants"><tr><th>variant</th><th>function</th><th>image</th><th>memory MB</th><th>keep-warm</th>\
<th>calls</th><th>errors</th><th>cold</th></tr>${variantRows}</table>
<h2>How it ran</h2>
<p>Benchmark ${esc(record.benchmark.name)}/${esc(record.benchmark.function)} on ${esc(record.platform)}; \
load: ${esc(load)}; ${record.repeat} repeat(s), runs in this order: ${esc(order)}. Started ${esc(record.startedAt)} \
on ${esc(record.machine.host)} (${record.machine.cpus} CPUs)${record.interrupted ? '; <b>interrupted</b>' : ''}.</p>
`,
  )
}
