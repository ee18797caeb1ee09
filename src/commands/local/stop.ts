import {Flags} from '@oclif/core'

import {FaasCommand} from '../../cli/faas-command.js'
import {portFlag} from '../../cli/flags.js'
import {DockerEngine} from '../../docker/engine.js'
import {stopLocalService} from '../../local/service-process.js'
import {stopLocalS3} from '../../storage/local-s3.js'

export default class LocalStop extends FaasCommand {
  static override summary =
    'Stop the background local Lambda service (it removes every container it started) and the local S3 store.'
  static override examples = ['<%= config.bin %> local stop', '<%= config.bin %> local stop --keep-storage']

  static override flags = {
    port: portFlag('Port of the service when no state file records it (default 9001, or FAAS_LOCAL_PORT).'),
    'keep-storage': Flags.boolean({
      description: 'Leave the local S3 store (and the run inputs in it) running.',
      default: false,
    }),
  }

  async run() {
    const {flags} = await this.parse(LocalStop)
    const result = await stopLocalService({port: flags.port}, this.emit)
    this.log(
      result.stopped
        ? `Stopped the local Lambda service on ${result.url}`
        : `No local Lambda service answers on ${result.url}`,
    )
    const storesStopped = flags['keep-storage'] ? 0 : await stopLocalS3(new DockerEngine())
    if (storesStopped > 0) this.log('Stopped the local S3 store')
    return {...result, storesStopped}
  }
}
