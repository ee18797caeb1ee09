import type {S3Client} from '@aws-sdk/client-s3'

import {UserError} from '../core/errors.js'
import type {WorkloadKind} from '../core/manifest.js'
import type {InvokeOutcome} from '../targets/target.js'
import {type AesAnswer, type AesEvent, aesRunEvent, checkAes, NIST_CTR_AES128} from './aes.js'
import {type ChameleonAnswer, checkTable} from './chameleon.js'
import {checkTop5, CNN_IMAGES} from './cnn-serving.js'
import {decodePng, encodePng, generateImage, pixelSha256, rotate90} from './images.js'
import {getBytes, uploadMissing} from '../storage/s3.js'

/**
 * What a checked workload gets from `faas run`: an invoke of the entry function that fails on a function error, phase
 * timing, storage.
 */
export interface WorkloadContext {
  invoke: (payload: unknown) => Promise<InvokeOutcome>
  timed: <T>(phase: string, work: () => Promise<T>) => Promise<T>
  storage: () => Promise<{s3: S3Client; bucket: string}>
  /** The manifest's payload, or --payload. */
  payload: unknown
  seed: number
  runId: string
}

export interface WorkloadResult {
  /** Every call of the entry function, in order (the first is the run's first invocation). */
  outcomes: InvokeOutcome[]
  correct: boolean
  differences: string[]
  /** What was checked, in one phrase for the terminal. */
  verified: string
  /** The function's answer (the last call's), for the record. */
  output: unknown
  /** Workload parameters for the record's config. */
  config: Record<string, unknown>
}

export interface Workload {
  /** Refuses a payload it cannot run or check, before anything is built. */
  check: (payload: unknown) => void
  run: (context: WorkloadContext) => Promise<WorkloadResult>
}

/** The function's answer, parsed; each workload's checker looks at its fields one by one. */
const answerOf = (outcome: InvokeOutcome): unknown => JSON.parse(outcome.payload || 'null')

function badPayload(kind: string, problem: string, example: string): UserError {
  return new UserError(`The ${kind} payload ${problem}.`, {
    code: 'BAD_RUN_PARAMS',
    fix: `Give --payload like '${example}', or fix "payload" in the benchmark's benchmark.json.`,
  })
}

const isWhole = (n: unknown, min: number) => Number.isInteger(n) && (n as number) >= min

/** aes: NIST's known-answer vector first, then the payload's message N times; both checked against node:crypto. */
const aes: Workload = {
  check(payload) {
    const p = payload as AesEvent
    const example = '{"num_of_iterations": 10}'
    if (typeof p !== 'object' || p === null || Array.isArray(p))
      throw badPayload('aes', 'must be a JSON object', example)
    if (p.num_of_iterations !== undefined && !isWhole(p.num_of_iterations, 1))
      throw badPayload('aes', 'needs num_of_iterations to be a whole number, at least 1', example)
    for (const field of ['plaintext_hex', 'key_hex', 'counter_hex'] as const) {
      const value = p[field]
      if (value !== undefined && !(typeof value === 'string' && /^([0-9a-f]{2})*$/i.test(value)))
        throw badPayload('aes', `needs ${field} to be hexadecimal bytes`, example)
    }
    if (p.key_hex !== undefined && ![16, 24, 32].includes(p.key_hex.length / 2))
      throw badPayload('aes', 'needs key_hex to be 16, 24 or 32 bytes', example)
    if (p.counter_hex !== undefined && p.counter_hex.length > 32)
      throw badPayload('aes', 'needs counter_hex to be at most 16 bytes', example)
  },
  run: async ({invoke, timed, payload, seed}) => {
    const vector: AesEvent = {
      key_hex: NIST_CTR_AES128.key,
      counter_hex: NIST_CTR_AES128.counter,
      plaintext_hex: NIST_CTR_AES128.plaintext,
      num_of_iterations: 1,
    }
    const event = aesRunEvent(payload as AesEvent, seed)
    const known = await invoke(vector)
    const work = await invoke(event)
    const differences = await timed('verify', async () => [
      ...checkAes(vector, answerOf(known) as AesAnswer, 'NIST SP 800-38A F.5.1', NIST_CTR_AES128.ciphertext),
      ...checkAes(event, answerOf(work) as AesAnswer, 'payload'),
    ])
    const iterations = event.num_of_iterations ?? 1
    return {
      outcomes: [known, work],
      correct: differences.length === 0,
      differences,
      verified: `NIST CTR-AES128 vector and ${iterations} encrypt/decrypt round trip(s) match node:crypto`,
      output: answerOf(work),
      config: {event},
    }
  },
}

/** chameleon: the rendered table's shape and the digest of its HTML, against the HTML written out here. */
const chameleon: Workload = {
  check(payload) {
    const p = payload as {num_of_rows?: unknown; num_of_cols?: unknown}
    if (typeof p !== 'object' || p === null || !isWhole(p.num_of_rows, 1) || !isWhole(p.num_of_cols, 1)) {
      throw badPayload(
        'chameleon',
        'needs whole numbers num_of_rows and num_of_cols, at least 1',
        '{"num_of_rows": 10, "num_of_cols": 10}',
      )
    }
    if ((p.num_of_rows as number) * (p.num_of_cols as number) > 1_000_000)
      throw badPayload('chameleon', 'asks for more than a million cells', '{"num_of_rows": 100, "num_of_cols": 100}')
  },
  run: async ({invoke, timed, payload}) => {
    const table = payload as {num_of_rows: number; num_of_cols: number}
    const outcome = await invoke(payload)
    const differences = await timed('verify', async () => checkTable(table, answerOf(outcome) as ChameleonAnswer))
    return {
      outcomes: [outcome],
      correct: differences.length === 0,
      differences,
      verified: `a ${table.num_of_rows}×${table.num_of_cols} table, its HTML's digest as expected`,
      output: answerOf(outcome),
      config: {payload},
    }
  },
}

/** The images `faas run image-rotate` rotates: odd and non-square sizes, so a wrong turn or a flip shows. */
export const ROTATE_SIZES: Array<[number, number]> = [
  [320, 240],
  [256, 256],
  [199, 101],
  [64, 480],
]

/** Generated images, uploaded (only what is missing) under a prefix that names the seed. */
async function uploadImages(
  storage: WorkloadContext['storage'],
  prefix: string,
  seed: number,
  sizes: Array<[number, number]>,
) {
  const {s3, bucket} = await storage()
  const images = sizes.map(([width, height], i) => ({
    key: `${prefix}/seed${seed}/image-${i}-${width}x${height}.png`,
    image: generateImage(seed * 1000 + i, width, height),
  }))
  const uploaded = await uploadMissing(
    s3,
    bucket,
    images.map(({key, image}) => ({key, body: encodePng(image), contentType: 'image/png'})),
  )
  return {s3, bucket, images, uploaded}
}

/** What the image-rotate function says it wrote, per input image. */
interface RotateAnswer {
  images?: Array<{
    key?: unknown
    width?: unknown
    height?: unknown
    output_key?: unknown
    pixel_sha256?: unknown
  } | null>
}

/** image-rotate: the function's PNGs, read back from S3 and decoded here, must hold the pixels rotated here. */
const imageRotate: Workload = {
  check() {},
  run: async ({invoke, timed, storage, seed, runId}) => {
    const {s3, bucket, images, uploaded} = await timed('upload', () =>
      uploadImages(storage, 'image-rotate', seed, ROTATE_SIZES),
    )
    const outputPrefix = `image-rotate/runs/${runId}`
    const outcome = await invoke({bucket, keys: images.map((i) => i.key), output_prefix: outputPrefix})
    const answer = answerOf(outcome) as RotateAnswer | null
    const differences = await timed('verify', async () => {
      const found: string[] = []
      for (const [i, {key, image}] of images.entries()) {
        const expected = rotate90(image)
        const reported = answer?.images?.[i]
        if (reported?.key !== key) {
          found.push(`${key}: no answer for it`)
          continue
        }
        if (reported.width !== expected.width || reported.height !== expected.height)
          found.push(
            `${key}: rotated to ${reported.width}×${reported.height}, expected ${expected.width}×${expected.height}`,
          )
        if (typeof reported.output_key !== 'string') {
          found.push(`${key}: the function stored no result`)
          continue
        }
        const written = decodePng(await getBytes(s3, bucket, reported.output_key))
        if (pixelSha256(written) !== pixelSha256(expected))
          found.push(`${key}: the stored result's pixels differ from the image rotated here`)
        if (reported.pixel_sha256 !== pixelSha256(expected))
          found.push(
            `${key}: the function's pixel digest ${reported.pixel_sha256} differs from ${pixelSha256(expected)}`,
          )
      }
      return found
    })
    return {
      outcomes: [outcome],
      correct: differences.length === 0,
      differences,
      verified: `${images.length} images rotated a quarter turn, pixel for pixel`,
      output: answer,
      config: {seed, bucket, keys: images.map((i) => i.key), outputPrefix, uploadedBytes: uploaded},
    }
  },
}

/** cnn_serving: each image's top-5 against the same seeded SqueezeNet run here, in TypeScript. */
const cnnServing: Workload = {
  check() {},
  run: async ({invoke, timed, storage, seed}) => {
    const {bucket, images, uploaded} = await timed('upload', () =>
      uploadImages(storage, 'cnn_serving', seed, CNN_IMAGES),
    )
    const outcome = await invoke({bucket, keys: images.map((i) => i.key)})
    const answer = answerOf(outcome) as Parameters<typeof checkTop5>[1]
    const {differences, exact} = await timed('verify', async () => checkTop5(images, answer))
    return {
      outcomes: [outcome],
      correct: differences.length === 0,
      differences,
      verified:
        `top-5 of ${images.length} images as the reference SqueezeNet computed here (${exact} ` +
        `of ${images.length} in exactly the same order)`,
      output: answer,
      config: {seed, bucket, keys: images.map((i) => i.key), uploadedBytes: uploaded},
    }
  },
}

const WORKLOADS: Partial<Record<WorkloadKind, Workload>> = {
  aes,
  chameleon,
  'image-rotate': imageRotate,
  'cnn-serving': cnnServing,
}

/** The checked workload of a kind (word-count has its own path in run.ts). */
export function workloadOf(kind: WorkloadKind): Workload {
  const workload = WORKLOADS[kind]
  if (!workload) throw new Error(`no workload "${kind}"`)
  return workload
}
