"""Reducer: sums the partial counts every mapper wrote for its partition."""
import json
import time
from collections import Counter

from common.mapreduce import map_key, put_json, reduce_key, s3_client


def lambda_handler(event, context):
    started = time.time()
    bucket, job = event["bucket"], event["job"]
    reducer, mappers = int(event["reducer"]), int(event["mappers"])
    s3 = s3_client()

    totals = Counter()
    bytes_read = 0
    for mapper in range(mappers):
        body = s3.get_object(Bucket=bucket, Key=map_key(job, mapper, reducer))["Body"].read()
        bytes_read += len(body)
        totals.update(json.loads(body))

    key = reduce_key(job, reducer)
    bytes_written = put_json(s3, bucket, key, dict(totals))
    return {
        "reducer": reducer,
        "output": key,
        "distinct_words": len(totals),
        "bytes_read": bytes_read,
        "bytes_written": bytes_written,
        "seconds": round(time.time() - started, 6),
    }
