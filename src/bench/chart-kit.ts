/**
 * The HTML chart kit of faas's three offline reports (bench's report.html, compare's, an experiment's): escaping,
 * the page and its base style, round tick values, a plot frame with labelled axes, a figure with a legend, and the
 * empirical-CDF path. Inline SVG and CSS only (no script, no network): a report opens offline in any browser.
 */

export const esc = (s: string): string =>
  s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;')
/** A coordinate or value rounded to two decimals, as short as it gets (SVG stays small). */
export const r2 = (v: number): string => (Math.round(v * 100) / 100).toString()

/** Series colours, in order (matplotlib's tab10 colours). */
const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf']
export const seriesColor = (i: number): string => PALETTE[i % PALETTE.length]!
/** The coloured square that ties a name to its series. */
export const swatch = (color: string): string => `<span class="key" style="background:${color}"></span>`

/** A round step (1, 2, 2.5 or 5 × a power of ten) giving about five ticks up to max > 0. */
function niceStep(max: number): number {
  const raw = max / 5
  const magnitude = 10 ** Math.floor(Math.log10(raw))
  return [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw
}

/** ~5 round tick values from 0 up to the first at or above max, so the top of the plot carries a label. */
export function ticks(max: number): number[] {
  if (!(max > 0)) return [0]
  const step = niceStep(max)
  const out: number[] = []
  for (let i = 0; out.length === 0 || out.at(-1)! < max * 0.9999; i++) out.push(i * step)
  return out
}

/** The axis end (a whole number of round steps at or above max) and its step. */
export function niceMax(max: number): {max: number; step: number} {
  if (!(max > 0)) return {max: 1, step: 0.2}
  const step = niceStep(max)
  return {max: Math.ceil(max / step) * step, step}
}

/** The plot frame of the x/y charts: width, height and margins. */
export const W = 760
export const H = 300
export const M = {left: 64, right: 16, top: 16, bottom: 44}

export interface Axes {
  x: (v: number) => number
  y: (v: number) => number
  svg: string
}

/** A frame from 0 to xMax and 0 to yMax with grid lines, tick labels and axis labels; the scales map values in. */
export function axes(xMax: number, yMax: number, xLabel: string, yLabel: string, yTicks = ticks(yMax)): Axes {
  const pw = W - M.left - M.right
  const ph = H - M.top - M.bottom
  const xTicks = ticks(xMax)
  const xm = xTicks.at(-1)! > 0 ? xTicks.at(-1)! : 1
  const ym = yTicks.at(-1)! > 0 ? yTicks.at(-1)! : 1
  const x = (v: number) => M.left + (v / xm) * pw
  const y = (v: number) => M.top + ph - (v / ym) * ph
  let svg = `<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="#fff" stroke="#ccc"/>`
  for (const t of xTicks)
    svg +=
      `<line x1="${r2(x(t))}" x2="${r2(x(t))}" y1="${M.top}" y2="${M.top + ph}" stroke="#eee"/><text ` +
      `x="${r2(x(t))}" y="${M.top + ph + 16}" text-anchor="middle">${r2(t)}</text>`
  for (const t of yTicks)
    svg +=
      `<line x1="${M.left}" x2="${M.left + pw}" y1="${r2(y(t))}" y2="${r2(y(t))}" stroke="#eee"/><text ` +
      `x="${M.left - 6}" y="${r2(y(t) + 4)}" text-anchor="end">${r2(t)}</text>`
  svg += `<text x="${M.left + pw / 2}" y="${H - 6}" text-anchor="middle" class="label">${esc(xLabel)}</text>`
  svg +=
    `<text transform="translate(14 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle" ` +
    `class="label">${esc(yLabel)}</text>`
  return {x, y, svg}
}

/** A captioned SVG figure; `caption` is HTML (escape what it quotes), `label` its accessible name. */
export function figure(f: {id: string; className?: string; caption: string; label: string; size: [number, number]}) {
  const [width, height] = f.size
  return (body: string): string =>
    `<figure${f.className ? ` class="${f.className}"` : ''} id="${f.id}"><figcaption>${f.caption}</figcaption>` +
    `<svg class="chart" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" ` +
    `aria-label="${esc(f.label)}">${body}</svg></figure>`
}

/** A figure in the standard frame, its title followed by a legend of [colour, name]. */
export const chart = (id: string, title: string, body: string, legend: Array<[string, string]>): string =>
  figure({
    id,
    caption: `${esc(title)} ` + legend.map(([color, name]) => `${swatch(color)}${esc(name)}`).join(' '),
    label: title,
    size: [W, H],
  })(body)

/** The y ticks of a CDF: fractions of calls. */
export const CDF_TICKS = [0, 0.25, 0.5, 0.75, 1]

/**
 * SVG path of the empirical CDF of ascending values in at most `maxSteps` steps; values beyond `clampTo` are drawn at
 * that edge (so a few outliers do not squash the body of a distribution).
 */
export function cdfPath(a: Axes, sorted: number[], maxSteps = 200, clampTo = Infinity): string {
  if (sorted.length === 0) return ''
  const steps = Math.min(maxSteps, sorted.length)
  const x = (v: number) => r2(a.x(Math.min(v, clampTo)))
  let d = `M${x(sorted[0]!)},${r2(a.y(0))}`
  for (let i = 1; i <= steps; i++) {
    const index = Math.ceil((i / steps) * sorted.length) - 1
    d += ` L${x(sorted[index]!)},${r2(a.y((index + 1) / sorted.length))}`
  }
  return d
}

/**
 * The reports' common stylesheet: page width, headings, tables (cells right-aligned for figures, or left for text),
 * SVG text. Each report appends its own rules.
 */
export function baseStyle(maxWidthPx: number, cells: 'right' | 'left'): string {
  const table =
    cells === 'right'
      ? 'text-align:right}th{text-align:left;background:#f6f6f6}'
      : 'text-align:left}th{background:#f6f6f6}'
  return (
    `body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:${maxWidthPx}px}\n` +
    'h1{font-size:20px}h2{font-size:16px;margin-top:28px}\n' +
    `table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 8px;${table}\n`
  )
}

/** The whole page: `style` and `body` are the report's own (body ends with a newline). */
export const page = (title: string, style: string, body: string): string =>
  `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>
${style}</style></head><body>
${body}</body></html>
`
