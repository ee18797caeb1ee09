import {FaasCommand} from '../../cli/faas-command.js'
import {portFlag} from '../../cli/flags.js'
import {localStatus} from '../../local/service-process.js'

export default class LocalStatus extends FaasCommand {
  static override summary =
    'Show whether the local Lambda service runs, its functions, their environments, Function URLs and APIs.'
  static override examples = ['<%= config.bin %> local status', '<%= config.bin %> local status --json']

  static override flags = {
    port: portFlag('Port of the service when no state file records it (default 9001, or FAAS_LOCAL_PORT).'),
  }

  async run() {
    const {flags} = await this.parse(LocalStatus)
    const status = await localStatus({port: flags.port})
    if (!status.running) {
      this.log(`No local Lambda service answers on ${status.url} (start one: faas local start --detach)`)
      return status
    }
    this.log(`Local Lambda service on ${status.url} (pid ${status.pid})`)
    for (const name of status.functions ?? []) {
      const env = (status.environments?.[name] ?? {environments: 0, idle: 0, busy: 0, queued: 0}) as Record<
        string,
        number
      >
      this.log(`  ${name}\t${env.environments} environments (${env.busy} busy, ${env.idle} idle, ${env.queued} queued)`)
      for (const url of (status.urls ?? []).filter((u) => u.function === name)) {
        const qualifier = url.qualifier === '$LATEST' ? '' : ` (${url.qualifier})`
        this.log(
          `    URL${qualifier} ${url.url}\t${url.authType}${url.invokeMode === 'BUFFERED' ? '' : ` ${url.invokeMode}`}`,
        )
      }
    }
    for (const api of status.apis ?? []) {
      this.log(`  API ${api.name} ${api.url}`)
      for (const r of api.routes) this.log(`    ${r.routeKey}\t${r.function}\t(payload ${r.payloadFormat})`)
    }
    return status
  }
}
