import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {UserError} from '../../src/core/errors.js'
import {listBenchmarks, loadBenchmark, parseManifest} from '../../src/core/manifest.js'
import {aesCtr, aesRunEvent, checkAes, expectedAes, NIST_CTR_AES128} from '../../src/run/aes.js'
import {checkTable, expectedTable} from '../../src/run/chameleon.js'
import {workloadOf} from '../../src/run/workloads.js'

const throwsUser = (fn: () => unknown, pattern: RegExp) => {
  try {
    fn()
  } catch (error) {
    assert.instance(error, UserError)
    assert.match((error as UserError).paragraph, pattern)
    return
  }
  assert.unreachable('expected a UserError')
}

test('node:crypto AES-CTR reproduces NIST SP 800-38A F.5.1', () => {
  const ciphertext = aesCtr(NIST_CTR_AES128.key, NIST_CTR_AES128.counter, Buffer.from(NIST_CTR_AES128.plaintext, 'hex'))
  assert.is(ciphertext.toString('hex'), NIST_CTR_AES128.ciphertext)
})

test('an aes answer is checked both ways: a right one passes, a wrong ciphertext or a failed decryption is named', () => {
  const event = {plaintext: 'hello, vSwarm', num_of_iterations: 3}
  const expected = expectedAes(event)
  const right = {ciphertext_hex: expected.ciphertextHex, ciphertext_sha256: expected.ciphertextSha256, decrypted_sha256: expected.plaintextSha256, plaintext_bytes: 13, num_of_iterations: 3}
  assert.equal(checkAes(event, right, 'payload'), [])
  const flipped = right.ciphertext_hex.slice(0, -1) + (right.ciphertext_hex.endsWith('0') ? '1' : '0')
  assert.match(checkAes(event, {...right, ciphertext_hex: flipped}, 'payload').join(), /payload: ciphertext .* expected /)
  assert.match(checkAes(event, {...right, decrypted_sha256: expected.ciphertextSha256}, 'payload').join(), /decrypting did not give the plaintext back/)
  assert.match(checkAes(event, {...right, num_of_iterations: 1}, 'payload').join(), /ran 1 iterations, asked for 3/)
})

test('faas run aes sends a generated message when the payload names none, the same for the same seed', () => {
  const a = aesRunEvent({num_of_iterations: 2}, 7)
  assert.is(a.plaintext!.length, 100)
  assert.equal(aesRunEvent({num_of_iterations: 2}, 7), a)
  assert.is.not(aesRunEvent({num_of_iterations: 2}, 8).plaintext, a.plaintext)
  assert.equal(aesRunEvent({plaintext: 'mine'}, 7), {plaintext: 'mine'})
})

test('the expected chameleon table is the text Chameleon 4.6 renders (digest taken from a real render)', () => {
  const html = expectedTable(3, 4)
  assert.is(html.length, 602)
  assert.equal(checkTable({num_of_rows: 3, num_of_cols: 4}, {rows: 3, cols: 4, length: 602, sha256: '14318b21ae3a1c8d27046cc1344ac8dad83d3f42347b2c302e1908ca08a308b1'}), [])
  assert.match(checkTable({num_of_rows: 4, num_of_cols: 4}, {rows: 3, cols: 4, length: 602, sha256: 'x'}).join(), /the table is 3×4, expected 4×4/)
})

test('payloads a workload cannot run or check are refused with the fix', () => {
  throwsUser(() => workloadOf('chameleon').check({num_of_rows: 0, num_of_cols: 3}), /chameleon payload needs whole numbers num_of_rows and num_of_cols/)
  throwsUser(() => workloadOf('chameleon').check({num_of_rows: 2000, num_of_cols: 2000}), /more than a million cells/)
  throwsUser(() => workloadOf('aes').check([1]), /aes payload must be a JSON object/)
  throwsUser(() => workloadOf('aes').check({num_of_iterations: 1.5}), /num_of_iterations to be a whole number/)
  throwsUser(() => workloadOf('aes').check({key_hex: 'abcd'}), /key_hex to be 16, 24 or 32 bytes/)
  workloadOf('aes').check({num_of_iterations: 5})
  workloadOf('chameleon').check({num_of_rows: 2, num_of_cols: 3})
})

test('the bundled benchmarks declare a checked workload and what they serve', async () => {
  const names = await listBenchmarks()
  for (const name of ['aes', 'chameleon']) {
    assert.ok(names.includes(name), name)
    const manifest = await loadBenchmark(name)
    assert.ok(manifest.workload, `${name} has a workload`)
    workloadOf(manifest.workload!).check(manifest.payload)
    assert.equal(manifest.serve, {grpc: 50051, http: 8080})
  }
})

test('manifest "serve" must name ports', () => {
  const base = {name: 'x1', functions: {f: {}}}
  assert.equal(parseManifest({...base, serve: {http: 8080}}, '/tmp/x1').serve, {http: 8080})
  throwsUser(() => parseManifest({...base, serve: {grpc: 'yes'}}, '/tmp/x1'), /"serve" must be \{"grpc": <port>, "http": <port>\}/)
  throwsUser(() => parseManifest({...base, workload: 'sorting'}, '/tmp/x1'), /"workload" must be one of word-count, aes, chameleon/)
})

test.run()
