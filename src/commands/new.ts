import {Args, Flags} from '@oclif/core'

import {FaasCommand} from '../cli/faas-command.js'
import {scaffoldBenchmark} from '../core/scaffold.js'

export default class New extends FaasCommand {
  static override summary =
    'Create a benchmark: handler, checker, Dockerfiles, requirements and manifest, verified as generated.'
  static override description =
    'The folder ./<name> is made in the current directory, with a seeded input, a driver and a checker ' +
    '(docs/benchmarks.md). It builds and runs verified at once: faas run <name> --base-image local.'
  static override examples = [
    '<%= config.bin %> new thumbnailer --function resize',
    '<%= config.bin %> run thumbnailer --base-image local',
  ]

  static override args = {
    benchmark: Args.string({
      description: 'Name of the new benchmark (lowercase letters and digits, "-" or "_" between).',
      required: true,
    }),
  }
  static override flags = {function: Flags.string({description: 'Name of its first function.', default: 'hello'})}

  async run() {
    const {args, flags} = await this.parse(New)
    const result = await scaffoldBenchmark(process.cwd(), args.benchmark, flags.function)
    this.log(
      result.created
        ? `Created ${result.dir}:\n  ${result.files.join('\n  ')}`
        : `${result.dir} already exists; left as it is.`,
    )
    if (result.created) this.log(`Next: faas run ${args.benchmark} --base-image local`)
    return result
  }
}
