import {UserError, messageOf} from './errors.js'

/** Lambda's limits on a function's configuration, checked before anything is created. */
export const MEMORY_RANGE = {min: 128, max: 10_240} as const
export const TIMEOUT_RANGE = {min: 1, max: 900} as const
export const ENV_MAX_BYTES = 4096

/** Keys Lambda sets itself and refuses in a function's environment. */
export const RESERVED_ENV_KEYS: ReadonlySet<string> = new Set([
  '_HANDLER',
  '_X_AMZN_TRACE_ID',
  'AWS_DEFAULT_REGION',
  'AWS_REGION',
  'AWS_EXECUTION_ENV',
  'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
  'AWS_LAMBDA_FUNCTION_VERSION',
  'AWS_LAMBDA_INITIALIZATION_TYPE',
  'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME',
  'AWS_ACCESS_KEY',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_LAMBDA_RUNTIME_API',
  'LAMBDA_TASK_ROOT',
  'LAMBDA_RUNTIME_DIR',
])

const ENV_KEY = /^[A-Za-z][A-Za-z0-9_]*$/

/** The seed's default environment. */
export const DEFAULT_ENVMAP = '{"IS_LAMBDA":"true"}'

function parseJson(text: string, flag: string, example: string): unknown {
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new UserError(`${flag} is not valid JSON: ${messageOf(error)}.`, {
      code: 'BAD_JSON',
      fix: `Quote it for the shell, e.g. ${flag} '${example}'.`,
    })
  }
}

/** --envmap: a JSON object of string to string, then checkEnv. */
export function parseEnvMap(text: string, flag = '--envmap'): Record<string, string> {
  const raw = parseJson(text, flag, '{"KEY1":"VAL1","KEY2":"VAL2"}')
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new UserError(`${flag} must be a JSON object of names to string values.`, {
      code: 'BAD_ENV',
      fix: `e.g. ${flag} '{"IS_LAMBDA":"true"}'.`,
    })
  }
  const bad = Object.entries(raw).filter(([, v]) => typeof v !== 'string')
  if (bad.length > 0) {
    throw new UserError(
      `${flag}: the value${bad.length > 1 ? 's' : ''} of ${bad.map(([k]) => k).join(', ')} must be strings (Lambda ` +
        `stores environment values as text).`,
      {
        code: 'BAD_ENV',
        fix: `Quote them, e.g. {"${bad[0]![0]}":"${JSON.stringify(bad[0]![1]).replaceAll('"', '')}"}.`,
      },
    )
  }
  return checkEnv(raw as Record<string, string>)
}

/**
 * --envmap-file: the same JSON object read from a file (or stdin), for maps that hold secrets:
 * they stay out of argv (ps) and no error ever quotes the text or a value, only names.
 */
export function parseSecretEnvMap(text: string, source: string): Record<string, string> {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (error) {
    const at = /position (\d+)/.exec(messageOf(error))?.[1]
    throw new UserError(`${source} is not valid JSON${at ? ` (at character ${at})` : ''}.`, {
      code: 'BAD_JSON',
      fix: 'Write one JSON object of names to string values, e.g. {"API_KEY":"..."}.',
    })
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new UserError(`${source} must hold a JSON object of names to string values.`, {
      code: 'BAD_ENV',
      fix: 'e.g. {"API_KEY":"..."}.',
    })
  }
  const bad = Object.entries(raw).filter(([, v]) => typeof v !== 'string')
  if (bad.length > 0) {
    throw new UserError(
      `${source}: the value${bad.length > 1 ? 's' : ''} of ${bad.map(([k]) => k).join(', ')} must be strings ` +
        `(Lambda stores environment values as text).`,
      {code: 'BAD_ENV', fix: 'Quote them as JSON strings.'},
    )
  }
  return checkEnv(raw as Record<string, string>)
}

/** Rejects reserved or malformed keys and an environment over Lambda's 4 KB. */
export function checkEnv(env: Record<string, string>): Record<string, string> {
  const reserved = Object.keys(env).filter((k) => RESERVED_ENV_KEYS.has(k))
  if (reserved.length > 0) {
    throw new UserError(
      `${reserved.join(', ')} ${reserved.length > 1 ? 'are' : 'is'} reserved by Lambda and cannot be set.`,
      {
        code: 'RESERVED_ENV',
        fix: 'Lambda sets these itself; rename your variable (e.g. prefix it with APP_).',
      },
    )
  }
  const malformed = Object.keys(env).filter((k) => !ENV_KEY.test(k) && !RESERVED_ENV_KEYS.has(k))
  if (malformed.length > 0) {
    throw new UserError(
      `Invalid environment variable name${malformed.length > 1 ? 's' : ''}: ${malformed.join(', ')}.`,
      {
        code: 'BAD_ENV',
        fix: 'Names start with a letter and hold only letters, digits and "_".',
      },
    )
  }
  const bytes = envBytes(env)
  if (bytes > ENV_MAX_BYTES) {
    throw new UserError(`The environment is ${bytes} bytes; Lambda allows at most ${ENV_MAX_BYTES} (4 KB).`, {
      code: 'ENV_TOO_LARGE',
      fix: 'Move large values to S3 or SSM Parameter Store and pass their names instead.',
    })
  }
  return env
}

/** Size of the environment as Lambda counts it (the JSON of the variables). */
export const envBytes = (env: Record<string, string>): number => Buffer.byteLength(JSON.stringify(env), 'utf8')

/** --payload: any JSON value; returned as compact JSON text. */
export function parsePayload(text: string, flag = '--payload'): string {
  return JSON.stringify(parseJson(text, flag, '{"K1":"V1"}'))
}

function checkRange(
  value: number,
  range: {min: number; max: number},
  what: string,
  flag: string,
  unit: string,
): number {
  if (!Number.isInteger(value) || value < range.min || value > range.max) {
    throw new UserError(`${what} ${value} ${unit} is outside Lambda's range.`, {
      code: 'OUT_OF_RANGE',
      fix: `Give ${flag} a whole number from ${range.min} to ${range.max}.`,
    })
  }
  return value
}

export const checkMemory = (mb: number): number => checkRange(mb, MEMORY_RANGE, 'Memory', '--memory', 'MB')
export const checkTimeout = (s: number): number => checkRange(s, TIMEOUT_RANGE, 'Timeout', '--timeout', 's')

export const EPHEMERAL_STORAGE_RANGE = {min: 512, max: 10_240} as const
export const LOG_FORMATS = ['Text', 'JSON'] as const

/** /tmp's size (EphemeralStorage), 512–10240 MB. */
export const checkEphemeralStorage = (mb: number): number =>
  checkRange(mb, EPHEMERAL_STORAGE_RANGE, 'Ephemeral storage', '--ephemeral-storage', 'MB')

/** Text or JSON, in any case (Lambda's spelling is returned). */
export function checkLogFormat(value: string): 'Text' | 'JSON' {
  const found = LOG_FORMATS.find((f) => f.toLowerCase() === value.toLowerCase())
  if (!found)
    throw new UserError(`Unknown log format "${value}".`, {
      code: 'BAD_LOG_FORMAT',
      fix: "Give --log-format Text or JSON (Lambda's LoggingConfig.LogFormat).",
    })
  return found
}

export function checkReservedConcurrency(n: number | undefined): number | undefined {
  if (n === undefined) return undefined
  if (!Number.isInteger(n) || n < 0) {
    throw new UserError(`Reserved concurrency ${n} is not valid.`, {
      code: 'OUT_OF_RANGE',
      fix: 'Give --reserved-concurrency a whole number ≥ 0 (0 stops the function from running).',
    })
  }
  return n
}

/** Two environments are the same when they hold the same keys and values, in whatever order. */
export const sameEnv = (a: Record<string, string>, b: Record<string, string>): boolean =>
  Object.keys(a).length === Object.keys(b).length &&
  Object.entries(a).every(([k, v]) => Object.hasOwn(b, k) && b[k] === v)

/** Two command lists (ImageConfig.Command) are the same element by element; absent is empty. */
export const sameList = (a: readonly string[] | undefined, b: readonly string[] | undefined): boolean =>
  (a ?? []).length === (b ?? []).length && (a ?? []).every((x, i) => x === b![i])

/** A Function URL as `faas deploy --url … [--cors-origin …]` asks for it. */
export interface FunctionUrlSpec {
  authType: 'NONE' | 'AWS_IAM'
  /** Origins a browser page may call the URL from (Cors.AllowOrigins); none: no Cors. */
  corsOrigins: string[]
}

/** An origin as browsers send it: `*`, or http(s)://host[:port] with nothing after it. */
export function isOrigin(origin: string): boolean {
  if (origin === '*') return true
  try {
    const parsed = new URL(origin)
    return /^https?:$/.test(parsed.protocol) && parsed.origin === origin.toLowerCase()
  } catch {
    return false
  }
}

/** `--url none|iam` and its `--cors-origin`s, checked before anything is deployed. */
export function checkFunctionUrl(url: string | undefined, origins: string[] = []): FunctionUrlSpec | undefined {
  if (url === undefined) {
    if (origins.length > 0)
      throw new UserError('--cors-origin was given without --url.', {
        code: 'BAD_URL',
        fix: 'Add --url none (public) or --url iam (SigV4-signed callers only), or leave out --cors-origin.',
      })
    return undefined
  }
  const authType = ({none: 'NONE', iam: 'AWS_IAM'} as const)[url.toLowerCase() as 'none' | 'iam']
  if (!authType)
    throw new UserError(`--url ${url} is not an auth type.`, {
      code: 'BAD_URL',
      fix: 'Give --url none (anyone may call it) or --url iam (callers sign with SigV4).',
    })
  const bad = origins.find((o) => !isOrigin(o))
  if (bad !== undefined)
    throw new UserError(`--cors-origin ${bad} is not an origin.`, {
      code: 'BAD_URL',
      fix:
        'Give * or a scheme, host and optional port with nothing after them, such as https://app.example.com or ' +
        'http://localhost:3000.',
    })
  if (origins.length > 100)
    throw new UserError(`${origins.length} --cors-origin values were given; Lambda allows 100.`, {
      code: 'BAD_URL',
      fix: 'Give at most 100 origins, or * for any.',
    })
  return {authType, corsOrigins: [...new Set(origins)]}
}
