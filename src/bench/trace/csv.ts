import {createReadStream} from 'node:fs'
import {createInterface} from 'node:readline'

import {UserError, messageOf} from '../../core/errors.js'

/** The fix every trace error ends with: what faas reads. */
export const TRACE_FIX =
  'faas bench --trace reads an Azure Functions 2019 folder (invocations.csv, durations.csv, memory.csv, as ' +
  'invitro reads them) or an Azure 2021 file (app,func,end_timestamp,duration); see docs/bench.md.'

export const traceError = (message: string, fix = TRACE_FIX) => new UserError(message, {code: 'BAD_TRACE', fix})

/**
 * A CSV file's rows, one at a time (the Azure traces are hundreds of MB: never read whole), with the
 * header checked for the named columns. Azure's files have no quoted fields, so a row is split on commas.
 */
export async function* csvRows(
  file: string,
  required: readonly string[],
): AsyncGenerator<{line: number; fields: string[]; header: string[]; index: Map<string, number>}> {
  let header: string[] | undefined
  let index = new Map<string, number>()
  let line = 0
  const stream = createReadStream(file, {encoding: 'utf8'})
  const opened = new Promise<void>((resolve, reject) => stream.once('open', () => resolve()).once('error', reject))
  try {
    await opened
  } catch (error) {
    throw traceError(`Cannot read the trace file ${file}: ${messageOf(error)}.`)
  }
  for await (const text of createInterface({input: stream, crlfDelay: Infinity})) {
    line++
    if (text.trim() === '') continue
    const fields = text.split(',').map((f) => f.trim())
    if (!header) {
      header = fields
      index = new Map(header.map((name, i) => [name, i]))
      const missing = required.filter((name) => !index.has(name))
      if (missing.length > 0)
        throw traceError(`${file} has no column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}.`)
      continue
    }
    if (fields.length !== header.length)
      throw traceError(`${file} line ${line} has ${fields.length} fields where the header has ${header.length}.`)
    yield {line, fields, header, index}
  }
  if (!header) throw traceError(`${file} is empty (no header line).`)
}

/** A whole, non-negative count, or a UserError naming the file, line and column. */
export function wholeCount(text: string, where: string): number {
  const n = Number(text)
  if (text === '' || !Number.isInteger(n) || n < 0)
    throw traceError(`${where} is "${text}", not a whole number of invocations.`)
  return n
}

/** A finite non-negative number (durations, memory), or a UserError naming where. */
export function amount(text: string, where: string): number {
  const n = Number(text)
  if (text === '' || !Number.isFinite(n) || n < 0) throw traceError(`${where} is "${text}", not a number ≥ 0.`)
  return n
}
