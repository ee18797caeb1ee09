import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {compareCounts, countWords, generateCorpus} from '../../src/run/corpus.js'

test('the corpus is deterministic for a seed and differs across seeds', () => {
  const a = generateCorpus({sizeBytes: 20_000, shards: 4, seed: 7})
  assert.equal(generateCorpus({sizeBytes: 20_000, shards: 4, seed: 7}), a)
  assert.not.equal(generateCorpus({sizeBytes: 20_000, shards: 4, seed: 8}), a)
})

test('shards add up to about the requested size, in ASCII', () => {
  const shards = generateCorpus({sizeBytes: 100_000, shards: 8, seed: 1})
  assert.is(shards.length, 8)
  const bytes = shards.reduce((n, s) => n + Buffer.byteLength(s), 0)
  assert.ok(bytes >= 100_000 && bytes < 100_000 + 8 * 40, `size ${bytes}`)
  assert.ok(shards.every((s) => /^[\x20-\x7e\n]+$/.test(s)))
})

test('word frequencies are skewed (Zipf-like): the top word is far commoner than the median', () => {
  const counts = [...countWords(generateCorpus({sizeBytes: 200_000, shards: 1, seed: 3})).values()].sort(
    (x, y) => y - x,
  )
  assert.ok(counts[0]! > 20 * counts[Math.floor(counts.length / 2)]!)
})

test('countWords lowercases and splits on anything but letters; compareCounts names differences', () => {
  const counts = countWords(['Ka lo, ka.\nLO ka', 'mi'])
  assert.equal(Object.fromEntries(counts), {ka: 3, lo: 2, mi: 1})
  assert.equal(
    compareCounts(
      counts,
      new Map([
        ['ka', 3],
        ['lo', 1],
      ]),
    ),
    ['lo: expected 2, got 1', 'mi: expected 1, got 0'],
  )
  assert.equal(compareCounts(counts, counts), [])
})

test.run()
