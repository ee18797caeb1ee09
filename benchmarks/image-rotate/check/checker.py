"""Checks image-rotate: seeded PNGs go to the run's bucket, the function rotates them; its stored PNGs,
read back and decoded here (png.py, zlib only), must hold the pixels of the rotation made here."""
import hashlib

import faas_check
import png

# Odd and non-square sizes, so a wrong turn or a flip shows.
SIZES = [(320, 240), (256, 256), (199, 101), (64, 480)]


def digest(rgb):
    return hashlib.sha256(rgb).hexdigest()


def compare(run, key, image, reported):
    width, height, expected = png.rotate90(*image)
    if not isinstance(reported, dict) or reported.get("key") != key:
        return [f"{key}: no answer for it"]
    found = []
    if reported.get("width") != width or reported.get("height") != height:
        found.append(f"{key}: rotated to {reported.get('width')}×{reported.get('height')}, expected {width}×{height}")
    if not isinstance(reported.get("output_key"), str):
        return found + [f"{key}: the function stored no result"]
    if png.decode(run.get(reported["output_key"]))[2] != expected:
        found.append(f"{key}: the stored result's pixels differ from the image rotated here")
    if reported.get("pixel_sha256") != digest(expected):
        found.append(f"{key}: the function's pixel digest {reported.get('pixel_sha256')} differs from {digest(expected)}")
    return found


def check(run):
    with run.timed("upload"):
        images = [
            (f"image-rotate/seed{run.seed}/image-{i}-{w}x{h}.png", png.generate(run.seed * 1000 + i, w, h))
            for i, (w, h) in enumerate(SIZES)
        ]
        uploaded = run.put((key, png.encode(*image), "image/png") for key, image in images)
    output_prefix = f"image-rotate/runs/{run.run_id}"
    keys = [key for key, _ in images]
    answer = run.invoke({"bucket": run.bucket, "keys": keys, "output_prefix": output_prefix})
    reported = (answer or {}).get("images") or []
    with run.timed("verify"):
        found = []
        for i, (key, image) in enumerate(images):
            found += compare(run, key, image, reported[i] if i < len(reported) else None)
    return {
        "differences": found,
        "verified": f"{len(images)} images rotated a quarter turn, pixel for pixel",
        "output": answer,
        "config": {
            "seed": run.seed,
            "bucket": run.bucket,
            "keys": keys,
            "outputPrefix": output_prefix,
            "uploadedBytes": uploaded,
        },
    }


if __name__ == "__main__":
    faas_check.main(check)
