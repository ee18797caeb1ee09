import type {Reconfigure} from '../bench/bench.js'
import type {Emit} from '../core/events.js'
import type {Invoke} from '../core/invoke.js'
import type {RunTarget} from '../targets/target.js'
import {powerAlias, publishPowerVersions, type PowerVersions} from './power-versions.js'

/**
 * `bench --memory` through versions, as faas tune measures: the first time a function is "set" to a size,
 * a version per size is published behind its tune-<MB> alias ($LATEST keeps its memory); from then on
 * setting a size only changes which alias that function's calls go to, and restoring removes the aliases
 * and versions. The records keep the function's own name.
 */
export function sweepThroughVersions(
  target: () => Promise<RunTarget>,
  invoke: Invoke,
  sizes: number[],
  emit: Emit,
): {invoke: Invoke; reconfigure: Reconfigure; restore: () => Promise<void>} {
  const published = new Map<string, PowerVersions>()
  const current = new Map<string, number>()
  return {
    invoke: (request) => {
      const size = current.get(request.name)
      return invoke(size === undefined ? request : {...request, name: `${request.name}:${powerAlias(size)}`})
    },
    reconfigure: async (fn, change) => {
      if (change.memoryMb === undefined) return
      if (!published.has(fn)) {
        const t = await target()
        published.set(fn, await publishPowerVersions(t, await t.lambda(), fn, sizes, emit))
      }
      current.set(fn, change.memoryMb)
    },
    restore: async () => {
      current.clear()
      for (const [fn, versions] of published) {
        published.delete(fn)
        await versions.cleanUp()
      }
    },
  }
}
