import {Flags} from '@oclif/core'

import {FaasCommand} from '../../cli/faas-command.js'
import {stopLocalService} from '../../local/service-process.js'

export default class LocalStop extends FaasCommand {
  static override summary = 'Stop the background local Lambda service; it removes every container it started.'
  static override examples = ['<%= config.bin %> local stop']

  static override flags = {
    port: Flags.integer({description: 'Port of the service when no state file records it (default 9001, or FAAS_LOCAL_PORT).'}),
  }

  async run() {
    const {flags} = await this.parse(LocalStop)
    const result = await stopLocalService({port: flags.port}, this.emit)
    this.log(result.stopped ? `Stopped the local Lambda service on ${result.url}` : `No local Lambda service answers on ${result.url}`)
    return result
  }
}
