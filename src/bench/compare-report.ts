import type {Comparison, ResultSet} from './compare.js'
import {intervalText} from './compare.js'
import {axes, CDF_TICKS, cdfPath, chart, esc, page, seriesColor as color, swatch} from './chart-kit.js'
import {REPORT_STYLE} from './report.js'

/**
 * Empirical CDFs of several runs on one pair of axes. The x axis ends a quarter past the largest
 * p99, so a few cold starts do not squash the body of the distributions; values beyond it are drawn
 * at the edge.
 */
function overlay(id: string, title: string, series: Array<{label: string; sorted: number[]}>): string {
  const p99 = (s: number[]) => s[Math.max(0, Math.ceil(0.99 * s.length) - 1)] ?? 0
  const xMax = Math.max(...series.map((s) => p99(s.sorted))) * 1.25
  const a = axes(xMax, 1, 'client latency (ms)', 'fraction of calls ≤ x', CDF_TICKS)
  const paths = series
    .map(({sorted}, i) =>
      sorted.length === 0
        ? ''
        : `<path class="cdf run-${i}" d="${cdfPath(a, sorted, 400, xMax)}" fill="none" stroke="${color(i)}" ` +
          `stroke-width="2"/>`,
    )
    .join('')
  return chart(
    id,
    `${title} (x axis to 1.25 × the largest p99: ${xMax.toFixed(2)} ms)`,
    a.svg + paths,
    series.map((s, i) => [color(i), s.label]),
  )
}

/**
 * One offline page (inline SVG and CSS, no script): the runs, their CDFs overlaid, and the differences with intervals.
 */
export function renderComparison(c: Comparison, sets: ResultSet[]): string {
  const title = `faas compare: ${c.runs.map((r) => r.label).join(' vs ')}`
  const runs = c.runs
    .map(
      (r, i) =>
        `<tr><th>${swatch(color(i))}${esc(r.label)}</th>` +
        `<td>${esc(r.protocol)}</td><td>${esc(r.functions.join(', '))}</td><td>${r.count}</td><td>${r.errors}</td>` +
        `<td>${r.requestedRps}</td><td>${r.achievedRps.toFixed(2)}</td><td>${r.p50Ms.toFixed(2)}</td>` +
        `<td>${r.p90Ms.toFixed(2)}</td><td>${r.p99Ms.toFixed(2)}</td></tr>`,
    )
    .join('')
  const differences = c.differences
    .map(
      (d) =>
        `<tr><th>${esc(d.label)}</th><td>${esc(d.scope)}</td><td>${intervalText(d.p50)}</td>` +
        `<td>${intervalText(d.p90)}</td><td>${intervalText(d.p99)}</td><td class="verdict">${esc(d.verdict)}</td></tr>`,
    )
    .join('')
  const perFunction =
    sets[0]!.functions.length > 1
      ? sets[0]!.functions
          .map((_, k) =>
            overlay(
              `cdf-endpoint-${k}`,
              `Latency CDF, endpoint ${k + 1}`,
              sets.map((s) => ({
                label: `${s.label}: ${s.functions[k]}`,
                sorted: s.byFunction.get(s.functions[k]!) ?? [],
              })),
            ),
          )
          .join('\n')
      : ''
  return page(
    title,
    `${REPORT_STYLE}td.verdict{text-align:left}\n`,
    `<h1>${esc(title)}</h1>
<h2>Runs</h2>
<table id="runs"><tr><th>run</th><th>protocol</th><th>endpoints</th><th>calls</th><th>errors</th><th>requested rps</th>\
<th>achieved rps</th><th>p50 ms</th><th>p90 ms</th><th>p99 ms</th></tr>${runs}</table>
${overlay(
  'cdf-overlay',
  'Latency CDF, successful measured calls',
  sets.map((s) => ({label: s.label, sorted: s.latenciesMs})),
)}
${perFunction}
<h2>Differences from ${esc(c.baseline)} (ms, run − baseline, ${Math.round(c.confidence * 100)}% percentile-bootstrap \
interval, ${c.iterations} resamples)</h2>
<table id="differences"><tr><th>run</th><th>calls</th><th>p50</th><th>p90</th><th>p99</th><th>reading</th>\
</tr>${differences}</table>
${
  c.warnings.length > 0
    ? `<h2>Notes</h2><ul id="warnings">\
${c.warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>`
    : ''
}
`,
  )
}
