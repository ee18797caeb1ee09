"""A deterministic text corpus: the same seed, size and shard count always give the same bytes, so runs
compare across machines and targets. Words follow a Zipf-like law over a generated vocabulary, as
natural text does, so reducers see skewed partitions."""
import bisect
import collections
import re

import faas_check

SYLLABLES = "ka lo mi ne ru sa ti vo ze ba do fi gu ha je po qi wu xe yo".split()


def vocabulary(next_, size):
    words = {}
    while len(words) < size:
        syllables = 1 + int(next_() * 4)
        words["".join(SYLLABLES[int(next_() * len(SYLLABLES))] for _ in range(syllables))] = None
    return list(words)


def generate(size_bytes, shards, seed):
    """The shards' texts: ASCII words, spaces, some capitals and punctuation, lines of about 80 characters."""
    next_ = faas_check.rng(seed)
    words = vocabulary(next_, 5000)
    cumulative, total = [], 0.0
    for rank in range(1, len(words) + 1):  # Zipf weights, s = 1.1
        total += 1 / rank**1.1
        cumulative.append(total)
    per_shard = -(-size_bytes // shards)
    texts = []
    for _ in range(shards):
        parts, length, line = [], 0, 0
        while length < per_shard:
            word = words[min(bisect.bisect_left(cumulative, next_() * total), len(words) - 1)]
            if next_() < 0.05:
                word = word[0].upper() + word[1:]
            if line > 72:
                separator = ".\n" if next_() < 0.3 else "\n"
            else:
                separator = ", " if next_() < 0.04 else " "
            parts += (word, separator)
            length += len(word) + len(separator)
            line = 0 if separator.endswith("\n") else line + len(word) + len(separator)
        texts.append("".join(parts))
    return texts


def count_words(texts):
    """The reference count, made apart from the functions (the same rule: lowercase [a-z]+)."""
    counts = collections.Counter()
    for text in texts:
        counts.update(re.findall(r"[a-z]+", text.lower()))
    return counts


def compare(expected, actual, limit=5):
    """Differences between two counts, at most `limit` of them."""
    found = []
    for word in list(expected) + [w for w in actual if w not in expected]:
        if expected.get(word) != actual.get(word):
            found.append(f"{word}: expected {expected.get(word, 0)}, got {actual.get(word, 0)}")
        if len(found) >= limit:
            break
    return found
