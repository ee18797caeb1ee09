import type {ReportInput} from '../core/report.js'
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

/** How an invocation ended, as the environment saw it. */
export interface Outcome {
  payload: Buffer
  error?: boolean
  status?: string
  errorType?: string
  oom?: boolean
}

/**
 * An invocation's result once it ended: its log framed with the breakdown line (a cold one's), END and REPORT, each
 * line also logged.
 */
export function completedInvocation(
  fn: LocalFunction,
  emulated: {image: string; host: string} | undefined,
  run: {
    requestId: string
    lines: string[]
    cold: boolean
    durationMs: number
    initDurationMs?: number
    maxMemoryUsedMb: number
    breakdown?: string
  },
  outcome: Outcome,
  log: (line: string) => void,
): InvocationResult {
  const {requestId, lines, durationMs, initDurationMs, maxMemoryUsedMb} = run
  const figures: ReportInput = {
    durationMs,
    billedDurationMs: Math.ceil(durationMs) + (initDurationMs === undefined ? 0 : Math.ceil(initDurationMs)),
    memorySizeMb: fn.memoryMb,
    maxMemoryUsedMb,
    initDurationMs,
    emulated,
    status: outcome.status === 'timeout' ? 'timeout' : outcome.status ? 'error' : 'success',
    errorType: outcome.errorType,
  }
  for (const line of [...(run.breakdown ? [run.breakdown] : []), ...endLines(fn.logFormat, requestId, figures)]) {
    lines.push(line)
    log(line)
  }
  return {
    requestId,
    payload: outcome.payload,
    functionError: outcome.error ? 'Unhandled' : undefined,
    logLines: lines,
    durationMs,
    initDurationMs,
    maxMemoryUsedMb,
    cold: run.cold,
    emulated: Boolean(emulated),
  }
}
