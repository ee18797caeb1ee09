import {Flags} from '@oclif/core'

import {FaasCommand} from '../../cli/faas-command.js'
import {portFlag} from '../../cli/flags.js'
import {isUserError, messageOf} from '../../core/errors.js'
import {loadSettings} from '../../core/settings.js'
import {SERVICE_FLAG_RANGES} from '../../local/options.js'
import {runService, startDetached} from '../../local/service-process.js'
import type {Target} from '../../targets/target.js'

export default class LocalStart extends FaasCommand {
  static override handlesSignals = true

  static override summary =
    "Serve the local Lambda service: Lambda's Invoke API and Runtime API over your local images."
  static override description =
    'Functions deployed with --target local run here, one container per execution environment (concurrent ' +
    'invocations run in parallel, warm environments are reused, cold starts report Init Duration). Sandboxes are ' +
    'prepared ahead of calls (--prepared per function, --prepared-total in all), so a cold call pays only for the ' +
    "runtime's init. Any AWS SDK with " +
    'endpoint_url http://127.0.0.1:9001 can invoke them. In the foreground Ctrl-C stops the service and removes ' +
    'every container it started; --detach runs it in the background (faas local stop ends it).'

  static override examples = [
    '<%= config.bin %> local start',
    '<%= config.bin %> local start --detach --port 9001',
    'FAAS_LOCAL_S3_ENDPOINT=http://127.0.0.1:9000 <%= config.bin %> local start --detach',
  ]

  static override flags = {
    port: portFlag('Port on 127.0.0.1 (default 9001, or FAAS_LOCAL_PORT).'),
    detach: Flags.boolean({description: 'Run in the background and return once it answers.', default: false}),
    's3-endpoint': Flags.string({
      description: 'AWS_ENDPOINT_URL_S3 given to functions (default FAAS_LOCAL_S3_ENDPOINT).',
    }),
    'aws-endpoint': Flags.string({
      description:
        'The AWS emulator (e.g. moto) holding the SQS queues and EventBridge buses that async invocations send their ' +
        'records to (default FAAS_LOCAL_AWS_ENDPOINT, else --s3-endpoint).',
    }),
    'async-retry-delays': Flags.string({
      description:
        "Seconds before the first and second retry of a failed Event invocation (Lambda's: about 60,120); shorter " +
        'for tests, e.g. 1,2.',
    }),
    'idle-timeout': Flags.integer({
      description: 'Seconds an idle environment is kept warm.',
      default: 600,
      ...SERVICE_FLAG_RANGES['idle-timeout'],
    }),
    'max-environments': Flags.integer({
      description:
        'Environments per function when it has no reserved concurrency (calls beyond wait in a queue), 1–1000.',
      default: 16,
      ...SERVICE_FLAG_RANGES['max-environments'],
    }),
    'max-queue': Flags.integer({
      description: 'Synchronous calls that may wait per function; beyond, 429 TooManyRequestsException.',
      default: 1000,
      ...SERVICE_FLAG_RANGES['max-queue'],
    }),
    'queue-timeout': Flags.integer({
      description: 'Seconds a synchronous call may wait for an environment before it gets 429.',
      default: 60,
      ...SERVICE_FLAG_RANGES['queue-timeout'],
    }),
    prepare: Flags.boolean({
      description:
        "Prepare sandboxes ahead of calls, so a cold call pays only for the runtime's init; --no-prepare makes every " +
        'cold call create and start its own container (to measure the whole path).',
      default: true,
      allowNo: true,
    }),
    prepared: Flags.integer({
      description: 'Sandboxes kept prepared per function (0: none). Default 1, or FAAS_LOCAL_PREPARED.',
      ...SERVICE_FLAG_RANGES.prepared,
    }),
    'prepared-total': Flags.integer({
      description: 'Sandboxes kept prepared over all functions. Default 8, or FAAS_LOCAL_PREPARED_TOTAL.',
      ...SERVICE_FLAG_RANGES['prepared-total'],
    }),
    'pass-credentials': Flags.boolean({
      description:
        'Give functions an STS session of your AWS credentials (through the container-credentials endpoint, never ' +
        'as variables).',
      default: false,
    }),
    template: Flags.string({
      description:
        'An AWS SAM template to deploy once the service answers (as faas deploy --target local --template): its ' +
        'image functions, URLs and Api/HttpApi routes.',
    }),
    'parameter-overrides': Flags.string({
      description: "With --template: a parameter's value, Key=Value (repeatable), over its Default.",
      multiple: true,
    }),
  }

  async run() {
    const {flags} = await this.parse(LocalStart)
    const options = {
      port: flags.port,
      s3Endpoint: flags['s3-endpoint'],
      awsEndpoint: flags['aws-endpoint'],
      asyncRetryDelays: flags['async-retry-delays'],
      idleTimeoutS: flags['idle-timeout'],
      maxEnvironments: flags['max-environments'],
      maxQueue: flags['max-queue'],
      queueTimeoutS: flags['queue-timeout'],
      prepared: flags.prepared,
      preparedTotal: flags['prepared-total'],
      prepare: flags.prepare,
      passCredentials: flags['pass-credentials'],
    }
    const settings = loadSettings()
    const template = flags.template
    // Deploying a template needs the SDK clients, loaded only then: the start itself stays quick.
    const deploying = template ? import('../../services/template-deploy.js') : undefined
    const parameters = (await deploying)?.parseParameterOverrides(flags['parameter-overrides'])
    const deployIt = async (target: Target) => {
      const {deployTemplate} = (await deploying)!
      const result = await deployTemplate(target, settings, {template: template!, parameters: parameters!}, this.emit)
      for (const f of result.functions) this.log(`  ${f.name}\t${f.action}${f.url ? `\tURL ${f.url}` : ''}`)
      if (result.api) this.log(`  API ${result.api.url}`)
      return result
    }
    if (flags.detach) {
      const state = await startDetached(settings, options, this.emit)
      this.log(`Local Lambda service on ${state.url} (pid ${state.pid})`)
      const target = template && (await (await import('../../targets/index.js')).createTarget('local', settings))
      const deployed = target ? await deployIt(target) : undefined
      return {url: state.url, pid: state.pid, logFile: state.logFile, ...(deployed ? {template: deployed} : {})}
    }
    let url = ''
    await runService(settings, options, this.emit, (service) => {
      url = service.url
      if (!template) return
      // The service serves meanwhile; a template that fails to deploy is reported and the service stays up.
      import('../../targets/local.js')
        .then(({createLocalTarget}) =>
          deployIt(createLocalTarget(settings, {endpoint: service.url, credentials: service.credentials})),
        )
        .catch((error: unknown) =>
          this.emit({
            kind: 'warn',
            subject: 'template',
            message: isUserError(error) ? error.paragraph : messageOf(error),
          }),
        )
    })
    return {url, stopped: true}
  }
}
