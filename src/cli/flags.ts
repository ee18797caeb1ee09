import {Flags} from '@oclif/core'

import {UserError, isUserError} from '../core/errors.js'

/** Flags several commands share, defined once so their names and help stay the same everywhere. */
export const sharedFlags = {
  function: Flags.string({char: 'f', description: 'Only this function (repeatable).', multiple: true}),
  tag: Flags.string({description: 'Image tag.', default: 'latest'}),
  registry: Flags.string({
    description: "Registry host[:port] instead of the account's ECR (env FAAS_REGISTRY), e.g. 127.0.0.1:5000.",
  }),
}

/** Where functions run: AWS Lambda or the local Lambda service (env FAAS_TARGET, default local). */
export const targetFlag = Flags.option({
  options: ['local', 'aws'] as const,
  description: 'Where the functions run: the local Lambda service or AWS Lambda.',
  env: 'FAAS_TARGET',
  default: 'local' as const,
})

/** A TCP port given on the command line. */
export const portFlag = (description: string) => Flags.integer({description, min: 1, max: 65_535})

/** Bounds of a number flag that may have a fraction (seconds, rates, MiB); inclusive unless marked. */
export type NumberRange = {
  min: number
  max: number
  /** The value must be above min (e.g. a rate: 0 is not one). */
  aboveMin?: boolean
  /** The value must be below max (e.g. a confidence: 1 is not one). */
  belowMax?: boolean
  /** A sensible value, shown in the fix. */
  example: number
}

/** A value as the user typed it, quoted only when it would not read as one word. */
const shown = (text: string): string => (/^\S+$/.test(text) ? text : JSON.stringify(text))

const describeRange = (r: NumberRange): string =>
  r.aboveMin && r.belowMax
    ? `a number between ${r.min} and ${r.max}, both excluded`
    : r.aboveMin
      ? `a number above ${r.min} and at most ${r.max}`
      : r.belowMax
        ? `a number from ${r.min} up to, not including, ${r.max}`
        : `a number from ${r.min} to ${r.max}`

/** A flag's text as a number within its range, or a user error naming the flag, its range and an example. */
export function parseNumber(text: string, flag: string, range: NumberRange): number {
  const value = text.trim() === '' ? Number.NaN : Number(text)
  const aboveLow = range.aboveMin ? value > range.min : value >= range.min
  const belowHigh = range.belowMax ? value < range.max : value <= range.max
  if (Number.isFinite(value) && aboveLow && belowHigh) return value
  throw new UserError(`${flag} is ${shown(text)}; it must be ${describeRange(range)}.`, {
    code: 'BAD_FLAG',
    fix: `For example ${flag} ${range.example}.`,
  })
}

/**
 * A number flag that may have a fraction, checked against its range as it is parsed: `numberFlag({min, max, example,
 * ...})`.
 */
export const numberFlag = Flags.custom<number, NumberRange>({
  parse: async (input, _context, flag) => parseNumber(input, `--${flag.name}`, flag),
})

/**
 * What oclif makes of an error thrown while parsing a flag's value: "Parsing --NAME \n\t<reason>\nSee more help with
 * --help".
 */
const FLAG_PARSING = /^Parsing --(\S+) \n\t([\s\S]*)\nSee more help with --help$/
/** oclif's refusal of a value not among a flag's options. */
const FLAG_OPTION = /^Expected --([^=\s]+)=([\s\S]*) to be one of: (.*)\nSee more help with --help$/

const wholeRange = (min?: number, max?: number): string =>
  min !== undefined && max !== undefined
    ? `a whole number from ${min} to ${max}`
    : min !== undefined
      ? `a whole number, at least ${min}`
      : max !== undefined
        ? `a whole number, at most ${max}`
        : 'a whole number'

/**
 * An error oclif raised while parsing a flag's value, as the one-paragraph user error every faas
 * command prints: our own parsers' UserError without oclif's wrapping; oclif's own integer refusals
 * ("Expected an integer greater than or equal to 1 but received: 0") and option refusals with the
 * flag's range or options and how to fix it. Undefined for any other error.
 */
export function flagParsingError(
  error: Error,
  flags: Record<string, {min?: unknown; max?: unknown; default?: unknown} | undefined>,
): UserError | undefined {
  const option = FLAG_OPTION.exec(error.message)
  if (option) {
    const [, name, value, options] = option as unknown as [string, string, string, string]
    return new UserError(`--${name} is ${shown(value)}; it must be one of: ${options}.`, {
      code: 'BAD_FLAG',
      fix: `For example --${name} ${options.split(', ')[0]}.`,
    })
  }
  const match = FLAG_PARSING.exec(error.message)
  if (!match) return undefined
  const [, name, reason] = match as unknown as [string, string, string]
  if (isUserError(error)) return new UserError(reason, {code: error.code, fix: error.fix})
  const flag = flags[name]
  const bound = (value: unknown) => (typeof value === 'number' ? value : undefined)
  const [min, max] = [bound(flag?.min), bound(flag?.max)]
  const received = /^Expected an integer.* but received: (.*)$/s.exec(reason)?.[1]
  if (received !== undefined)
    return new UserError(`--${name} is ${shown(received)}; it must be ${wholeRange(min, max)}.`, {
      code: 'BAD_FLAG',
      fix:
        typeof flag?.default === 'number'
          ? `For example --${name} ${flag.default}.`
          : `Give one in that range, or leave --${name} out.`,
    })
  return new UserError(`--${name}: ${reason.replace(/\.?$/, '.')}`, {
    code: 'BAD_FLAG',
    fix: 'See --help for its values.',
  })
}

/** --prices (or FAAS_PRICES): the prices costs are computed with, parsed by bench/prices.ts's parsePrices. */
export const pricesFlag = () =>
  Flags.string({
    description:
      'Prices instead of the AWS list prices (us-east-1, first tier): x86_64=…,arm64=… ($ per GB-second), ' +
      'request=… ($ per request), or a JSON file of those keys; keys left out keep the defaults.',
    env: 'FAAS_PRICES',
  })
