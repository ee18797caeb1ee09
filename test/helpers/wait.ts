/**
 * Waits for something a test cannot get an event for, polling `check`; fails with a message naming
 * what never happened instead of hanging the suite. The deadline is generous (a slow, busy 2-core
 * machine under emulation must not trip it): it exists to end a hang, not to time anything.
 */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  options: {
    timeoutMs?: number
    intervalMs?: number
    giveUp?: () => string | undefined | Promise<string | undefined>
  } = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 120_000
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await check()) return
    const reason = await options.giveUp?.()
    if (reason) throw new Error(`gave up waiting for ${what}: ${reason}`)
    if (Date.now() > deadline)
      throw new Error(`waited ${Math.round(timeoutMs / 1000)} s for ${what}, and it did not happen`)
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50))
  }
}
