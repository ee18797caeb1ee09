"""Shared by the driver, mappers and reducers: S3 access, tokenizing, partitioning.

boto3 picks endpoints from AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL_LAMBDA, which is how the same
image talks to real AWS or to faas's local services.
"""
import json
import re
import zlib

import boto3
from botocore.config import Config

WORD = re.compile(r"[a-z]+")


def s3_client():
    return boto3.client("s3", config=Config(retries={"max_attempts": 5, "mode": "standard"}))


def tokenize(text):
    """Lowercase ASCII words; the CLI's reference count uses the same rule."""
    return WORD.findall(text.lower())


def partition(word, reducers):
    """Stable across processes and languages (CRC-32), unlike Python's salted hash()."""
    return zlib.crc32(word.encode("utf-8")) % reducers


def get_text(s3, bucket, key):
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    return body.decode("utf-8"), len(body)


def put_json(s3, bucket, key, value):
    body = json.dumps(value, separators=(",", ":"), sort_keys=True).encode("utf-8")
    s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")
    return len(body)


def list_keys(s3, bucket, prefix):
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.extend(item["Key"] for item in page.get("Contents", []))
    return sorted(keys)


def map_key(job, mapper, reducer):
    return f"{job}/map/{mapper:04d}/part-{reducer:04d}.json"


def reduce_key(job, reducer):
    return f"{job}/reduce/part-{reducer:04d}.json"
