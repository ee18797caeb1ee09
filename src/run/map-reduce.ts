import type {S3Client} from '@aws-sdk/client-s3'

import {UserError} from '../core/errors.js'
import {getText, uploadMissing} from '../storage/s3.js'
import {compareCounts, countWords, generateCorpus} from './corpus.js'

export interface MapReduceParams {
  inputMb: number
  shards: number
  seed: number
  mappers: number
  reducers: number
}

/** Checks the shape before anything is built or started (as vSwarm: reducers a power of two, not more than mappers). */
/** Upper bounds: the corpus is generated in memory, and each mapper is a concurrent function call. */
export const RUN_LIMITS = {'--input-mb': 1024, '--shards': 1000, '--mappers': 1000, '--reducers': 512} as const

export function checkMapReduceParams(p: MapReduceParams): void {
  const positive: Array<[string, number]> = [
    ['--input-mb', p.inputMb],
    ['--shards', p.shards],
    ['--mappers', p.mappers],
    ['--reducers', p.reducers],
  ]
  for (const [flag, value] of positive) {
    if (!(Number.isFinite(value) && value > 0))
      throw new UserError(`${flag} must be greater than zero (got ${value}).`, {
        code: 'BAD_RUN_PARAMS',
        fix: `Give ${flag} a positive number.`,
      })
  }
  for (const [flag, value] of positive.slice(1)) {
    if (!Number.isInteger(value))
      throw new UserError(`${flag} must be a whole number (got ${value}).`, {
        code: 'BAD_RUN_PARAMS',
        fix: `Give ${flag} a whole number.`,
      })
  }
  for (const [flag, value] of positive) {
    const max = RUN_LIMITS[flag as keyof typeof RUN_LIMITS]
    if (value > max)
      throw new UserError(`${flag} is ${value}; faas accepts at most ${max}.`, {
        code: 'BAD_RUN_PARAMS',
        fix: `Give ${flag} a value up to ${max}.`,
      })
  }
  if ((p.reducers & (p.reducers - 1)) !== 0) {
    throw new UserError(`--reducers must be a power of two (got ${p.reducers}).`, {
      code: 'BAD_RUN_PARAMS',
      fix: "Use 1, 2, 4, 8…, as vSwarm's map-reduce expects.",
    })
  }
  if (p.reducers > p.mappers) {
    throw new UserError(`--reducers (${p.reducers}) must not outnumber --mappers (${p.mappers}).`, {
      code: 'BAD_RUN_PARAMS',
      fix: `Use at most ${p.mappers} reducers, or more mappers.`,
    })
  }
  if (p.shards < p.mappers) {
    throw new UserError(
      `--shards (${p.shards}) must be at least --mappers (${p.mappers}), or some mappers get no input.`,
      {code: 'BAD_RUN_PARAMS', fix: `Use --shards ${p.mappers} or more.`},
    )
  }
}

/** The corpus, uploaded (only what is missing) under a prefix that names its parameters. */
export async function prepareInput(s3: S3Client, bucket: string, p: MapReduceParams) {
  const sizeBytes = Math.round(p.inputMb * 1024 * 1024)
  const prefix = `inputs/seed${p.seed}-${sizeBytes}b-${p.shards}s/`
  const shards = generateCorpus({sizeBytes, shards: p.shards, seed: p.seed})
  const uploadedBytes = await uploadMissing(
    s3,
    bucket,
    shards.map((body, i) => ({key: `${prefix}shard-${String(i).padStart(4, '0')}.txt`, body})),
  )
  return {prefix, shards, inputBytes: shards.reduce((n, s) => n + Buffer.byteLength(s), 0), uploadedBytes}
}

/** Reads the reducers' outputs and compares them with the reference count made here, in TypeScript. */
export async function verifyOutput(s3: S3Client, bucket: string, outputs: string[], shards: string[]) {
  const actual = new Map<string, number>()
  for (const key of outputs) {
    for (const [word, count] of Object.entries(JSON.parse(await getText(s3, bucket, key)) as Record<string, number>)) {
      if (actual.has(word))
        throw new UserError(`The word "${word}" appears in two reducers' outputs.`, {
          code: 'WRONG_ANSWER',
          fix: 'The partitioning of the mappers is inconsistent.',
        })
      actual.set(word, count)
    }
  }
  const expected = countWords(shards)
  const differences = compareCounts(expected, actual)
  return {
    correct: differences.length === 0,
    differences,
    distinctWords: expected.size,
    totalWords: [...expected.values()].reduce((a, b) => a + b, 0),
  }
}
