import {Args, Flags} from '@oclif/core'

import {FaasCommand} from '../../cli/faas-command.js'
import {targetFlag} from '../../cli/flags.js'
import {loadSettings} from '../../core/settings.js'
import {runExperiment} from '../../experiments/run.js'

export default class ExperimentRun extends FaasCommand {
  static override handlesSignals = true

  static override summary =
    'Run a before/after experiment: build and deploy each variant, drive them alike, and compare with a bootstrap ' +
    'interval.'
  static override description =
    'The experiment file (YAML or JSON) names a benchmark, two or more variants (build args, image, memory, env, ' +
    'handler, keep-warm schedule), the load and the metrics. Variants run interleaved across --repeat repeats. ' +
    'Writes a results folder: per-run bench records, experiment.json, rerun.json (images pinned, same seeds), ' +
    'comparison.json and report.html. Give a results folder instead of a file to rerun it.'

  static override examples = [
    '<%= config.bin %> experiment run experiments/dependency-size/experiment.yaml',
    '<%= config.bin %> experiment run experiments/vcpus/experiment.yaml --repeat 3 --out vcpus-results',
    '<%= config.bin %> experiment run experiment-results/dependency-size-2026-11-27T03-00-00-000Z',
  ]

  static override args = {
    file: Args.string({description: 'Experiment file, or a results folder to rerun.', required: true}),
  }

  static override flags = {
    target: targetFlag(),
    repeat: Flags.integer({description: "Repeats (overrides the file's repeat).", min: 1}),
    out: Flags.string({char: 'o', description: 'Results folder (default experiment-results/<name>-<time>).'}),
    'base-image': Flags.string({description: '"local" for the offline base, or an image (env FAAS_BASE_IMAGE).'}),
    registry: Flags.string({description: "Registry instead of the account's ECR (aws target)."}),
    keep: Flags.boolean({description: "Leave the variants' functions deployed afterwards.", default: false}),
  }

  async run() {
    const {args, flags} = await this.parse(ExperimentRun)
    const settings = loadSettings()
    const target = flags.target
    // The first Ctrl-C stops after the run in progress and still writes the comparison; a second one quits.
    const controller = new AbortController()
    const onSigint = () => (controller.signal.aborted ? process.exit(130) : controller.abort())
    process.on('SIGINT', onSigint)
    try {
      const result = await runExperiment(
        settings,
        {
          file: args.file,
          target,
          repeat: flags.repeat,
          out: flags.out,
          baseImage: flags['base-image'] ?? settings.baseImage,
          registry: flags.registry,
          keep: flags.keep,
        },
        this.emit,
        controller.signal,
      )
      for (const line of result.verdicts) this.log(line)
      this.log(`results: ${result.dir}`)
      this.log(`report: ${result.report}`)
      return result
    } finally {
      process.off('SIGINT', onSigint)
    }
  }
}
