import {Command, Flags, Interfaces} from '@oclif/core'

import {isUserError} from '../core/errors.js'
import type {Emit} from '../core/events.js'
import {flagParsingError} from './flags.js'
import {progressRenderer} from './progress.js'

/** What oclif parses flags and args into (its own FlagOutput/ArgOutput, which it does not export). */
type Output = {[name: string]: unknown}

/**
 * Base of every faas command: --json on all of them, progress events rendered to stderr (silent
 * with --json), and user errors printed as one paragraph with no stack trace.
 */
export abstract class FaasCommand extends Command {
  static override enableJsonFlag = true

  static override baseFlags = {
    verbose: Flags.boolean({
      description: 'Also show build and function log lines.',
      default: false,
      helpGroup: 'GLOBAL',
    }),
  }

  /**
   * Renders progress events; silent when --json is given. Remembers the work in flight for an interruption's message.
   */
  protected get emit(): Emit {
    if (!this.#emit) {
      const render = progressRenderer({quiet: this.jsonEnabled(), verbose: this.#verbose})
      this.#emit = (event) => {
        if (event.kind === 'start') {
          this.#inFlight.delete(event.subject)
          this.#inFlight.set(event.subject, event.message)
        } else if (event.kind === 'done') this.#inFlight.delete(event.subject)
        render(event)
      }
    }
    return this.#emit
  }

  #emit?: Emit
  #inFlight = new Map<string, string>()

  /** Commands that handle SIGINT/SIGTERM themselves (bench keeps its results, local start removes its containers). */
  static handlesSignals = false

  protected override async init(): Promise<void> {
    await super.init()
    if ((this.constructor as typeof FaasCommand).handlesSignals) return
    process.on('SIGINT', this.#interrupted)
    process.on('SIGTERM', this.#interrupted)
  }

  /**
   * Ctrl-C or SIGTERM, unless the command handles the signal itself (handlesSignals): one line
   * saying what was interrupted and how to resume, then exit 130/143. Every step faas takes is
   * idempotent and skips what is done, so running the same command again resumes the work.
   */
  #interrupted = (signal: NodeJS.Signals) => {
    const work = [...this.#inFlight.values()].slice(-2).map((m) => m.replace(/…$/, ''))
    const command = `faas ${this.id?.replaceAll(':', ' ') ?? ''}`.trim()
    process.stderr.write(
      `\nInterrupted \`${command}\` (${signal})${work.length > 0 ? ` while: ${work.join('; ')}` : ''}. To resume, ` +
        `run the same command again: finished steps (built layers, pushed images, deployed functions, uploaded ` +
        `input) are reused, and the one cut short is redone.\n`,
    )
    process.exit(signal === 'SIGINT' ? 130 : 143)
  }

  #verbose = false

  /**
   * Parses as oclif does, keeping the parsed --verbose (so `--verbose=false` or a flag value "--verbose" mean what they
   * say).
   */
  protected override async parse<F extends Output, B extends Output, A extends Output>(
    options?: Interfaces.Input<F, B, A>,
    argv?: string[],
  ): Promise<Interfaces.ParserOutput<F, B, A>> {
    const parsed = await super.parse(options, argv)
    this.#verbose = Boolean((parsed.flags as {verbose?: boolean}).verbose)
    return parsed
  }

  protected override async catch(caught: Error & {exitCode?: number}): Promise<unknown> {
    // A flag value oclif or our parsers refused is bad input like any other: one paragraph, no usage dump.
    const error = flagParsingError(caught, {...this.ctor.baseFlags, ...this.ctor.flags}) ?? caught
    if (isUserError(error)) {
      if (this.jsonEnabled()) {
        this.logJson({error: {code: error.code, message: error.paragraph}})
        this.exit(1)
      }
      this.logToStderr(`Error: ${error.paragraph}`)
      this.exit(1)
    }
    return super.catch(error)
  }
}
