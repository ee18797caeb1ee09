import {functionErrors} from './lambda-errors.js'
import {endLines, startLine} from './platform-log.js'
import type {LocalFunction} from './types.js'

/** What one invocation produced, in Lambda's terms. */
export interface InvocationResult {
  requestId: string
  /** Response payload, or Lambda's error JSON when functionError is set. */
  payload: Buffer
  functionError?: 'Unhandled'
  /** The invocation's framed log: START, the function's lines, END, REPORT. */
  logLines: string[]
  durationMs: number
  initDurationMs?: number
  maxMemoryUsedMb: number
  cold: boolean
  /** The image ran under emulation (its architecture is not the host's). */
  emulated: boolean
}

/** What a call gets when init failed before any invocation: the init error, framed as an invocation's log. */
export function initFailureResult(
  fn: LocalFunction,
  emulated: {image: string; host: string} | undefined,
  requestId: string,
  initError: Buffer | undefined,
): InvocationResult {
  const payload = initError ?? functionErrors.runtimeFailed()
  let errorType = 'Runtime.Unknown'
  try {
    errorType = JSON.parse(payload.toString('utf8')).errorType ?? errorType
  } catch {}
  const figures = {durationMs: 0, billedDurationMs: 0, memorySizeMb: fn.memoryMb, maxMemoryUsedMb: 0}
  const lines = [
    startLine(fn.logFormat, requestId, fn.version),
    ...endLines(fn.logFormat, requestId, {...figures, emulated, status: 'error', errorType}),
  ]
  return {
    requestId,
    payload,
    functionError: 'Unhandled',
    logLines: lines,
    durationMs: 0,
    maxMemoryUsedMb: 0,
    cold: true,
    emulated: Boolean(emulated),
  }
}
