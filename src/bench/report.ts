import {axes, baseStyle, CDF_TICKS, cdfPath, chart, esc, H, M, page, r2, W} from './chart-kit.js'
import type {InvocationRecord} from './records.js'
import {percentile, type Distribution, type Summary} from './stats.js'

/**
 * A self-contained HTML report (inline SVG and CSS, no script, no network): summary table, client
 * latency over time, latency CDF, cold vs. warm. Opens offline in any browser.
 */
export interface ReportInput {
  title: string
  summary: Summary
  records: InvocationRecord[]
  /** Extra rows comparing runs (memory sweep, forced cold starts). */
  comparison?: {caption: string; columns: string[]; rows: Array<Array<string | number>>}
  /** Tables of shaped and trace runs (phases; trace minutes and function classes). */
  tables?: Array<{id: string; caption: string; columns: string[]; rows: Array<Array<string | number>>}>
}

const msText = (us: number | undefined): string => (us === undefined || Number.isNaN(us) ? '–' : (us / 1000).toFixed(2))

/** A captioned table of plain cells. */
const tableHtml = (t: {id: string; caption: string; columns: string[]; rows: Array<Array<string | number>>}) =>
  `<h2>${esc(t.caption)}</h2><table id="${esc(t.id)}"><tr>${t.columns.map((c) => `<th>${esc(c)}</th>`).join('')}` +
  `</tr>${t.rows.map((row) => `<tr>${row.map((c) => `<td>${esc(String(c))}</td>`).join('')}</tr>`).join('')}</table>`

const COLD = '#d62728'
const WARM = '#1f77b4'
const ERROR = '#7f7f7f'
const PROVIDER = '#2ca02c'
const P99 = '#ff7f0e'

/** Client latency of every call against its start time; at most ~4000 warm points are drawn, all cold ones. */
function timelineChart(records: InvocationRecord[]): string {
  if (records.length === 0) return chart('latency-over-time', 'Client latency over time', '', [])
  const t0 = records.reduce((m, r) => Math.min(m, r.startUs), Infinity)
  const xMax = records.reduce((m, r) => Math.max(m, (r.startUs - t0) / 1e6), 0)
  const yMax = records.reduce((m, r) => Math.max(m, r.clientLatencyUs / 1000), 0)
  const a = axes(xMax, yMax, 'time since first call (s)', 'client latency (ms)')
  const stride = Math.max(1, Math.ceil(records.length / 4000))
  // Warm points first, then errors and cold starts on top where they cannot hide.
  const layers = {warm: '', error: '', cold: ''}
  records.forEach((r, i) => {
    if (!r.cold && !r.error && i % stride !== 0) return
    const layer = r.error ? 'error' : r.cold ? 'cold' : 'warm'
    layers[layer] +=
      `<circle cx="${r2(a.x((r.startUs - t0) / 1e6))}" cy="${r2(a.y(r.clientLatencyUs / 1000))}" ` +
      `r="${r.cold || r.error ? 3 : 1.8}" fill="${layer === 'error' ? ERROR : layer === 'cold' ? COLD : WARM}"/>`
  })
  const dots = layers.warm + layers.error + layers.cold
  // With many calls, per-interval p50 and p99 lines show the trend the thinned points cannot.
  let lines = ''
  const legend: Array<[string, string]> = [
    [WARM, 'warm'],
    [COLD, 'cold'],
    [ERROR, 'error'],
  ]
  if (records.length >= 200 && xMax > 0) {
    const buckets = 60
    const width = xMax / buckets
    const groups: number[][] = Array.from({length: buckets + 1}, () => [])
    for (const r of records)
      groups[Math.min(buckets, Math.floor((r.startUs - t0) / 1e6 / width))]!.push(r.clientLatencyUs / 1000)
    const line = (p: number) =>
      groups
        .map((g, i) =>
          g.length === 0
            ? ''
            : `${r2(a.x(Math.min(xMax, (i + 0.5) * width)))},${r2(
                a.y(
                  percentile(
                    g.sort((x, y) => x - y),
                    p,
                  ),
                ),
              )}`,
        )
        .filter(Boolean)
        .join(' ')
    lines =
      `<polyline class="trend p50" points="${line(50)}" fill="none" stroke="#222" stroke-width="1.5"/>` +
      `<polyline class="trend p99" points="${line(99)}" fill="none" stroke="${P99}" stroke-width="1.5"/>`
    legend.push(['#222', 'p50'], [P99, 'p99'])
  }
  return chart('latency-over-time', 'Client latency over time', a.svg + `<g class="points">${dots}</g>${lines}`, legend)
}

/** Empirical CDF of client latency and provider duration, 200 steps each. */
function cdfChart(records: InvocationRecord[]): string {
  const client = records.map((r) => r.clientLatencyUs / 1000).sort((a, b) => a - b)
  const provider = records
    .flatMap((r) => (r.providerDurationUs === undefined ? [] : [r.providerDurationUs / 1000]))
    .sort((a, b) => a - b)
  const xMax = Math.max(client.at(-1) ?? 0, provider.at(-1) ?? 0)
  const a = axes(xMax, 1, 'latency (ms)', 'fraction of calls ≤ x', CDF_TICKS)
  const path = (sorted: number[]) => cdfPath(a, sorted)
  const lines =
    `<path class="cdf client" d="${path(client)}" fill="none" stroke="${WARM}" stroke-width="2"/>` +
    (provider.length > 0
      ? `<path class="cdf provider" d="${path(provider)}" fill="none" stroke="${PROVIDER}" stroke-width="2"/>`
      : '')
  return chart('latency-cdf', 'Latency CDF', a.svg + lines, [
    [WARM, 'client latency'],
    [PROVIDER, 'provider duration'],
  ])
}

/** p50 / mean / p99 client latency of cold and warm calls side by side. */
function coldWarmChart(summary: Summary): string {
  const groups: Array<[string, Distribution | undefined, string]> = [
    ['cold', summary.cold.latencyUs, COLD],
    ['warm', summary.warm.latencyUs, WARM],
  ]
  const stats: Array<[string, keyof Distribution]> = [
    ['p50', 'p50'],
    ['mean', 'mean'],
    ['p99', 'p99'],
  ]
  const yMax = Math.max(1, ...groups.flatMap(([, d]) => (d ? [d.p99 / 1000, d.mean / 1000] : [])))
  const a = axes(stats.length, yMax, '', 'client latency (ms)')
  const slot = (W - M.left - M.right) / stats.length
  let bars = ''
  stats.forEach(([label, key], i) => {
    groups.forEach(([name, d, color], g) => {
      if (!d) return
      const value = d[key] / 1000
      const x = M.left + i * slot + slot * 0.15 + g * slot * 0.35
      bars +=
        `<rect class="bar ${name}" x="${r2(x)}" y="${r2(a.y(value))}" width="${r2(slot * 0.33)}" ` +
        `height="${r2(a.y(0) - a.y(value))}" fill="${color}"><title>${name} ${label}: ${value.toFixed(2)} ` +
        `ms</title></rect>`
      bars +=
        `<text x="${r2(x + slot * 0.165)}" y="${r2(a.y(value) - 4)}" ` +
        `text-anchor="middle">${value.toFixed(1)}</text>`
    })
    bars +=
      `<text x="${r2(M.left + i * slot + slot / 2)}" y="${H - M.bottom + 16}" text-anchor="middle" ` +
      `class="label">${label}</text>`
  })
  // Only the y axis of the generic axes is meaningful here.
  const yOnly = a.svg.replace(/<line x1="([\d.]+)" x2="\1"[^>]*\/><text[^>]*>[^<]*<\/text>/g, '')
  return chart('cold-warm', `Cold (${summary.cold.count}) vs. warm (${summary.warm.count})`, yOnly + bars, [
    [COLD, 'cold'],
    [WARM, 'warm'],
  ])
}

function distributionRows(label: string, d: Distribution | undefined): string {
  const cells = d
    ? [
        d.count,
        msText(d.min),
        msText(d.mean),
        msText(d.p50),
        msText(d.p90),
        msText(d.p95),
        msText(d.p99),
        msText(d.max),
      ]
    : ['0', '–', '–', '–', '–', '–', '–', '–']
  return `<tr><th>${esc(label)}</th>${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`
}

/** The stylesheet of bench's and compare's reports (inline: the pages stay self-contained). */
export const REPORT_STYLE = `${baseStyle(820, 'right')}\
svg text{font-size:11px;fill:#444}svg .label{font-size:12px;fill:#222}
figure{margin:16px 0}.facts{display:flex;flex-wrap:wrap;gap:6px}\
.facts div{border:1px solid #ddd;border-radius:4px;padding:4px 8px;background:#fafafa}\
.facts span{display:block;font-size:11px;color:#666}.facts b{font-size:14px}\
figcaption{font-weight:600;margin-bottom:4px}.key{display:inline-block;width:10px;height:10px;margin:0 4px 0 12px}
`

export function renderReport(input: ReportInput): string {
  const s = input.summary
  const measured = input.records.filter((r) => r.phase === 'measure')
  const facts: Array<[string, string]> = [
    ['requests', String(s.count)],
    ['errors', String(s.errors)],
    ['dropped (in-flight cap)', String(s.dropped)],
    ['requested rate', `${s.requestedRps} rps`],
    ['achieved rate', `${s.achievedRps.toFixed(2)} rps`],
    ['cold / warm', `${s.cold.count} / ${s.warm.count}`],
    ['memory', s.memoryMb.length > 0 ? `${s.memoryMb.join(', ')} MB` : '–'],
    ['architecture', s.architecture],
    [
      'estimated cost',
      s.cost ? `$${s.cost.totalUsd.toFixed(8)} ($${s.cost.perMillionUsd.toFixed(2)} per 1M calls)` : '–',
    ],
  ]
  if (s.interrupted) facts.push(['interrupted', 'yes (partial run)'])
  const comparison = input.comparison ? tableHtml({id: 'comparison', ...input.comparison}) : ''
  const tables = (input.tables ?? []).map(tableHtml).join('\n')
  const perFunction = Object.entries(s.byFunction)
    .map(
      ([name, f]) =>
        `<tr><th>${esc(name)}</th><td>${f.count}</td><td>${f.errors}</td><td>${f.cold}</td>` +
        `<td>${msText(f.latencyUs?.p50)}</td><td>${msText(f.latencyUs?.p99)}</td></tr>`,
    )
    .join('')
  return page(
    input.title,
    REPORT_STYLE,
    `<h1>${esc(input.title)}</h1>
<div id="summary" \
class="facts">${facts.map(([k, v]) => `<div><span>${esc(k)}</span><b>${esc(v)}</b></div>`).join('')}</div>
${timelineChart(measured)}
${cdfChart(measured)}
${coldWarmChart(s)}
${comparison}
${tables}
<h2>Latency (ms)</h2>
<table id="latency"><tr><th></th><th>count</th><th>min</th><th>mean</th><th>p50</th><th>p90</th><th>p95</th>\
<th>p99</th><th>max</th></tr>
${distributionRows('client latency', s.latencyUs)}${distributionRows('provider duration', s.durationUs)}\
${distributionRows('cold client latency', s.cold.latencyUs)}\
${distributionRows('warm client latency', s.warm.latencyUs)}${distributionRows('init duration', s.cold.initDurationUs)}\
${distributionRows('send lateness', s.latenessUs)}
</table>
${
  perFunction
    ? `<h2>Per function</h2><table id="functions"><tr><th>function</th><th>count</th><th>errors</th>\
<th>cold</th><th>p50 ms</th><th>p99 ms</th></tr>${perFunction}</table>`
    : ''
}
`,
  )
}
