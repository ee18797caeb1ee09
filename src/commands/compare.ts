import {mkdir, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {Flags} from '@oclif/core'

import {compareResults, formatComparison, loadResults} from '../bench/compare.js'
import {renderComparison} from '../bench/compare-report.js'
import {evaluateFailOn, formatFailOn, parseFailOn} from '../bench/fail-on.js'
import {THRESHOLDS_FAILED_EXIT} from '../bench/thresholds.js'
import {FaasCommand} from '../cli/faas-command.js'
import {numberFlag} from '../cli/flags.js'

export default class Compare extends FaasCommand {
  static override summary =
    'Put bench results side by side: a table, and one offline HTML report with the CDFs overlaid and p50/p90/p99 ' +
    'differences with bootstrap intervals.'
  static override description =
    'Give two or more folders faas bench wrote (e.g. the same functions over Lambda and gRPC, local and AWS, before ' +
    'and after). The first is the baseline: every other run is compared with it, over all successful measured calls ' +
    'and, when the runs drove several endpoints, per endpoint paired by position in the endpoints file. Writes ' +
    'report.html and comparison.json under --out.'

  static override examples = [
    '<%= config.bin %> compare bench-results/lambda bench-results/grpc',
    '<%= config.bin %> compare results/local results/aws --out results/local-vs-aws',
  ]

  static override strict = false

  static override flags = {
    out: Flags.string({
      char: 'o',
      description: 'Folder for report.html and comparison.json (default bench-results/compare-<time>).',
    }),
    confidence: numberFlag({
      description: 'Confidence of the intervals.',
      default: 0.95,
      min: 0,
      max: 1,
      aboveMin: true,
      belowMax: true,
      example: 0.95,
    }),
    iterations: Flags.integer({description: 'Bootstrap resamples.', default: 2000, min: 100, max: 100_000}),
    seed: Flags.integer({description: 'Seed of the resampling.', default: 1}),
    'fail-on': Flags.string({
      description:
        "Regression gate, e.g. 'latency:p99>+10%' or 'latency:p50>+2ms' (repeatable): exit 99 when a run is worse " +
        'than the first by more than that, its bootstrap interval wholly above the bound.',
      multiple: true,
    }),
  }

  async run() {
    const {argv, flags} = await this.parse(Compare)
    const dirs = argv as string[]
    const gates = (flags['fail-on'] ?? []).map(parseFailOn)
    const sets = []
    for (const dir of dirs) sets.push(await loadResults(dir))
    const comparison = await compareResults(sets, {
      confidence: flags.confidence,
      iterations: flags.iterations,
      seed: flags.seed,
    })
    const out =
      flags.out ?? `bench-results/compare-${new Date().toISOString().replaceAll(':', '-').replace(/\..*/, '')}`
    await mkdir(out, {recursive: true})
    await writeFile(join(out, 'report.html'), renderComparison(comparison, sets))
    const failOn = gates.length > 0 ? evaluateFailOn(gates, comparison) : undefined
    await writeFile(join(out, 'comparison.json'), JSON.stringify({...comparison, failOn}, null, 2) + '\n')
    if (!this.jsonEnabled()) {
      for (const line of formatComparison(comparison)) this.log(line)
      for (const line of formatFailOn(failOn ?? [])) this.log(line)
      this.log(`report: ${join(out, 'report.html')}`)
    }
    // A gate that failed exits as a failed bench threshold does (docs/bench.md).
    if (failOn?.some((r) => r.fail)) process.exitCode = THRESHOLDS_FAILED_EXIT
    return {...comparison, ...(failOn ? {failOn} : {}), files: [join(out, 'report.html'), join(out, 'comparison.json')]}
  }
}
