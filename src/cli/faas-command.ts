import {Command, Flags} from '@oclif/core'

import {isUserError} from '../core/errors.js'
import type {Emit} from '../core/events.js'
import {progressRenderer} from './progress.js'

/**
 * Base of every faas command: --json on all of them, progress events rendered to stderr (silent
 * with --json), and user errors printed as one paragraph with no stack trace.
 */
export abstract class FaasCommand extends Command {
  static override enableJsonFlag = true

  static override baseFlags = {
    verbose: Flags.boolean({description: 'Also show build and function log lines.', default: false, helpGroup: 'GLOBAL'}),
  }

  /** Renders progress events; silent when --json is given. */
  protected get emit(): Emit {
    this.#emit ??= progressRenderer({quiet: this.jsonEnabled(), verbose: this.argv.includes('--verbose')})
    return this.#emit
  }

  #emit?: Emit

  protected override async catch(error: Error & {exitCode?: number}): Promise<unknown> {
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
