import type {Emit, ProgressEvent} from '../core/events.js'

/**
 * Maps progress events to stderr. On a TTY, start/done/warn lines stay and the latest step of the
 * work in flight is one line rewritten in place; without a TTY every step is a plain line.
 * Build and function log lines show only with --verbose.
 */
export function progressRenderer(
  options: {stream?: NodeJS.WriteStream; verbose?: boolean; quiet?: boolean} = {},
): Emit {
  const out = options.stream ?? process.stderr
  if (options.quiet) return () => {}
  const live = Boolean(out.isTTY) && !process.env.CI
  let status = ''
  const clear = () => {
    if (live && status) out.write('\r\u001B[K')
  }
  const redraw = () => {
    if (live && status) out.write(status.slice(0, Math.max(10, (out.columns ?? 100) - 1)))
  }
  return (event: ProgressEvent) => {
    if (event.kind === 'log' && !options.verbose) return
    clear()
    if (live && event.kind === 'progress') {
      status = `  ${event.subject}: ${event.message}`
    } else {
      if (event.kind === 'done') status = ''
      out.write(`${prefix(event)}${event.message}\n`)
    }
    redraw()
  }
}

function prefix(event: ProgressEvent): string {
  switch (event.kind) {
    case 'warn':
      return 'warning: '
    case 'progress':
    case 'log':
      return `  ${event.subject}: `
    default:
      return ''
  }
}
