"""Driver: splits the input shards over the mappers, invokes them, then the reducers, through the
Lambda API (function names from MAPPER_FUNCTION / REDUCER_FUNCTION), and reports per-phase figures."""
import base64
import json
import os
import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.config import Config

from common.mapreduce import list_keys, s3_client

REPORT_FIELDS = {
    "duration_ms": r"\tDuration: ([\d.]+) ms",
    "billed_duration_ms": r"Billed Duration: ([\d.]+) ms",
    "memory_size_mb": r"Memory Size: ([\d.]+) MB",
    "max_memory_used_mb": r"Max Memory Used: ([\d.]+) MB",
    "init_duration_ms": r"Init Duration: ([\d.]+) ms",
}


class FunctionFailed(Exception):
    pass


# The JSON log format's platform.report metrics, by the names REPORT_FIELDS gives them.
JSON_METRICS = {
    "duration_ms": "durationMs",
    "billed_duration_ms": "billedDurationMs",
    "memory_size_mb": "memorySizeMB",
    "max_memory_used_mb": "maxMemoryUsedMB",
    "init_duration_ms": "initDurationMs",
}


def parse_report(log):
    """The last report of a log tail: a REPORT line (Text log format) or a platform.report record (JSON)."""
    for line in reversed(log.splitlines()):
        line = line.strip()
        if line.startswith("REPORT "):
            figures = {}
            for name, pattern in REPORT_FIELDS.items():
                match = re.search(pattern, "\t" + line)
                if match:
                    figures[name] = float(match.group(1))
            if "\tEmulated: " in line:
                figures["emulated"] = True
            return figures
        if line.startswith("{") and "platform.report" in line:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if record.get("type") != "platform.report":
                continue
            metrics = record.get("record", {}).get("metrics", {})
            figures = {name: float(metrics[key]) for name, key in JSON_METRICS.items() if key in metrics}
            if record.get("record", {}).get("emulated"):
                figures["emulated"] = True
            return figures
    return {}


def invoke(client, function, payload):
    started = time.time()
    response = client.invoke(FunctionName=function, Payload=json.dumps(payload).encode(), LogType="Tail")
    body = response["Payload"].read().decode("utf-8")
    log = base64.b64decode(response.get("LogResult", "")).decode("utf-8", "replace")
    if response.get("FunctionError"):
        raise FunctionFailed(f"{function} failed ({response['FunctionError']}): {body}")
    record = {
        "function": function,
        "request_id": response["ResponseMetadata"].get("RequestId"),
        "start": started,
        "end": time.time(),
        **parse_report(log),
    }
    record["cold"] = "init_duration_ms" in record
    return json.loads(body), record


def check_shape(mappers, reducers):
    if mappers < 1 or reducers < 1:
        raise ValueError(f"mappers ({mappers}) and reducers ({reducers}) must be at least 1")
    if reducers & (reducers - 1):
        raise ValueError(f"reducers must be a power of two, got {reducers}")
    if reducers > mappers:
        raise ValueError(f"reducers ({reducers}) must not outnumber mappers ({mappers})")


def lambda_handler(event, context):
    started = time.time()
    bucket = event["bucket"]
    prefix = event.get("input_prefix", "input/")
    job = event.get("job") or f"jobs/{uuid.uuid4().hex[:12]}"
    mappers = int(event.get("mappers", os.environ.get("NUM_MAPPERS", 4)))
    reducers = int(event.get("reducers", os.environ.get("NUM_REDUCERS", 2)))
    check_shape(mappers, reducers)
    mapper_fn = event.get("mapper_function", os.environ["MAPPER_FUNCTION"])
    reducer_fn = event.get("reducer_function", os.environ["REDUCER_FUNCTION"])

    keys = list_keys(s3_client(), bucket, prefix)
    if not keys:
        raise ValueError(f"no input under s3://{bucket}/{prefix}")
    shards = [keys[i::mappers] for i in range(mappers)]

    lam = boto3.client("lambda", config=Config(read_timeout=900, connect_timeout=10, retries={"max_attempts": 0},
                                               max_pool_connections=max(10, mappers)))
    with ThreadPoolExecutor(max_workers=max(mappers, reducers)) as pool:
        map_started = time.time()
        mapped = list(pool.map(lambda i: invoke(lam, mapper_fn, {"bucket": bucket, "job": job, "mapper": i,
                                                                  "reducers": reducers, "keys": shards[i]}),
                               range(mappers)))
        reduce_started = time.time()
        reduced = list(pool.map(lambda r: invoke(lam, reducer_fn, {"bucket": bucket, "job": job, "reducer": r,
                                                                    "mappers": mappers}),
                                range(reducers)))
        finished = time.time()

    results = [result for result, _ in mapped + reduced]
    return {
        "job": job,
        "bucket": bucket,
        "mappers": mappers,
        "reducers": reducers,
        "outputs": [result["output"] for result, _ in reduced],
        "phases_ms": {
            "list": round((map_started - started) * 1000, 3),
            "map": round((reduce_started - map_started) * 1000, 3),
            "reduce": round((finished - reduce_started) * 1000, 3),
            "total": round((finished - started) * 1000, 3),
        },
        "bytes": {
            "read": sum(r["bytes_read"] for r in results),
            "written": sum(r["bytes_written"] for r in results),
        },
        "words": sum(result["words"] for result, _ in mapped),
        "invocations": [record for _, record in mapped + reduced],
    }
