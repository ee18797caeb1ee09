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

/**
 * Upper bounds of faas run's flags (each above zero; all but input-mb whole numbers): the corpus is
 * generated in memory, and each mapper is a concurrent function call.
 */
export const RUN_LIMITS = {'input-mb': 1024, shards: 1000, mappers: 1000, reducers: 512} as const

/**
 * Checks how the parameters fit together before anything is built or started (as vSwarm: reducers a
 * power of two, not more than mappers); each one's own range is checked as its flag is parsed.
 */
export function checkMapReduceParams(p: MapReduceParams): void {
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
