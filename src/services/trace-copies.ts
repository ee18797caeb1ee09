import type {Emit} from '../core/events.js'
import type {Settings} from '../core/settings.js'
import {TRACE_IMAGE, type TraceCopy} from '../bench/trace/replay.js'
import type {Target} from '../targets/target.js'
import {deploy} from './deploy.js'

/**
 * Deploys one copy of the trace function's image per trace function (bench --trace), each with its
 * own memory size, a few at a time. Deploy is idempotent, so a second replay of the same trace
 * writes nothing; the first failure stops the replay before any call is made.
 */
export async function deployTraceCopies(
  target: Target,
  settings: Settings,
  copies: TraceCopy[],
  emit: Emit,
): Promise<void> {
  let next = 0
  const quiet: Emit = (event) => (event.kind === 'warn' ? emit(event) : undefined)
  const worker = async () => {
    while (next < copies.length) {
      const copy = copies[next++]!
      await deploy(
        target,
        settings,
        {
          repository: TRACE_IMAGE,
          functionName: copy.name,
          memoryMb: copy.memoryMb,
          timeoutS: 900,
          tag: 'latest',
          policies: [],
          env: {},
        },
        quiet,
      )
    }
  }
  await Promise.all(Array.from({length: Math.min(4, copies.length)}, worker))
  emit({kind: 'done', subject: 'bench', message: `${copies.length} trace function copies deployed`})
}
