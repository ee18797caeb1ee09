import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {UserError} from '../../src/core/errors.js'
import {listBenchmarks, loadBenchmark, parseManifest} from '../../src/core/manifest.js'
import {aesCtr, aesRunEvent, checkAes, expectedAes, NIST_CTR_AES128} from '../../src/run/aes.js'
import {checkTable, expectedTable} from '../../src/run/chameleon.js'
import {checkTop5} from '../../src/run/cnn-serving.js'
import {decodePng, encodePng, generateImage, pixelSha256, rotate90} from '../../src/run/images.js'
import {seededKernel} from '../../src/run/squeezenet.js'
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

test('an aes answer is checked both ways: a wrong ciphertext or decryption is named', () => {
  const event = {plaintext: 'hello, vSwarm', num_of_iterations: 3}
  const expected = expectedAes(event)
  const right = {
    ciphertext_hex: expected.ciphertextHex,
    ciphertext_sha256: expected.ciphertextSha256,
    decrypted_sha256: expected.plaintextSha256,
    plaintext_bytes: 13,
    num_of_iterations: 3,
  }
  assert.equal(checkAes(event, right, 'payload'), [])
  const flipped = right.ciphertext_hex.slice(0, -1) + (right.ciphertext_hex.endsWith('0') ? '1' : '0')
  assert.match(
    checkAes(event, {...right, ciphertext_hex: flipped}, 'payload').join(),
    /payload: ciphertext .* expected /,
  )
  assert.match(
    checkAes(event, {...right, decrypted_sha256: expected.ciphertextSha256}, 'payload').join(),
    /decrypting did not give the plaintext back/,
  )
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
  assert.equal(
    checkTable(
      {num_of_rows: 3, num_of_cols: 4},
      {rows: 3, cols: 4, length: 602, sha256: '14318b21ae3a1c8d27046cc1344ac8dad83d3f42347b2c302e1908ca08a308b1'},
    ),
    [],
  )
  assert.match(
    checkTable({num_of_rows: 4, num_of_cols: 4}, {rows: 3, cols: 4, length: 602, sha256: 'x'}).join(),
    /the table is 3×4, expected 4×4/,
  )
})

test('payloads a workload cannot run or check are refused with the fix', () => {
  throwsUser(
    () => workloadOf('chameleon').check({num_of_rows: 0, num_of_cols: 3}),
    /chameleon payload needs whole numbers num_of_rows and num_of_cols/,
  )
  throwsUser(() => workloadOf('chameleon').check({num_of_rows: 2000, num_of_cols: 2000}), /more than a million cells/)
  throwsUser(() => workloadOf('aes').check([1]), /aes payload must be a JSON object/)
  throwsUser(() => workloadOf('aes').check({num_of_iterations: 1.5}), /num_of_iterations to be a whole number/)
  throwsUser(() => workloadOf('aes').check({key_hex: 'abcd'}), /key_hex to be 16, 24 or 32 bytes/)
  workloadOf('aes').check({num_of_iterations: 5})
  workloadOf('chameleon').check({num_of_rows: 2, num_of_cols: 3})
})

test('the bundled benchmarks declare a checked workload and what they serve', async () => {
  const names = await listBenchmarks()
  for (const name of ['aes', 'chameleon', 'image-rotate', 'cnn_serving']) {
    assert.ok(names.includes(name), name)
    const manifest = await loadBenchmark(name)
    assert.ok(manifest.workload, `${name} has a workload`)
    workloadOf(manifest.workload!).check(manifest.payload)
    assert.equal(manifest.serve, {grpc: 50051, http: 8080})
  }
})

test("a quarter turn counter-clockwise, as Pillow's ROTATE_90: the top row becomes the left column", () => {
  // 3×2 image, pixels numbered row by row: 0 1 2 / 3 4 5 → 2 5 / 1 4 / 0 3
  const rgb = Buffer.alloc(18)
  for (let p = 0; p < 6; p++) rgb.fill(p, p * 3, p * 3 + 3)
  const turned = rotate90({width: 3, height: 2, rgb})
  assert.equal([turned.width, turned.height], [2, 3])
  assert.equal([...turned.rgb.filter((_, i) => i % 3 === 0)], [2, 5, 1, 4, 0, 3])
})

test('generated images are the same for the same seed and survive PNG unchanged', () => {
  const image = generateImage(5, 31, 17)
  assert.is(pixelSha256(generateImage(5, 31, 17)), pixelSha256(image))
  assert.is.not(pixelSha256(generateImage(6, 31, 17)), pixelSha256(image))
  const back = decodePng(encodePng(image))
  assert.equal([back.width, back.height], [31, 17])
  assert.is(pixelSha256(back), pixelSha256(image))
})

test("seeded SqueezeNet kernels: the values the handler's numpy code gives (classify/squeezenet.py)", () => {
  const conv10 = seededKernel(25, 1, 1, 512, 1000, 2024, 1 / 64)
  assert.equal(
    [conv10[0], conv10[1], conv10[511_999]],
    [0.001007283921353519, 0.00024185219081118703, 0.0005079542752355337],
  )
  const conv1 = seededKernel(0, 3, 3, 3, 64)
  assert.equal([conv1[0], conv1[1], conv1[1727]], [-0.43190765380859375, 0.11364223062992096, -0.4182279407978058])
})

test('a cnn_serving answer with a wrong class at some rank, or none for an image, is named', () => {
  const images = [{key: 'a.png', image: generateImage(1, 227, 227)}]
  assert.equal(checkTop5(images, {predictions: []}).differences, ['a.png: no top-5 for it'])
  const wrong = {predictions: [{key: 'a.png', top5: [0, 1, 2, 3, 4].map((c) => ({class: c, probability: 0.2}))}]}
  assert.match(checkTop5(images, wrong).differences[0]!, /a\.png: rank 1 is class 0, expected \d+/)
})

test('manifest "serve" must name ports', () => {
  const base = {name: 'x1', functions: {f: {}}}
  assert.equal(parseManifest({...base, serve: {http: 8080}}, '/tmp/x1').serve, {http: 8080})
  throwsUser(
    () => parseManifest({...base, serve: {grpc: 'yes'}}, '/tmp/x1'),
    /"serve" must be \{"grpc": <port>, "http": <port>\}/,
  )
  throwsUser(
    () => parseManifest({...base, workload: 'sorting'}, '/tmp/x1'),
    /"workload" must be one of word-count, aes, chameleon/,
  )
})

test.run()
