/**
 * Where a local cold start's time went, as the local service reports it in the cold invocation's log
 * (one platform line, like Lambda's INIT_START / INIT_REPORT): resolving the image reference to an
 * image, creating the container, starting it, and the runtime's init until its first `next`.
 *
 * Which parts Lambda's own figures cover: Init Duration is `init` (the runtime's init, from the sandbox
 * releasing it to its first `next`); Lambda does not report fetching the image or creating and starting
 * the sandbox (`image`, `create`, `start`). A cold call's client latency includes them unless the
 * sandbox was `prepared` ahead of the call (off the request path, as on Lambda). The first
 * invocation's Duration is the REPORT line's Duration.
 */
export interface InitBreakdown {
  imageMs: number
  createMs: number
  startMs: number
  initMs: number
  /** The sandbox was made before the call came (image, create and start were not on its path). */
  prepared?: boolean
}

export const INIT_BREAKDOWN_PREFIX = 'FAAS_INIT_BREAKDOWN'

export function formatInitBreakdown(b: InitBreakdown, json = false): string {
  if (json) return JSON.stringify({time: new Date().toISOString(), type: 'faas.initBreakdown', record: b})
  return (
    `${INIT_BREAKDOWN_PREFIX} Image: ${b.imageMs.toFixed(2)} ms\tCreate: ${b.createMs.toFixed(2)} ` +
    `ms\tStart: ${b.startMs.toFixed(2)} ms\tInit Duration: ${b.initMs.toFixed(2)} ms` +
    (b.prepared ? '\tPrepared: yes' : '')
  )
}

/** The breakdown from a log tail (text or JSON log format); undefined when the log has none. */
export function parseInitBreakdown(log: string | undefined): InitBreakdown | undefined {
  if (!log) return undefined
  for (const line of log.split('\n')) {
    if (line.startsWith(INIT_BREAKDOWN_PREFIX)) {
      const figure = (label: string) => Number(new RegExp(`${label}: ([\\d.]+) ms`).exec(line)?.[1])
      const b = {
        imageMs: figure('Image'),
        createMs: figure('Create'),
        startMs: figure('Start'),
        initMs: figure('Init Duration'),
      }
      if (Object.values(b).every(Number.isFinite)) return line.includes('\tPrepared: yes') ? {...b, prepared: true} : b
    }
    if (line.includes('"faas.initBreakdown"')) {
      try {
        const record = JSON.parse(line).record
        const b = {
          imageMs: Number(record.imageMs),
          createMs: Number(record.createMs),
          startMs: Number(record.startMs),
          initMs: Number(record.initMs),
        }
        if (Object.values(b).every(Number.isFinite)) return record.prepared === true ? {...b, prepared: true} : b
      } catch {}
    }
  }
  return undefined
}
