"""Checks cnn_serving: seeded 227×227 PNGs go to the run's bucket; each top-5 the function answers must be
the one the numpy reference (reference.py) computes with the same seeded weights."""
import numpy as np

import faas_check
import png
import reference

IMAGES = 3
# TensorFlow sums in float32 in its own order, the reference in float64: probabilities agree to about
# 1e-6; a class may only trade places with one whose probability is this close (relative) to its own.
TOLERANCE = 1e-3


def close(a, b):
    return abs(a - b) <= TOLERANCE * max(abs(a), abs(b))


def compare(net, key, image, reported):
    if not isinstance(reported, dict) or reported.get("key") != key or len(reported.get("top5") or []) != 5:
        return [f"{key}: no top-5 for it"], False
    width, height, rgb = image
    probabilities = net.probabilities(np.frombuffer(rgb, dtype=np.uint8).reshape(height, width, 3))
    expected = reference.top_k(probabilities)
    classes = [p.get("class", -1) if isinstance(p, dict) else -1 for p in reported["top5"]]
    found = []
    for rank, (c, p) in enumerate(zip(classes, reported["top5"])):
        own = probabilities[c] if isinstance(c, int) and 0 <= c < len(probabilities) else None
        if own is None or not close(own, probabilities[expected[rank]]):
            found.append(
                f"{key}: rank {rank + 1} is class {c}, expected {expected[rank]} "
                f"(reference top-5 {', '.join(map(str, expected))})"
            )
        elif not isinstance(p.get("probability"), (int, float)) or not close(p["probability"], own):
            found.append(f"{key}: class {c} has probability {p.get('probability')}, expected {own:.6g}")
    return found, classes == expected


def check(run):
    size = reference.INPUT_SIZE
    with run.timed("upload"):
        images = [
            (f"cnn_serving/seed{run.seed}/image-{i}-{size}x{size}.png", png.generate(run.seed * 1000 + i, size, size))
            for i in range(IMAGES)
        ]
        uploaded = run.put((key, png.encode(*image), "image/png") for key, image in images)
    keys = [key for key, _ in images]
    answer = run.invoke({"bucket": run.bucket, "keys": keys})
    predictions = (answer or {}).get("predictions") or []
    with run.timed("verify"):
        net = reference.SqueezeNet()
        found, exact = [], 0
        for i, (key, image) in enumerate(images):
            differences, same = compare(net, key, image, predictions[i] if i < len(predictions) else None)
            found += differences
            exact += same
    return {
        "differences": found,
        "verified": f"top-5 of {len(images)} images as the reference SqueezeNet computed here ({exact} of "
        f"{len(images)} in exactly the same order)",
        "output": answer,
        "config": {"seed": run.seed, "bucket": run.bucket, "keys": keys, "uploadedBytes": uploaded},
    }


if __name__ == "__main__":
    faas_check.main(check)
