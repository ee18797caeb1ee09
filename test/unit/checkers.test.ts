// The shipped benchmarks' checkers (benchmarks/<name>/check, Python) on the host's python3: their references
// against published values, and the wrong answers they must name. The e2e tests drive them through faas.
import {execa} from 'execa'
import {join} from 'node:path'
import {PNG} from 'pngjs'
import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {PROJECT_ROOT} from '../../src/core/paths.js'
import {rng} from '../../src/core/random.js'

/** Runs `script` with a benchmark's checker folder and faas_check importable; its last stdout line, as JSON. */
async function python(benchmark: string, script: string, input?: string): Promise<any> {
  const {stdout} = await execa('python3', ['-c', `import json\n${script}`], {
    cwd: join(PROJECT_ROOT, 'benchmarks', benchmark, 'check'),
    env: {PYTHONPATH: `.:${join(PROJECT_ROOT, 'docker', 'check')}`},
    input,
  })
  return JSON.parse(stdout.trim().split('\n').at(-1)!)
}

const NIST = 'NIST SP 800-38A F.5.1'

test("the checker's own AES reproduces FIPS 197 (C.1–C.3) and SP 800-38A's CTR vector", async () => {
  const blocks = await python(
    'aes',
    `import aes, checker
block = bytes.fromhex("00112233445566778899aabbccddeeff")
enc = lambda n: aes.encrypt_block(aes.expand_key(bytes(range(n))), block).hex()
n = checker.NIST
ctr = aes.ctr(bytes.fromhex(n["key"]), int(n["counter"], 16), bytes.fromhex(n["plaintext"])).hex()
print(json.dumps([enc(16), enc(24), enc(32), ctr == n["ciphertext"]]))`,
  )
  assert.equal(blocks, [
    '69c4e0d86a7b0430d8cdb78070b4c55a',
    'dda97ca4864cdfe06eaf70a0ec0d7191',
    '8ea2b7ca516745bfeafc49904b496089',
    true,
  ])
})

test('an aes answer is checked both ways: a wrong ciphertext, decryption or iteration count is named', async () => {
  const found = await python(
    'aes',
    `import aes, checker, hashlib
event = {"plaintext": "hello, vSwarm", "num_of_iterations": 3}
c = aes.ctr(bytes.fromhex(checker.VSWARM_KEY), 0, b"hello, vSwarm")
h = lambda b: hashlib.sha256(b).hexdigest()
right = {"ciphertext_hex": c.hex(), "ciphertext_sha256": h(c), "decrypted_sha256": h(b"hello, vSwarm"),
         "plaintext_bytes": 13, "num_of_iterations": 3}
flipped = c.hex()[:-1] + ("1" if c.hex().endswith("0") else "0")
print(json.dumps([checker.differences(event, right, "payload"),
  checker.differences(event, {**right, "ciphertext_hex": flipped}, "payload"),
  checker.differences(event, {**right, "decrypted_sha256": h(c)}, "payload"),
  checker.differences(event, {**right, "num_of_iterations": 1}, "payload"),
  checker.differences(checker.run_event({}, 1) | {"key_hex": checker.NIST["key"]}, right, "${NIST}")]))`,
  )
  assert.equal(found[0], [])
  assert.match(found[1].join(), /payload: ciphertext .* expected /)
  assert.match(found[2].join(), /decrypting did not give the plaintext back/)
  assert.match(found[3].join(), /ran 1 iterations, asked for 3/)
  assert.match(found[4].join(), /NIST SP 800-38A F\.5\.1: ciphertext sha256/)
})

test('faas run aes sends a generated message when the payload names none, the same for the same seed', async () => {
  const [a, again, other, mine] = await python(
    'aes',
    `import checker
print(json.dumps([checker.run_event({"num_of_iterations": 2}, 7), checker.run_event({"num_of_iterations": 2}, 7),
  checker.run_event({"num_of_iterations": 2}, 8), checker.run_event({"plaintext": "mine"}, 7)]))`,
  )
  assert.is(a.plaintext.length, 100)
  assert.equal(again, a)
  assert.is.not(other.plaintext, a.plaintext)
  assert.equal(mine, {plaintext: 'mine'})
})

test('the expected chameleon table is the text Chameleon 4.6 renders (digest taken from a real render)', async () => {
  const [length, right, wrong] = await python(
    'chameleon',
    `import checker
good = {"rows": 3, "cols": 4, "length": 602,
        "sha256": "14318b21ae3a1c8d27046cc1344ac8dad83d3f42347b2c302e1908ca08a308b1"}
print(json.dumps([len(checker.expected_table(3, 4)), checker.differences({"num_of_rows": 3, "num_of_cols": 4}, good),
  checker.differences({"num_of_rows": 4, "num_of_cols": 4}, {**good, "sha256": "x"})]))`,
  )
  assert.is(length, 602)
  assert.equal(right, [])
  assert.match(wrong.join(), /the table is 3×4, expected 4×4/)
})

test('payloads and run flags a checker cannot run or check are refused with the fix', async () => {
  const refusals = await python(
    'aes',
    `import importlib.util, sys, faas_check
def load(benchmark):
    folder = f"../../{benchmark}/check"
    sys.path.insert(0, folder)
    spec = importlib.util.spec_from_file_location(f"{benchmark}_checker", f"{folder}/checker.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.path.remove(folder)
    return module
def refused(checker, payload, params={}):
    try:
        checker.validate(payload, params, 1)
        return None
    except faas_check.Refuse as r:
        return [r.code, r.message]
chameleon, mapreduce, aes = load("chameleon"), load("map-reduce"), load("aes")
out = [refused(chameleon, p) for p in ({"num_of_rows": 0, "num_of_cols": 3}, {"num_of_rows": 2000, "num_of_cols": 2000},
  {"num_of_rows": 2, "num_of_cols": 3})]
flags = [{"reducers": "3"}, {"mappers": "2", "reducers": "4"}, {"shards": "2", "mappers": "4"}, {"input-mb": "0"},
  {"input-mb": "-2"}, {"mappers": "0"}, {"mappers": "1.5"}, {"input-mb": "2000"}, {},
  {"shards": "1001"}, {"reducers": "513"}]
out += [refused(mapreduce, None, f) for f in flags]
payloads = ([1], {"num_of_iterations": 1.5}, {"key_hex": "abcd"}, {"num_of_iterations": 5})
out += [(refused(aes, p) or [None, None])[1] for p in payloads]
print(json.dumps(out + [mapreduce.validate(None, {"mappers": "8", "input-mb": "0.5"}, 1)]))`,
  )
  const [rows, cells, fine, power, outnumber, shards, zeroMb, negativeMb, zeroMappers, fraction, hugeMb, none] =
    refusals
  assert.match(rows[1], /chameleon payload needs whole numbers num_of_rows and num_of_cols/)
  assert.match(cells[1], /more than a million cells/)
  assert.is(fine, null)
  assert.equal(power, ['BAD_RUN_PARAMS', '--reducers must be a power of two (got 3).'])
  assert.match(outnumber[1], /--reducers \(4\) must not outnumber --mappers \(2\)/)
  assert.match(shards[1], /--shards \(2\) must be at least --mappers \(4\)/)
  assert.equal(zeroMb, ['BAD_FLAG', '--input-mb is 0; it must be a number above 0 and at most 1024.'])
  assert.match(negativeMb[1], /--input-mb is -2; it must be a number above 0/)
  assert.equal(zeroMappers, ['BAD_FLAG', '--mappers is 0; it must be a whole number from 1 to 1000.'])
  assert.match(fraction[1], /--mappers is 1\.5; it must be a whole number/)
  assert.match(hugeMb[1], /--input-mb is 2000; it must be a number above 0 and at most 1024/)
  assert.is(none, null)
  assert.match(refusals[12][1], /--shards is 1001; it must be a whole number from 1 to 1000/)
  assert.match(refusals[13][1], /--reducers is 513; it must be a whole number from 1 to 512/)
  const [notObject, iterations, key, ok, defaults] = refusals.slice(14)
  assert.match(notObject, /aes payload must be a JSON object/)
  assert.match(iterations, /num_of_iterations to be a whole number/)
  assert.match(key, /key_hex to be 16, 24 or 32 bytes/)
  assert.is(ok, null)
  assert.equal(defaults, {inputMb: 0.5, shards: 16, mappers: 8, reducers: 2})
})

test("the map-reduce corpus: seeded, about the size asked, Zipf-like; the reference count's rule", async () => {
  const [same, differs, bytes, shards, ascii, skewed, counts, compared] = await python(
    'map-reduce',
    `import corpus
a = corpus.generate(20_000, 4, 7)
big = corpus.generate(100_000, 8, 1)
ranked = sorted(corpus.count_words(corpus.generate(200_000, 1, 3)).values(), reverse=True)
counts = corpus.count_words(["Ka lo, ka.\\nLO ka", "mi"])
print(json.dumps([a == corpus.generate(20_000, 4, 7), a != corpus.generate(20_000, 4, 8), sum(map(len, big)), len(big),
  all(s.isascii() for s in big), ranked[0] > 20 * ranked[len(ranked) // 2], counts,
  [corpus.compare(counts, {"ka": 3, "lo": 1}), corpus.compare(counts, counts)]]))`,
  )
  assert.ok(same && differs && ascii && skewed)
  assert.is(shards, 8)
  assert.ok(bytes >= 100_000 && bytes < 100_000 + 8 * 40, `size ${bytes}`)
  assert.equal(counts, {ka: 3, lo: 2, mi: 1})
  assert.equal(compared, [['lo: expected 2, got 1', 'mi: expected 1, got 0'], []])
})

test("PNG without Pillow: a quarter turn as ROTATE_90, seeded images, and pngjs's filtered PNGs decoded", async () => {
  // pngjs picks a filter per row (all five kinds), as Pillow does: the decoder must undo each.
  const png = new PNG({width: 37, height: 23})
  const next = rng(3)
  for (let i = 0; i < png.data.length; i++) png.data[i] = i % 4 === 3 ? 255 : Math.floor(next() * 256)
  const encoded = PNG.sync.write(png, {colorType: 2})
  const rgb = Buffer.from(png.data.filter((_, i) => i % 4 !== 3)).toString('hex')
  const [turned, seeded, roundTrip, decoded] = await python(
    'image-rotate',
    `import base64, sys, png
w, h, p = png.generate(5, 31, 17)
data = base64.b64decode(sys.stdin.read())
print(json.dumps([list(png.rotate90(3, 2, bytes(sum(([i] * 3 for i in range(6)), [])))[2][::3]),
  png.generate(5, 31, 17) == (w, h, p) and png.generate(6, 31, 17) != (w, h, p),
  png.decode(png.encode(w, h, p)) == (w, h, p), [*png.decode(data)[:2], png.decode(data)[2].hex()]]))`,
    encoded.toString('base64'),
  )
  assert.equal(turned, [2, 5, 1, 4, 0, 3])
  assert.ok(seeded && roundTrip)
  assert.equal(decoded, [37, 23, rgb])
})

test('faas_check speaks the protocol: a refusal, then a run asking for an invoke and a put', async () => {
  const lines = (messages: object[]) => messages.map((m) => JSON.stringify(m)).join('\n') + '\n'
  const refused = await execa(
    'python3',
    ['-c', 'import faas_check\ndef v(p, q, s):\n    raise faas_check.Refuse("no", "fix it")\nfaas_check.main(None, v)'],
    {env: {PYTHONPATH: join(PROJECT_ROOT, 'docker', 'check')}, input: lines([{op: 'validate', params: {}}])},
  )
  assert.equal(JSON.parse(refused.stdout), {op: 'refuse', message: 'no', fix: 'fix it', code: 'BAD_RUN_PARAMS'})
  const script = `import faas_check
def check(run):
    answer = run.invoke({"n": run.seed})
    sent = run.put([("k", b"abc", "text/plain")])
    return {"differences": [] if answer == {"ok": True} else ["bad"], "verified": "v", "config": {"sent": sent}}
faas_check.main(check)`
  const ran = await execa('python3', ['-c', script], {
    env: {PYTHONPATH: join(PROJECT_ROOT, 'docker', 'check')},
    input: lines([
      {op: 'start', seed: 4, runId: 'r', bucket: 'b', payload: {}},
      {op: 'outcome', payload: '{"ok": true}'},
      {op: 'put', uploaded: 3},
    ]),
  })
  const sent = ran.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
  assert.equal(sent[0], {op: 'invoke', payload: {n: 4}})
  assert.equal(sent[1], {op: 'put', objects: [{key: 'k', body_b64: 'YWJj', content_type: 'text/plain'}]})
  assert.equal(sent[2], {
    op: 'result',
    differences: [],
    verified: 'v',
    config: {sent: 3},
    correct: true,
    phasesMs: {},
  })
})

test.run()
