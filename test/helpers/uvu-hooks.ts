/**
 * Preloaded by scripts/test.sh (node --import): uvu swallows an exception thrown in a before/after
 * hook (its runner returns from a finally block), so a file could report "0 / N" and exit 0. This
 * wraps the hooks of uvu's default `test` so such an exception is printed and fails the process.
 */
import {test} from 'uvu'

let failed = 0
type Hook = (fn: (ctx: any) => unknown) => void

function guard(kind: string, register: Hook): Hook {
  return (fn) =>
    register(async (ctx) => {
      try {
        await fn(ctx)
      } catch (error) {
        failed++
        process.stderr.write(`\n  ${kind} hook failed: ${(error as Error)?.stack ?? String(error)}\n`)
        throw error
      }
    })
}

const t = test as any
const before = guard('before', t.before)
const after = guard('after', t.after)
Object.assign(before, {each: guard('before.each', t.before.each)})
Object.assign(after, {each: guard('after.each', t.after.each)})
t.before = before
t.after = after

process.on('exit', () => {
  if (failed > 0) {
    process.stderr.write(`\n  ${failed} test hook${failed > 1 ? 's' : ''} failed (see above): the suite fails.\n`)
    process.exitCode = 1
  }
})
