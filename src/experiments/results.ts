import {readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {median} from '../bench/bootstrap.js'
import {distribution} from '../bench/stats.js'
import type {InvocationRecord} from '../bench/records.js'
import {UserError} from '../core/errors.js'
import type {Emit} from '../core/events.js'
import {compareVariants, METRIC_INFO, metricKey, metricValues, statisticOf, type Comparison} from './compare.js'
import type {ExperimentRecord, VariantResult} from './record.js'
import {renderExperimentReport} from './report.js'

export type {ExperimentRecord, VariantResult} from './record.js'

export interface ExperimentReport {
  name: string
  target: 'local' | 'aws'
  variants: VariantResult[]
  comparisons: Array<Comparison | {metric: string; a: string; b: string; missing: string}>
  /** One sentence per comparison. */
  verdicts: string[]
  report: string
}

export async function readRecord(dir: string): Promise<ExperimentRecord> {
  try {
    return JSON.parse(await readFile(join(dir, 'experiment.json'), 'utf8')) as ExperimentRecord
  } catch {
    throw new UserError(`${dir} holds no experiment.json, so it is not an experiment's results folder.`, {
      code: 'NO_EXPERIMENT',
      fix: 'Give the folder faas experiment run wrote (it prints it at the end).',
    })
  }
}

/** Every record of every run of a variant, in run order. */
async function variantRecords(dir: string, record: ExperimentRecord, variant: string): Promise<InvocationRecord[]> {
  const out: InvocationRecord[] = []
  for (const run of record.runs.filter((r) => r.variant === variant)) {
    const text = await readFile(join(dir, run.dir, 'records.jsonl'), 'utf8').catch(() => '')
    for (const line of text.split('\n')) if (line.trim()) out.push(JSON.parse(line) as InvocationRecord)
  }
  return out
}

/**
 * The comparison of an experiment's results folder, from its files alone: each pair, each metric,
 * the difference of the statistic with its bootstrap interval and a verdict. Writes comparison.json
 * and report.html (`faas experiment report DIR` calls only this).
 */
export async function reportExperiment(dir: string, emit: Emit): Promise<ExperimentReport> {
  const record = await readRecord(dir)
  const records = new Map<string, InvocationRecord[]>()
  for (const v of record.variants) records.set(v.name, await variantRecords(dir, record, v.name))
  const variants: VariantResult[] = record.variants.map((v) => {
    const mine = records.get(v.name)!.filter((r) => r.phase === 'measure')
    const metrics: VariantResult['metrics'] = {}
    for (const m of record.metrics) {
      const values = metricValues(mine, m.name, record.architecture)
      metrics[metricKey(m)] = {
        statistic: values.length ? statisticOf(m.statistic)(values) : Number.NaN,
        values: values.length,
        distribution: distribution(values),
      }
    }
    // Every cold start counts here, warm-up ones included: the breakdown describes starts, not the metric.
    const broken = records
      .get(v.name)!
      .filter((r) => r.cold && r.initBreakdown && !r.error)
      .map((r) => r.initBreakdown!)
    const med = (xs: number[]) => median(xs) / 1000
    const initBreakdownMs = broken.length
      ? {
          coldCalls: broken.length,
          image: med(broken.map((b) => b.imageUs)),
          create: med(broken.map((b) => b.createUs)),
          start: med(broken.map((b) => b.startUs)),
          init: med(broken.map((b) => b.initUs)),
        }
      : undefined
    return {
      name: v.name,
      calls: mine.length,
      errors: mine.filter((r) => r.error).length,
      cold: mine.filter((r) => r.cold).length,
      metrics,
      ...(initBreakdownMs ? {initBreakdownMs} : {}),
    }
  })
  const comparisons: ExperimentReport['comparisons'] = []
  for (const m of record.metrics) {
    for (const [a, b] of record.pairs) {
      const values = (name: string) => ({
        name,
        values: metricValues(records.get(name) ?? [], m.name, record.architecture),
      })
      comparisons.push(compareVariants(values(a), values(b), m, {seed: record.seed, confidence: record.confidence}))
    }
  }
  const verdicts = comparisons.map(
    (c) =>
      `${METRIC_INFO[c.metric.split(':')[0] as keyof typeof METRIC_INFO].label} ` +
      `(${c.metric.split(':')[1]}): ${'missing' in c ? c.missing : c.verdict.text}`,
  )
  for (const v of variants)
    if (v.errors > 0)
      emit({
        kind: 'warn',
        subject: 'experiment',
        message: `${v.name}: ${v.errors} of ${v.calls} calls failed; they are left out of the comparison`,
      })
  await writeFile(join(dir, 'comparison.json'), JSON.stringify({variants, comparisons, verdicts}, null, 2) + '\n')
  const report = join(dir, 'report.html')
  await writeFile(report, renderExperimentReport({record, variants, comparisons, verdicts, records}))
  emit({kind: 'done', subject: 'experiment', message: `Report: ${report}`})
  return {name: record.name, target: record.target, variants, comparisons, verdicts, report}
}
