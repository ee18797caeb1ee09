import {Flags} from '@oclif/core'

import {FaasCommand} from '../../cli/faas-command.js'
import {portFlag} from '../../cli/flags.js'
import {functionLogs} from '../../local/service-process.js'

export default class LocalLogs extends FaasCommand {
  static override summary = 'Print the recent log of a function on the local Lambda service (START/END/REPORT framed).'
  static override examples = [
    '<%= config.bin %> local logs -f map-reduce-mapper',
    '<%= config.bin %> local logs -f map-reduce-driver --lines 20',
  ]

  static override flags = {
    function_name: Flags.string({
      char: 'f',
      aliases: ['function-name'],
      description: 'Function whose log to print.',
      required: true,
    }),
    lines: Flags.integer({description: 'How many of the last lines.', default: 100, min: 1}),
    port: portFlag('Port of the service when no state file records it (default 9001, or FAAS_LOCAL_PORT).'),
  }

  async run() {
    const {flags} = await this.parse(LocalLogs)
    const lines = (await functionLogs(flags.function_name, {port: flags.port})).slice(-flags.lines)
    for (const line of lines) this.log(line)
    return {function: flags.function_name, lines}
  }
}
