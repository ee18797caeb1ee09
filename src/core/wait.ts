/**
 * Polls until `check` holds, backing off from 50 ms to `maxDelayMs` between tries, for states that
 * offer no event to wait on (a server starting or stopping). Returns false once `giveUp` says so or
 * `timeoutMs` has passed.
 */
export async function pollUntil(
  check: () => Promise<boolean>,
  options: {timeoutMs: number; maxDelayMs?: number; giveUp?: () => boolean | Promise<boolean>},
): Promise<boolean> {
  const deadline = Date.now() + options.timeoutMs
  for (let delay = 50; ; delay = Math.min(delay * 2, options.maxDelayMs ?? 500)) {
    if (await check()) return true
    if (Date.now() > deadline || (await options.giveUp?.())) return false
    await new Promise((resolve) => setTimeout(resolve, delay))
  }
}
