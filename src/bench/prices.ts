import {readFileSync} from 'node:fs'

import {DEFAULT_PRICES, type Prices} from './cost.js'
import {UserError} from '../core/errors.js'

const KEYS = ['x86_64', 'arm64', 'request'] as const
type Key = (typeof KEYS)[number]
/** Above these a figure is surely in other units (per million, per hour, cents): Lambda's are ~1.7e-5 and 2e-7. */
const CEILING: Record<Key, number> = {x86_64: 0.001, arm64: 0.001, request: 0.0001}
const EXAMPLE = 'x86_64=0.0000166667,arm64=0.0000133334,request=0.0000002'
const fail = (message: string) =>
  new UserError(message, {
    code: 'BAD_PRICES',
    fix:
      `Give --prices as key=value pairs or a JSON file of them: x86_64 and arm64 in dollars per GB-second, request ` +
      `in dollars per request (e.g. --prices ${EXAMPLE}); keys left out keep the defaults (docs/tune.md).`,
  })

/** `x86_64=…,arm64=…,request=…`, or the path of a JSON file with those keys; keys left out keep the defaults. */
export function parsePrices(text: string, read: (path: string) => string = (p) => readFileSync(p, 'utf8')): Prices {
  const given = text.includes('=') ? pairs(text) : fromFile(text, read)
  const prices: Prices = {
    perGbSecondUsd: {...DEFAULT_PRICES.perGbSecondUsd},
    perRequestUsd: DEFAULT_PRICES.perRequestUsd,
    asOf: `given by --prices (${Object.entries(given)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')}); others: ${DEFAULT_PRICES.asOf}`,
  }
  for (const [key, raw] of Object.entries(given)) {
    if (!(KEYS as readonly string[]).includes(key))
      throw fail(`--prices names "${key}", which is not one of Lambda's prices (${KEYS.join(', ')}).`)
    const value = typeof raw === 'number' ? raw : Number(String(raw).trim() || 'x')
    if (!Number.isFinite(value) || value <= 0) throw fail(`--prices ${key}=${raw} is not a positive number of dollars.`)
    const k = key as Key
    const list = k === 'request' ? DEFAULT_PRICES.perRequestUsd : DEFAULT_PRICES.perGbSecondUsd[k]
    if (value > CEILING[k])
      throw fail(
        `--prices ${key}=${raw} is too large for dollars per ${k === 'request' ? 'request' : 'GB-second'} ` +
          `(Lambda's list price is ${list}); it may be in other units (per million, per GB-hour, cents).`,
      )
    if (k === 'request') prices.perRequestUsd = value
    else prices.perGbSecondUsd[k] = value
  }
  return prices
}

function pairs(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const part of text.split(',')) {
    const at = part.indexOf('=')
    const key = part.slice(0, at).trim()
    if (at < 0 || !key) throw fail(`--prices "${part}" is not key=value.`)
    if (key in out) throw fail(`--prices gives ${key} twice.`)
    out[key] = part.slice(at + 1)
  }
  return out
}

function fromFile(path: string, read: (path: string) => string): Record<string, unknown> {
  let text: string
  try {
    text = read(path)
  } catch {
    throw fail(`--prices "${path}" is neither key=value pairs nor a file that can be read.`)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw fail(`--prices file ${path} is not JSON.`)
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw fail(`--prices file ${path} is not a JSON object of prices.`)
  return parsed as Record<string, unknown>
}
