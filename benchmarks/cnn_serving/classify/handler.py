"""vHive's cnn_serving function: classify images with SqueezeNet in TensorFlow/Keras.

The model is built once per environment, at import (vHive's server loads it at start), so its cost
falls in the cold start. Event: {"bucket": B, "keys": [K, ...]} reads the images from S3 (the Lambda
variant in the vHive-vs-Lambda study reads S3 too); without keys (a vHive-style gRPC call whose name
is "world", or `{}`) one image generated from {"seed": n} is classified, as vHive classifies an image
bundled with the function. Images other than 227×227 are resized, as Keras's load_img does.
"""
import io
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_HOME", "/tmp/.keras")  # Lambda's file system is read-only but for /tmp

import boto3  # noqa: E402
import numpy as np  # noqa: E402
from botocore.config import Config  # noqa: E402
from PIL import Image  # noqa: E402

from squeezenet import INPUT_SIZE, MODEL_SEED, build_squeezenet, preprocess  # noqa: E402

_started = time.perf_counter()
MODEL = build_squeezenet()
MODEL_BUILD_MS = round((time.perf_counter() - _started) * 1000, 3)
_s3 = None


def s3():
    """The S3 client, made on first use: making it loads botocore's endpoint data, seconds under qemu
    emulation, which would push an arm64 cold start on faas's local service past Lambda's 10 s init limit."""
    global _s3
    if _s3 is None:
        _s3 = boto3.client("s3", config=Config(retries={"max_attempts": 5, "mode": "standard"}))
    return _s3


def load(bucket, key):
    image = Image.open(io.BytesIO(s3().get_object(Bucket=bucket, Key=key)["Body"].read())).convert("RGB")
    if image.size != (INPUT_SIZE, INPUT_SIZE):
        image = image.resize((INPUT_SIZE, INPUT_SIZE), Image.Resampling.NEAREST)
    return np.asarray(image, dtype=np.uint8)


def lambda_handler(event, context):
    event = event or {}
    keys = event.get("keys") or []
    started = time.perf_counter()
    if keys:
        images = [load(event["bucket"], key) for key in keys]
    else:
        seed = int(event.get("seed", 1))
        images = [np.random.default_rng(seed).integers(0, 256, (INPUT_SIZE, INPUT_SIZE, 3), dtype=np.uint8)]
        keys = [f"generated:seed{seed}"]
    read_ms = (time.perf_counter() - started) * 1000

    started = time.perf_counter()
    probabilities = MODEL.predict(preprocess(np.stack(images)), verbose=0)
    predict_ms = (time.perf_counter() - started) * 1000

    predictions = []
    for key, row in zip(keys, probabilities):
        top5 = np.argsort(-row, kind="stable")[:5]
        predictions.append({"key": key, "top5": [{"class": int(c), "label": f"class_{int(c)}", "probability": float(row[c])} for c in top5]})
    return {
        "fn": "cnn_serving",
        "model": {"name": "squeezenet", "weights": f"seeded ({MODEL_SEED})", "build_ms": MODEL_BUILD_MS},
        "predictions": predictions,
        "phases_ms": {"read": round(read_ms, 3), "predict": round(predict_ms, 3)},
    }
