import {Args} from '@oclif/core'

import {FaasCommand} from '../../cli/faas-command.js'
import {reportExperiment} from '../../experiments/results.js'

export default class ExperimentReport extends FaasCommand {
  static override summary = "Rebuild an experiment's comparison and HTML report from its results folder."
  static override examples = [
    '<%= config.bin %> experiment report experiment-results/dependency-size-2026-11-27T03-00-00-000Z',
  ]
  static override args = {
    dir: Args.string({description: 'Results folder written by faas experiment run.', required: true}),
  }

  async run() {
    const {args} = await this.parse(ExperimentReport)
    const result = await reportExperiment(args.dir, this.emit)
    for (const line of result.verdicts) this.log(line)
    this.log(`report: ${result.report}`)
    return result
  }
}
