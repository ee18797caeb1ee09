import {formatInitBreakdown, type InitBreakdown} from '../core/init-breakdown.js'
import {formatReport, formatReportJson, formatStartJson, type ReportInput} from '../core/report.js'

/**
 * The lines the platform (not the function) writes into a function's log, as Lambda writes them,
 * in the function's log format: Text (START / END / REPORT / INIT_REPORT lines) or JSON
 * (platform.start / platform.report / platform.initReport records; no END, as on Lambda), and
 * faas's own FAAS_INIT_BREAKDOWN line.
 */

export type LogFormat = 'Text' | 'JSON'

const round2 = (n: number): number => Math.round(n * 100) / 100

/** The log's opening line for an invocation, naming the version that runs it. */
export function startLine(format: LogFormat, requestId: string, version = '$LATEST'): string {
  return format === 'JSON'
    ? formatStartJson(requestId, new Date(), version)
    : `START RequestId: ${requestId} Version: ${version}`
}

/** END and REPORT lines (JSON: the platform.report record only). */
export function endLines(format: LogFormat, requestId: string, figures: ReportInput): string[] {
  if (format === 'JSON') return [formatReportJson(requestId, figures)]
  return [`END RequestId: ${requestId}`, formatReport(requestId, figures)]
}

/** Lambda's INIT_REPORT for an init that ran past the limit (timeout) or failed (error). */
export function initReportLine(
  format: LogFormat,
  report: {status: 'timeout' | 'error'; durationMs: number; errorType?: string},
): string {
  if (format === 'JSON') {
    return JSON.stringify({
      time: new Date().toISOString(),
      type: 'platform.initReport',
      record: {
        initializationType: 'on-demand',
        phase: 'init',
        status: report.status,
        ...(report.errorType ? {errorType: report.errorType} : {}),
        metrics: {durationMs: round2(report.durationMs)},
      },
    })
  }
  return (
    `INIT_REPORT Init Duration: ${report.durationMs.toFixed(2)} ms\tPhase: init\tStatus: ${report.status}` +
    (report.errorType ? `\tError Type: ${report.errorType}` : '')
  )
}

/** Where a cold start's time went (faas's own line; see core/init-breakdown). */
export const initBreakdownLine = (format: LogFormat, breakdown: InitBreakdown): string =>
  formatInitBreakdown(breakdown, format === 'JSON')
