import {Flags} from '@oclif/core'
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {FaasCommand} from '../cli/faas-command.js'
import {pricesFlag, targetFlag} from '../cli/flags.js'
import {UserError} from '../core/errors.js'
import {loadSettings} from '../core/settings.js'
import {createTarget} from '../targets/index.js'
import {parsePrices} from '../bench/prices.js'
import {tuneFiles} from '../tune/report.js'
import {checkTuneRequest, tune, type Strategy, type TuneResult} from '../tune/tune.js'

const number = (flag: string, text: string): number => {
  const value = Number(text)
  if (text.trim() === '' || !Number.isFinite(value))
    throw new UserError(`${flag} "${text}" is not a number.`, {code: 'BAD_TUNE', fix: `Give ${flag} a number.`})
  return value
}

export default class Tune extends FaasCommand {
  static override summary = "Choose a function's memory size as AWS Lambda Power Tuning does, with intervals."
  static override description =
    'For each power value a version with that memory behind an alias tune-<MB> ($LATEST gets its memory back), ' +
    '--num calls through it, durations from the REPORT lines, cost as Power Tuning computes it (billed duration × ' +
    'price per GB-second) and beside it the total with the request price, and the choice by --strategy. The choice ' +
    'is called only when the bootstrap interval against the runner-up excludes zero. The tune-<MB> aliases and the ' +
    'versions the run published are removed afterwards; --auto-optimize points --alias at the chosen one.'
  static override examples = [
    '<%= config.bin %> tune -f my-fn --power-values 128,256,512,1024,1769,3008 --num 20 --parallel --strategy balanced',
  ]

  static override flags = {
    target: targetFlag(),
    function_name: Flags.string({
      char: 'f',
      aliases: ['function-name'],
      description: 'Function to tune.',
      required: true,
    }),
    'power-values': Flags.string({description: 'Memory sizes, MB (128–10240).', default: '128,256,512,1024,1769,3008'}),
    num: Flags.integer({description: 'Calls per power value (at least 5).', default: 10}),
    payload: Flags.string({char: 'p', description: 'Event as JSON.', default: '{}'}),
    strategy: Flags.string({description: 'cost, speed or balanced.', default: 'cost'}),
    'balanced-weight': Flags.string({description: 'balanced: 0 = speed only … 1 = cost only.', default: '0.5'}),
    parallel: Flags.boolean({description: "A value's calls at once, and all values at once.", default: false}),
    'only-cold-starts': Flags.boolean({
      description: "Every call a cold start: one version per call (Power Tuning's onlyColdStarts).",
      default: false,
    }),
    'discard-top-bottom': Flags.string({
      description: 'Share of slowest and of fastest calls left out (0–0.4; default 0.2, 0 with --only-cold-starts).',
    }),
    'auto-optimize': Flags.boolean({description: 'Point --alias at the chosen version.', default: false}),
    alias: Flags.string({description: 'With --auto-optimize: the alias to point.', default: 'live'}),
    prices: pricesFlag(),
    out: Flags.string({
      char: 'o',
      description: 'Folder for tune.json, calls.csv, records.jsonl/records.csv (every call) and report.html.',
    }),
  }

  async run() {
    const {flags} = await this.parse(Tune)
    const powerValues = flags['power-values'].split(',').map((v) => number('--power-values', v))
    const request = {
      functionName: flags.function_name,
      powerValues,
      num: flags.num,
      payload: flags.payload,
      strategy: flags.strategy as Strategy,
      balancedWeight: number('--balanced-weight', flags['balanced-weight']),
      parallel: flags.parallel,
      onlyColdStarts: flags['only-cold-starts'],
      // Power Tuning's default: 0.2, but none left out when every call is cold.
      discardTopBottom: number(
        '--discard-top-bottom',
        flags['discard-top-bottom'] ?? (flags['only-cold-starts'] ? '0' : '0.2'),
      ),
      autoOptimize: flags['auto-optimize'],
      alias: flags.alias,
      ...(flags.prices === undefined ? {} : {prices: parsePrices(flags.prices)}),
    }
    // Bad input is refused before a target is made (no service started, nothing changed).
    checkTuneRequest(request)
    const target = await createTarget(flags.target, loadSettings())
    const result = await tune(target, request, this.emit)
    if (flags.out) writeOut(flags.out, result)
    if (!this.jsonEnabled()) for (const line of summary(result)) this.log(line)
    // The records go to -o DIR; --json prints the result without them.
    const {records: _records, ...printed} = result
    return printed
  }
}

function summary(r: TuneResult): string[] {
  const usd = (x: number) => `$${(x * 1e6).toFixed(3)}/M`
  const lines = [
    `${r.functionName} (${r.architecture}), strategy ${r.strategy}` +
      (r.strategy === 'balanced' ? ` (weight ${r.balancedWeight})` : '') +
      (r.onlyColdStarts ? ', only cold starts' : ''),
    '  memory  version  avg ms  median ms [95 % CI]       cost (Power Tuning)  with requests  cold',
  ]
  for (const x of r.results)
    lines.push(
      `  ${String(x.memoryMb).padStart(6)}  ${x.version.padStart(7)}  ${x.averageDurationMs.toFixed(1).padStart(6)}  ` +
        `${x.medianDurationMs.toFixed(1).padStart(9)} [${x.durationIntervalMs[0].toFixed(1)}, ` +
        `${x.durationIntervalMs[1].toFixed(1)}]`.padEnd(18) +
        `  ${usd(x.averageCostUsd).padStart(19)}  ${usd(x.averageTotalUsd).padStart(13)}  ${x.coldStarts}`,
    )
  const inits = r.results.filter((x) => x.medianInitDurationMs !== undefined)
  const init = (x: TuneResult['results'][number]) => `${x.memoryMb} MB ${x.medianInitDurationMs!.toFixed(1)} ms`
  if (inits.length) lines.push(`  median Init Duration: ${inits.map(init).join(', ')}`)
  lines.push(`best (${r.strategy}): ${r.best.memoryMb} MB, version ${r.best.version}`)
  lines.push(`verdict: ${r.verdict}`)
  if (r.alias) lines.push(`alias ${r.alias.name} → version ${r.alias.version}`)
  lines.push(
    `prices: $${r.prices.perGbSecondUsd}/GB-s, $${r.prices.perRequestUsd}/request (${r.prices.asOf}); ` +
      `wall ${(r.wallMs / 1000).toFixed(1)} s`,
  )
  return lines
}

function writeOut(dir: string, result: TuneResult): void {
  mkdirSync(dir, {recursive: true})
  for (const [name, text] of tuneFiles(result)) writeFileSync(join(dir, name), text)
}
