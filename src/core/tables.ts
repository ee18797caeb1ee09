import {UserError} from './errors.js'

/** A key attribute of a table: its name and DynamoDB type (S string, N number, B binary). */
export interface TableKey {
  name: string
  type: 'S' | 'N' | 'B'
}

/**
 * A DynamoDB table a benchmark declares (benchmark.json "tables"): created on demand-billing by `faas deploy` and
 * `faas run` where the functions run, its name given to functions through `${table:<name>}` in their env.
 */
export interface TableManifest {
  name: string
  partitionKey: TableKey
  sortKey?: TableKey
  /** The attribute DynamoDB's time to live reads (epoch seconds); none when absent. */
  ttlAttribute?: string
}

/** What making a declared table did: made it, changed its TTL, or found it as declared. */
export interface TableOutcome {
  name: string
  arn?: string
  action: 'created' | 'updated' | 'unchanged'
}

/** DynamoDB's table names: 3–255 of letters, digits, "_", "-" and ".". */
const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/

const TABLES_FIX =
  'Declare tables as {"<name>": {"partitionKey": {"name": "key", "type": "S"}, "sortKey"?: {...}, ' +
  '"ttlAttribute"?: "expires_at"}} (types S, N or B); see docs/benchmarks.md.'

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

export function checkTableName(name: string): string {
  if (!TABLE_NAME.test(name))
    throw new UserError(`"${name}" is not a DynamoDB table name.`, {
      code: 'BAD_TABLE_NAME',
      fix: 'Use 3–255 letters, digits, "_", "-" or "." (e.g. stateflow).',
    })
  return name
}

function parseKey(value: unknown, where: string, bad: (what: string) => UserError): TableKey {
  if (!isObject(value) || typeof value.name !== 'string' || value.name === '' || value.name.length > 255)
    throw bad(`${where} must be {"name": "<attribute>", "type": "S" | "N" | "B"}`)
  if (value.type !== 'S' && value.type !== 'N' && value.type !== 'B')
    throw bad(`${where} has type ${JSON.stringify(value.type)}; a key's type is "S", "N" or "B"`)
  const unknown = Object.keys(value).filter((k) => k !== 'name' && k !== 'type')
  if (unknown.length > 0) throw bad(`${where} has unknown key(s) ${unknown.join(', ')}`)
  return {name: value.name, type: value.type}
}

/** The manifest's "tables", checked as DynamoDB would check them, before anything is made. */
export function parseTables(raw: unknown, file: string): TableManifest[] {
  if (raw === undefined) return []
  const bad = (what: string) => new UserError(`${file}: ${what}.`, {code: 'BAD_MANIFEST', fix: TABLES_FIX})
  if (!isObject(raw)) throw bad('"tables" must be an object of table names to their keys')
  return Object.entries(raw).map(([name, given]) => {
    if (!TABLE_NAME.test(name)) throw bad(`table "${name}" is not a DynamoDB table name (3–255 of A-Z a-z 0-9 _ - .)`)
    if (!isObject(given)) throw bad(`table ${name} must be an object with its partitionKey`)
    const unknown = Object.keys(given).filter((k) => !['partitionKey', 'sortKey', 'ttlAttribute'].includes(k))
    if (unknown.length > 0) throw bad(`table ${name} has unknown key(s) ${unknown.join(', ')}`)
    const partitionKey = parseKey(given.partitionKey, `table ${name}'s partitionKey`, bad)
    const sortKey = given.sortKey === undefined ? undefined : parseKey(given.sortKey, `table ${name}'s sortKey`, bad)
    if (sortKey && sortKey.name === partitionKey.name)
      throw bad(`table ${name}'s sortKey and partitionKey are both "${sortKey.name}"; they must differ`)
    const ttl = given.ttlAttribute
    if (ttl !== undefined && (typeof ttl !== 'string' || ttl === '' || ttl.length > 255))
      throw bad(`table ${name}'s ttlAttribute must be an attribute name`)
    return {name, partitionKey, ...(sortKey ? {sortKey} : {}), ...(ttl ? {ttlAttribute: ttl as string} : {})}
  })
}

/** Replaces ${table:<name>} in an env value with the table's name, refusing a table the manifest does not declare. */
export function resolveTableRefs(value: string, tables: TableManifest[], where: string): string {
  return value.replace(/\$\{table:([^}]*)\}/g, (_, name: string) => {
    if (!tables.some((t) => t.name === name))
      throw new UserError(`${where} refers to \${table:${name}}, which the manifest does not declare.`, {
        code: 'UNKNOWN_TABLE',
        fix: `Declare it under "tables" (declared: ${tables.map((t) => t.name).join(', ') || 'none'}).`,
      })
    return name
  })
}
