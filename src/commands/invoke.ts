import {Flags} from '@oclif/core'

import {FaasCommand} from '../cli/faas-command.js'
import {targetFlag} from '../cli/flags.js'
import {parsePayload} from '../core/function-config.js'
import {loadSettings} from '../core/settings.js'
import {UserError} from '../core/errors.js'
import {invokeFunction} from '../services/deploy.js'
import {invokeStreamed} from '../services/invoke-stream.js'
import {createTarget} from '../targets/index.js'
import type {InvocationType} from '../core/invoke.js'

export default class Invoke extends FaasCommand {
  static override summary = 'Invoke a function and show its result, its log tail and the REPORT figures.'
  static override description =
    'A function error (X-Amz-Function-Error) is shown as an error and exits 1. --log asks for the last 4 KB of the ' +
    'log (LogType Tail). --stream calls InvokeWithResponseStream and prints the answer as the function streams it ' +
    "(a function on Python's managed runtime answers in one piece, as on Lambda, and faas says so)."
  static override examples = [
    `<%= config.bin %> invoke --function_name NewFuncLambda --payload '{"K1":"V1"}' --log --target aws`,
  ]

  static override flags = {
    target: targetFlag(),
    function_name: Flags.string({
      char: 'f',
      aliases: ['function-name'],
      description: 'Function to invoke.',
      required: true,
    }),
    payload: Flags.string({char: 'p', description: 'Event as JSON.', default: '{}'}),
    type: Flags.string({
      description: 'Invocation type.',
      options: ['RequestResponse', 'Event', 'DryRun'],
      default: 'RequestResponse',
    }),
    log: Flags.boolean({description: 'Show the decoded 4 KB log tail.', default: false}),
    stream: Flags.boolean({description: 'Print the answer as it streams (InvokeWithResponseStream).', default: false}),
  }

  async run() {
    const {flags} = await this.parse(Invoke)
    const settings = loadSettings()
    const target = await createTarget(flags.target, settings)
    const request = {
      name: flags.function_name,
      payload: parsePayload(flags.payload),
      invocationType: flags.type as InvocationType,
      logTail: true,
    }
    if (flags.stream && flags.type === 'Event') throw streamingEvent()
    let lastByte: number | undefined
    const print = (bytes: Buffer) => {
      if (this.jsonEnabled() || bytes.length === 0) return
      process.stdout.write(bytes)
      lastByte = bytes.at(-1)
    }
    const outcome = flags.stream
      ? await invokeStreamed(target, request, print, this.emit)
      : await invokeFunction(target, request)
    const log = flags.log ? outcome.log : undefined
    const result = {...outcome, log}
    if (!this.jsonEnabled()) {
      if (lastByte !== undefined && lastByte !== 0x0a) this.log('') // the streamed answer's line ends
      if (log) this.logToStderr(log.trimEnd())
      const r = outcome.report
      if (r)
        this.logToStderr(
          `duration ${r.durationMs} ms, billed ${r.billedDurationMs} ms, ` +
            `memory ${r.maxMemoryUsedMb}/${r.memorySizeMb} ` +
            `MB${r.initDurationMs === undefined ? ', warm' : `, init ${r.initDurationMs} ms (cold)`}` +
            `${r.emulated ? ', emulated' : ''}, client ${(outcome.clientLatencyUs / 1000).toFixed(1)} ms`,
        )
      if (outcome.payload && !flags.stream) this.log(outcome.payload)
    }
    if (outcome.functionError) {
      if (!this.jsonEnabled())
        this.logToStderr(`Error: ${outcome.name} failed (${outcome.functionError}): ${outcome.payload}`)
      // Exit 1 with the full result still in --json (oclif would replace it with a bare error).
      process.exitCode = 1
      return {...result, error: {code: 'FUNCTION_ERROR', message: `${outcome.name} failed (${outcome.functionError}).`}}
    }
    return result
  }
}

const streamingEvent = () =>
  new UserError('--stream reads the answer as it streams, and an Event call has no answer to read.', {
    code: 'STREAM_EVENT',
    fix: 'Drop --stream for --type Event, or call with --type RequestResponse (the default).',
  })
