"""vSwarm's aes function: AES-128 in CTR mode with pyaes (pure Python, so CPU-bound), N times over.

Event (all optional): plaintext (text) or plaintext_hex, or name (vSwarm's gRPC input: the text to
encrypt); key_hex (16/24/32 bytes, default vSwarm's key); counter_hex (the initial 128-bit counter
block, default 0 as vSwarm); num_of_iterations (default 1). Each iteration encrypts the message
with a fresh counter and decrypts it again. The answer carries the ciphertext (whole when short,
else only its digest) and the digest of the decrypted text, so a caller can check both directions.
"""
import hashlib
import time

import pyaes

# vSwarm's aes key (aes/python/server.py), so the default work is theirs.
VSWARM_KEY = b"\xa1\xf6%\x8c\x87}_\xcd\x89dHE8\xbf\xc9,"
DEFAULT_PLAINTEXT = "The quick brown fox jumps over the lazy dog; vSwarm encrypts a short message like this one."
SHORT = 4096


def message_of(event):
    if "plaintext_hex" in event:
        return bytes.fromhex(event["plaintext_hex"])
    text = event.get("plaintext")
    if text is None:
        name = event.get("name")
        text = name if name and name != "world" else DEFAULT_PLAINTEXT  # vSwarm's client says "world"
    return text.encode("utf-8")


def lambda_handler(event, context):
    event = event or {}
    plaintext = message_of(event)
    key = bytes.fromhex(event["key_hex"]) if "key_hex" in event else VSWARM_KEY
    counter = int(event.get("counter_hex", "0"), 16)
    iterations = int(event.get("num_of_iterations", 1))
    if iterations < 1:
        raise ValueError(f"num_of_iterations must be at least 1 (got {iterations})")

    started = time.perf_counter()
    for _ in range(iterations):
        ciphertext = pyaes.AESModeOfOperationCTR(key, counter=pyaes.Counter(initial_value=counter)).encrypt(plaintext)
        decrypted = pyaes.AESModeOfOperationCTR(key, counter=pyaes.Counter(initial_value=counter)).decrypt(ciphertext)
    elapsed_ms = (time.perf_counter() - started) * 1000

    return {
        "fn": "aes",
        "mode": "CTR",
        "key_bits": len(key) * 8,
        "plaintext_bytes": len(plaintext),
        "num_of_iterations": iterations,
        "ciphertext_hex": ciphertext.hex() if len(ciphertext) <= SHORT else None,
        "ciphertext_sha256": hashlib.sha256(ciphertext).hexdigest(),
        "decrypted_sha256": hashlib.sha256(decrypted).hexdigest(),
        "elapsed_ms": round(elapsed_ms, 3),
    }
