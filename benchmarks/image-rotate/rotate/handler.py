"""vSwarm's image-rotate function: fetch images, rotate each a quarter turn with Pillow, return the result.

vSwarm reads its images from MongoDB (GridFS); here they come from S3 (the local S3 store on faas's
local target, S3 itself on AWS), and are lossless PNGs so the result can be checked pixel for pixel.
Event: {"bucket": B, "keys": [K, ...], "output_prefix": P}; with output_prefix each rotated image is
written back as PNG under it. Without keys (e.g. vSwarm's gRPC "world"), the images `faas run
image-rotate` uploads with its default seed are used, from IMAGE_BUCKET (default faas-runs).
"""
import hashlib
import io
import os
import posixpath
import time

import boto3
from botocore.config import Config
from PIL import Image

DEFAULT_BUCKET = os.environ.get("IMAGE_BUCKET", "faas-runs")
DEFAULT_KEYS = ["image-rotate/seed1/image-0-320x240.png"]

_s3 = None


def s3():
    """The S3 client, made on first use: making it loads botocore's endpoint data, seconds under qemu
    emulation, which would push an arm64 cold start on faas's local service past Lambda's 10 s init limit."""
    global _s3
    if _s3 is None:
        _s3 = boto3.client("s3", config=Config(retries={"max_attempts": 5, "mode": "standard"}))
    return _s3


def lambda_handler(event, context):
    event = event or {}
    bucket = event.get("bucket") or DEFAULT_BUCKET
    keys = event.get("keys") or DEFAULT_KEYS
    output_prefix = event.get("output_prefix")
    phases = {"read": 0.0, "rotate": 0.0, "write": 0.0}
    images = []
    for key in keys:
        started = time.perf_counter()
        data = s3().get_object(Bucket=bucket, Key=key)["Body"].read()
        phases["read"] += time.perf_counter() - started

        started = time.perf_counter()
        image = Image.open(io.BytesIO(data)).convert("RGB")
        rotated = image.transpose(Image.Transpose.ROTATE_90)
        pixels = rotated.tobytes()
        phases["rotate"] += time.perf_counter() - started

        answer = {
            "key": key,
            "width": rotated.width,
            "height": rotated.height,
            "pixel_sha256": hashlib.sha256(pixels).hexdigest(),
            "bytes_read": len(data),
        }
        if output_prefix:
            started = time.perf_counter()
            out = io.BytesIO()
            rotated.save(out, format="PNG")
            output_key = posixpath.join(output_prefix, posixpath.basename(key))
            s3().put_object(Bucket=bucket, Key=output_key, Body=out.getvalue(), ContentType="image/png")
            phases["write"] += time.perf_counter() - started
            answer["output_key"] = output_key
        images.append(answer)
    return {"fn": "image-rotate", "bucket": bucket, "images": images, "phases_ms": {k: round(v * 1000, 3) for k, v in phases.items()}}
