/**
 * Progress events: the core never prints, it emits these and the CLI maps them to output
 * (a live line on a TTY, plain lines otherwise, nothing with --json).
 */
export type ProgressEvent =
  /** A unit of work begins ("Building driver…"). */
  | {kind: 'start'; subject: string; message: string}
  /** Something within a unit moved (a build step, a layer pushed, a deploy state). */
  | {kind: 'progress'; subject: string; message: string}
  /** A unit of work ended ("Built driver"). */
  | {kind: 'done'; subject: string; message: string}
  /** Output worth keeping verbatim (a build log line, a function log line). */
  | {kind: 'log'; subject: string; message: string}
  | {kind: 'warn'; subject: string; message: string}

export type Emit = (event: ProgressEvent) => void

export const silent: Emit = () => {}
