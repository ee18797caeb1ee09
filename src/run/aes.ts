import {createCipheriv, createHash} from 'node:crypto'

import {rng} from '../core/random.js'

/** NIST SP 800-38A, F.5.1 CTR-AES128.Encrypt: the known-answer vector every run checks first. */
export const NIST_CTR_AES128 = {
  key: '2b7e151628aed2a6abf7158809cf4f3c',
  counter: 'f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff',
  plaintext:
    '6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b1' +
    '7ad2b417be66c3710',
  ciphertext:
    '874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff5ae4df3edbd5d35e5b4f09020db03eab1e031dda2fbe03d' +
    '1792170a0f3009cee',
}

/** vSwarm's aes key (the handler's default), as hex. */
export const VSWARM_KEY = 'a1f6258c877d5fcd8964484538bfc92c'

export interface AesEvent {
  plaintext?: string
  plaintext_hex?: string
  name?: string
  key_hex?: string
  counter_hex?: string
  num_of_iterations?: number
}

/** AES-CTR with node:crypto (OpenSSL), independent of the function's pure-Python pyaes. */
export function aesCtr(keyHex: string, counterHex: string, plaintext: Buffer): Buffer {
  const key = Buffer.from(keyHex, 'hex')
  const cipher = createCipheriv(`aes-${key.length * 8}-ctr`, key, Buffer.from(counterHex.padStart(32, '0'), 'hex'))
  return Buffer.concat([cipher.update(plaintext), cipher.final()])
}

/** A message like vSwarm's (lowercase letters and digits), the same for the same seed. */
export function generatedMessage(seed: number, length = 100): string {
  const next = rng(seed)
  const letters = 'abcdefghijklmnopqrstuvwxyz0123456789'
  return Array.from({length}, () => letters[Math.floor(next() * letters.length)]).join('')
}

/**
 * The event `faas run aes` sends: the payload, with a generated message when it names none (so the answer is
 * checkable).
 */
export function aesRunEvent(payload: AesEvent, seed: number): AesEvent {
  if (
    payload.plaintext !== undefined ||
    payload.plaintext_hex !== undefined ||
    (payload.name !== undefined && payload.name !== 'world')
  )
    return payload
  return {...payload, plaintext: generatedMessage(seed)}
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex')

/** What the function must answer for an event, computed here. */
export function expectedAes(event: AesEvent) {
  const plaintext =
    event.plaintext_hex !== undefined
      ? Buffer.from(event.plaintext_hex, 'hex')
      : Buffer.from(event.plaintext ?? event.name ?? '', 'utf8')
  const ciphertext = aesCtr(event.key_hex ?? VSWARM_KEY, event.counter_hex ?? '0', plaintext)
  return {
    ciphertextHex: ciphertext.toString('hex'),
    ciphertextSha256: sha256(ciphertext),
    plaintextSha256: sha256(plaintext),
    plaintextBytes: plaintext.length,
  }
}

export interface AesAnswer {
  ciphertext_hex?: string | null
  ciphertext_sha256?: string
  decrypted_sha256?: string
  plaintext_bytes?: number
  num_of_iterations?: number
}

/** Differences between the function's answer and the expected one (empty: correct). */
export function checkAes(event: AesEvent, answer: AesAnswer, label: string, publishedCiphertext?: string): string[] {
  const expected = expectedAes(event)
  const differences: string[] = []
  if (publishedCiphertext !== undefined && expected.ciphertextHex !== publishedCiphertext)
    differences.push(`${label}: node:crypto disagrees with the published ciphertext`)
  if (answer.ciphertext_hex != null && answer.ciphertext_hex !== (publishedCiphertext ?? expected.ciphertextHex)) {
    differences.push(
      `${label}: ciphertext ${answer.ciphertext_hex}, expected ${publishedCiphertext ?? expected.ciphertextHex}`,
    )
  }
  if (answer.ciphertext_sha256 !== expected.ciphertextSha256)
    differences.push(`${label}: ciphertext sha256 ${answer.ciphertext_sha256}, expected ${expected.ciphertextSha256}`)
  if (answer.decrypted_sha256 !== expected.plaintextSha256)
    differences.push(
      `${label}: decrypting did not give the plaintext back (sha256 ${answer.decrypted_sha256}, ` +
        `expected ${expected.plaintextSha256})`,
    )
  if (answer.plaintext_bytes !== expected.plaintextBytes)
    differences.push(`${label}: ${answer.plaintext_bytes} plaintext bytes, expected ${expected.plaintextBytes}`)
  if (event.num_of_iterations !== undefined && answer.num_of_iterations !== event.num_of_iterations)
    differences.push(`${label}: ran ${answer.num_of_iterations} iterations, asked for ${event.num_of_iterations}`)
  return differences
}
