"""Mapper: counts the words of its input shards and writes one partial count per reducer."""
import time
from collections import Counter

from common.mapreduce import get_text, map_key, partition, put_json, s3_client, tokenize


def lambda_handler(event, context):
    started = time.time()
    bucket, job = event["bucket"], event["job"]
    mapper, reducers = int(event["mapper"]), int(event["reducers"])
    s3 = s3_client()

    counts = Counter()
    bytes_read = 0
    for key in event["keys"]:
        text, size = get_text(s3, bucket, key)
        bytes_read += size
        counts.update(tokenize(text))

    parts = [dict() for _ in range(reducers)]
    for word, count in counts.items():
        parts[partition(word, reducers)][word] = count
    bytes_written = sum(put_json(s3, bucket, map_key(job, mapper, r), part) for r, part in enumerate(parts))

    return {
        "mapper": mapper,
        "shards": len(event["keys"]),
        "words": sum(counts.values()),
        "bytes_read": bytes_read,
        "bytes_written": bytes_written,
        "seconds": round(time.time() - started, 6),
    }
