import {rng} from '../core/random.js'

/**
 * A deterministic text corpus for map-reduce: the same seed, size and shard count always give the
 * same bytes, so runs compare across machines and targets. Words follow a Zipf-like law over a
 * generated vocabulary, as natural text does, so reducers see skewed partitions.
 */
export interface CorpusOptions {
  sizeBytes: number
  shards: number
  seed: number
}

const SYLLABLES = [
  'ka',
  'lo',
  'mi',
  'ne',
  'ru',
  'sa',
  'ti',
  'vo',
  'ze',
  'ba',
  'do',
  'fi',
  'gu',
  'ha',
  'je',
  'po',
  'qi',
  'wu',
  'xe',
  'yo',
]

function vocabulary(next: () => number, size: number): string[] {
  const words = new Set<string>()
  while (words.size < size) {
    const syllables = 1 + Math.floor(next() * 4)
    let word = ''
    for (let i = 0; i < syllables; i++) word += SYLLABLES[Math.floor(next() * SYLLABLES.length)]
    words.add(word)
  }
  return [...words]
}

/** The shards' texts: ASCII words, spaces, some capitals and punctuation, lines of about 80 characters. */
export function generateCorpus(options: CorpusOptions): string[] {
  const next = rng(options.seed)
  const words = vocabulary(next, 5000)
  // Zipf weights (s = 1.1) as a cumulative table, searched by bisection.
  const cumulative: number[] = []
  let total = 0
  for (let rank = 1; rank <= words.length; rank++) cumulative.push((total += 1 / rank ** 1.1))
  const pick = () => {
    const target = next() * total
    let lo = 0
    let hi = cumulative.length - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (cumulative[mid]! < target) lo = mid + 1
      else hi = mid
    }
    return words[lo]!
  }
  const perShard = Math.ceil(options.sizeBytes / options.shards)
  const shards: string[] = []
  for (let s = 0; s < options.shards; s++) {
    const parts: string[] = []
    let length = 0
    let line = 0
    while (length < perShard) {
      let word = pick()
      if (next() < 0.05) word = word[0]!.toUpperCase() + word.slice(1)
      const separator = line > 72 ? (next() < 0.3 ? '.\n' : '\n') : next() < 0.04 ? ', ' : ' '
      parts.push(word, separator)
      length += word.length + separator.length
      line = separator.endsWith('\n') ? 0 : line + word.length + separator.length
    }
    shards.push(parts.join(''))
  }
  return shards
}

/** The reference word count, computed independently of the functions (same rule: lowercase [a-z]+). */
export function countWords(texts: Iterable<string>): Map<string, number> {
  const counts = new Map<string, number>()
  for (const text of texts) {
    for (const word of text.toLowerCase().match(/[a-z]+/g) ?? []) counts.set(word, (counts.get(word) ?? 0) + 1)
  }
  return counts
}

/** Differences between two counts, at most `limit` of them, for an error message. */
export function compareCounts(expected: Map<string, number>, actual: Map<string, number>, limit = 5): string[] {
  const differences: string[] = []
  for (const word of new Set([...expected.keys(), ...actual.keys()])) {
    if (expected.get(word) !== actual.get(word))
      differences.push(`${word}: expected ${expected.get(word) ?? 0}, got ${actual.get(word) ?? 0}`)
    if (differences.length >= limit) break
  }
  return differences
}
