"""One S3 request per call (ListBuckets: it needs no bucket), with two ways to get the client.

per_call builds a boto3 client inside the handler, as the workshop's "before" code does: every call
pays for loading the service model, the credential chain and a new connection. reused builds it
once at init, so warm calls reuse the client and its kept-alive connection.
"""
import boto3

_reused = boto3.client("s3")


def _call(s3):
    s3.list_buckets()
    return {"ok": True}


def per_call(event, context):
    return _call(boto3.client("s3"))


def reused(event, context):
    return _call(_reused)
