import {createHash} from 'node:crypto'

/**
 * The HTML FunctionBench's chameleon function renders for an R×C table, written out here without
 * Chameleon: every row holds the cells 1..C, each `<span class="column-k">k</span>` in its own <td>,
 * one element per line, as Chameleon 4 renders the template.
 */
export function expectedTable(rows: number, cols: number): string {
  let row = '<tr>\n'
  for (let k = 1; k <= cols; k++) row += `<td>\n<span class="column-${k}">${k}</span>\n</td>\n`
  row += '</tr>\n'
  return `<table xmlns="http://www.w3.org/1999/xhtml">\n${row.repeat(rows)}</table>`
}

export interface ChameleonAnswer {
  rows?: number
  cols?: number
  length?: number
  sha256?: string
}

export function checkTable(payload: {num_of_rows: number; num_of_cols: number}, answer: ChameleonAnswer): string[] {
  const text = expectedTable(payload.num_of_rows, payload.num_of_cols)
  const differences: string[] = []
  if (answer.rows !== payload.num_of_rows || answer.cols !== payload.num_of_cols) {
    differences.push(
      `the table is ${answer.rows}×${answer.cols}, expected ${payload.num_of_rows}×${payload.num_of_cols}`,
    )
  }
  if (answer.length !== text.length)
    differences.push(`the HTML is ${answer.length} characters long, expected ${text.length}`)
  const digest = createHash('sha256').update(text, 'utf8').digest('hex')
  if (answer.sha256 !== digest) differences.push(`the HTML's sha256 is ${answer.sha256}, expected ${digest}`)
  return differences
}
