import type {InvokeOutcome, InvokeRequest} from './target.js'

export interface Pinger {
  /** Settles once the first ping returned (it starts the environment the pings then keep warm). */
  first: Promise<void>
  /** Stops pinging, waits for a ping in flight, and says how many were sent and failed. */
  stop(): Promise<{pings: number; errors: number}>
}

/**
 * The local target's keep-warm schedule: invokes the function every `everyS` seconds with a fixed
 * event, as an EventBridge Scheduler schedule does on AWS. One ping at a time: a slow ping delays
 * the next instead of piling up environments.
 */
export function startPinger(
  invoke: (request: InvokeRequest) => Promise<InvokeOutcome>,
  options: {name: string; everyS: number; payload: unknown},
): Pinger {
  let pings = 0
  let errors = 0
  let stopped = false
  let timer: NodeJS.Timeout | undefined
  let inFlight: Promise<void> = Promise.resolve()
  const payload = JSON.stringify(options.payload)
  const ping = (): Promise<void> => {
    pings++
    inFlight = invoke({name: options.name, payload})
      .then((outcome) => {
        if (outcome.functionError || outcome.statusCode >= 400) errors++
      })
      .catch(() => {
        errors++
      })
      .finally(() => {
        if (!stopped) timer = setTimeout(ping, options.everyS * 1000)
      })
    return inFlight
  }
  const first = ping()
  return {
    first,
    async stop() {
      stopped = true
      clearTimeout(timer)
      await inFlight
      return {pings, errors}
    },
  }
}
