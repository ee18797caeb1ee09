import {Flags, Parser} from '@oclif/core'
import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {flagParsingError, numberFlag, parseNumber, portFlag, type NumberRange} from '../../src/cli/flags.js'
import Bench from '../../src/commands/bench.js'
import Compare from '../../src/commands/compare.js'
import Deploy from '../../src/commands/deploy.js'
import LocalStart from '../../src/commands/local/start.js'
import Run from '../../src/commands/run.js'
import {UserError} from '../../src/core/errors.js'

const refused = (fn: () => unknown, ...parts: string[]) => {
  try {
    fn()
  } catch (error) {
    assert.instance(error, UserError)
    const e = error as UserError
    assert.is(e.code, 'BAD_FLAG')
    for (const part of parts) assert.ok(e.paragraph.includes(part), `"${e.paragraph}" lacks "${part}"`)
    return
  }
  assert.unreachable('no error')
}

test('parseNumber takes fractions and exponents within the range, and says which range otherwise', () => {
  const rate: NumberRange = {min: 0, aboveMin: true, max: 10_000, example: 200}
  assert.is(parseNumber('0.5', '--rps', rate), 0.5)
  assert.is(parseNumber('1e3', '--rps', rate), 1000)
  assert.is(parseNumber('10000', '--rps', rate), 10_000)
  refused(() => parseNumber('0', '--rps', rate), '--rps is 0;', 'a number above 0 and at most 10000')
  refused(() => parseNumber('10000.5', '--rps', rate), '--rps is 10000.5;')
  refused(() => parseNumber('abc', '--rps', rate), '--rps is abc;', 'For example --rps 200.')
  refused(() => parseNumber('', '--rps', rate), '--rps is "";')
  refused(() => parseNumber('Infinity', '--rps', rate), '--rps is Infinity;')
  const warmup: NumberRange = {min: 0, max: 3600, example: 10}
  assert.is(parseNumber('0', '--warmup', warmup), 0)
  refused(() => parseNumber('-1', '--warmup', warmup), 'a number from 0 to 3600')
  const confidence: NumberRange = {min: 0, max: 1, aboveMin: true, belowMax: true, example: 0.95}
  assert.is(parseNumber('0.9', '--confidence', confidence), 0.9)
  refused(() => parseNumber('1', '--confidence', confidence), 'between 0 and 1, both excluded')
  refused(() => parseNumber('0', '--confidence', confidence), 'between 0 and 1, both excluded')
})

/** What a faas command prints for argv: oclif's real parser, then the translation FaasCommand.catch applies. */
async function parseError(flags: Parser.FlagInput, argv: string[]): Promise<UserError> {
  try {
    await Parser.parse(argv, {flags, strict: false})
  } catch (error) {
    const translated = flagParsingError(error as Error, flags)
    assert.ok(translated, `not translated: ${(error as Error).message}`)
    assert.not.match(translated!.paragraph, /\n/, 'one paragraph')
    assert.not.match(translated!.paragraph, /See more help/)
    return translated!
  }
  throw new Error(`${argv.join(' ')} was accepted`)
}

test("oclif's own integer refusals become one paragraph with the range and a fix", async () => {
  const flags = {
    concurrency: Flags.integer({default: 4, min: 1, max: 64}),
    repeat: Flags.integer({min: 1}),
    port: portFlag('Port.'),
  }
  let e = await parseError(flags, ['--concurrency', '0'])
  assert.is(e.code, 'BAD_FLAG')
  assert.is(e.paragraph, '--concurrency is 0; it must be a whole number from 1 to 64. For example --concurrency 4.')
  e = await parseError(flags, ['--concurrency=abc'])
  assert.is(e.message, '--concurrency is abc; it must be a whole number from 1 to 64.')
  e = await parseError(flags, ['--concurrency', '1.5'])
  assert.is(e.message, '--concurrency is 1.5; it must be a whole number from 1 to 64.')
  e = await parseError(flags, ['--repeat', '0'])
  assert.is(
    e.paragraph,
    '--repeat is 0; it must be a whole number, at least 1. Give one in that range, or leave --repeat out.',
  )
  e = await parseError(flags, ['--port', '70000'])
  assert.is(e.message, '--port is 70000; it must be a whole number from 1 to 65535.')
})

test('our own parsers keep their message and fix, without what oclif wraps around them', async () => {
  const e = await parseError({rps: numberFlag({min: 0, aboveMin: true, max: 10, example: 2})}, ['--rps', '-5'])
  assert.is(e.paragraph, '--rps is -5; it must be a number above 0 and at most 10. For example --rps 2.')
  const memory = await parseError(Bench.flags, ['--memory', '128,99999'])
  assert.is(memory.code, 'BAD_MEMORY')
  assert.ok(memory.paragraph.startsWith('--memory value "99999" is not a whole number of MB between 128 and 10240.'))
})

test('a value outside the options becomes one paragraph naming them', async () => {
  const e = await parseError(Bench.flags, ['--distribution', 'uniform'])
  assert.is(
    e.paragraph,
    '--distribution is uniform; it must be one of: fixed, poisson. For example --distribution fixed.',
  )
})

test('other errors are left alone', () => {
  assert.is(flagParsingError(new Error('boom'), {}), undefined)
  assert.is(flagParsingError(new UserError('Nothing to deploy.'), {}), undefined)
})

test("the commands' numeric flags parse to numbers and keep their defaults and bounds", async () => {
  const bench = await Parser.parse(['--rps', '0.5', '--time', '1e2', '--memory', '128, 512'], {flags: Bench.flags})
  assert.equal(
    [bench.flags.rps, bench.flags.time, bench.flags.warmup, bench.flags['max-in-flight'], bench.flags.memory],
    [0.5, 100, 0, 1000, [128, 512]],
  )
  const defaults = await Parser.parse([], {flags: Bench.flags})
  assert.equal([defaults.flags.rps, defaults.flags.time, defaults.flags.memory], [1, 60, undefined])
  const run = await Parser.parse(['--input-mb', '0.25'], {flags: Run.flags})
  // Run flags go to the benchmark's checker as given: its defaults and bounds are tested in checkers.test.ts.
  assert.equal(
    [run.flags['input-mb'], run.flags.shards, run.flags.mappers, run.flags.reducers],
    ['0.25', undefined, undefined, undefined],
  )
  assert.is((await Parser.parse([], {flags: Compare.flags})).flags.confidence, 0.95)
  const bounds: Array<[Parser.FlagInput, string[], string]> = [
    [Bench.flags, ['--rps', '10001'], 'at most 10000'],
    [Bench.flags, ['--time', '0'], 'above 0 and at most 86400'],
    [Bench.flags, ['--warmup', '3601'], 'from 0 to 3600'],
    [Bench.flags, ['--max-in-flight', '10001'], 'from 1 to 10000'],
    [Bench.flags, ['--cold-starts', '1001'], 'from 1 to 1000'],
    [Deploy.flags, ['--memory', '127'], 'from 128 to 10240'],
    [Deploy.flags, ['--timeout', '901'], 'from 1 to 900'],
    [Deploy.flags, ['--ephemeral-storage', '511'], 'from 512 to 10240'],
    [Deploy.flags, ['--reserved-concurrency', '-1'], 'at least 0'],
    [LocalStart.flags, ['--max-environments', '0'], 'from 1 to 1000'],
    [LocalStart.flags, ['--idle-timeout', '0'], 'from 1 to 604800'],
    [LocalStart.flags, ['--max-queue', '100001'], 'from 0 to 100000'],
    [LocalStart.flags, ['--queue-timeout', '3601'], 'from 0 to 3600'],
  ]
  for (const [flags, argv, range] of bounds) {
    const e = await parseError(flags, argv)
    assert.ok(e.message.startsWith(`${argv[0]} is ${argv[1]}; it must be`), e.message)
    assert.ok(e.message.includes(range), `${argv.join(' ')}: ${e.message}`)
  }
})

test.run()
