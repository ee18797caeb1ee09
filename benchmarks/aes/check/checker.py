"""Checks aes: NIST SP 800-38A's CTR-AES128 known-answer vector first, then the payload's message N times;
every answer against this folder's own AES (aes.py), independent of the handler's pyaes."""
import hashlib
import re

import aes
import faas_check

# NIST SP 800-38A, F.5.1 CTR-AES128.Encrypt.
NIST = {
    "key": "2b7e151628aed2a6abf7158809cf4f3c",
    "counter": "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
    "plaintext": "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
    "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710",
    "ciphertext": "874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff"
    "5ae4df3edbd5d35e5b4f09020db03eab1e031dda2fbe03d1792170a0f3009cee",
}
VSWARM_KEY = "a1f6258c877d5fcd8964484538bfc92c"  # the handler's default key
EXAMPLE = '{"num_of_iterations": 10}'
LETTERS = "abcdefghijklmnopqrstuvwxyz0123456789"


def refuse(problem):
    return faas_check.Refuse(
        f"The aes payload {problem}.",
        f"Give --payload like '{EXAMPLE}', or fix \"payload\" in the benchmark's benchmark.json.",
    )


def validate(payload, params, seed):
    if not isinstance(payload, dict):
        raise refuse("must be a JSON object")
    n = payload.get("num_of_iterations")
    if n is not None and not (isinstance(n, int) and not isinstance(n, bool) and n >= 1):
        raise refuse("needs num_of_iterations to be a whole number, at least 1")
    for field in ("plaintext_hex", "key_hex", "counter_hex"):
        value = payload.get(field)
        if value is not None and not (isinstance(value, str) and re.fullmatch(r"([0-9a-fA-F]{2})*", value)):
            raise refuse(f"needs {field} to be hexadecimal bytes")
    if payload.get("key_hex") is not None and len(payload["key_hex"]) // 2 not in (16, 24, 32):
        raise refuse("needs key_hex to be 16, 24 or 32 bytes")
    if payload.get("counter_hex") is not None and len(payload["counter_hex"]) > 32:
        raise refuse("needs counter_hex to be at most 16 bytes")
    return params


def run_event(payload, seed):
    """The payload, with a generated vSwarm-like message when it names none (so the answer is checkable)."""
    if "plaintext" in payload or "plaintext_hex" in payload or payload.get("name", "world") != "world":
        return payload
    next_ = faas_check.rng(seed)
    return {**payload, "plaintext": "".join(LETTERS[int(next_() * len(LETTERS))] for _ in range(100))}


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def differences(event, answer, label, published=None):
    if "plaintext_hex" in event:
        plaintext = bytes.fromhex(event["plaintext_hex"])
    else:
        plaintext = (event.get("plaintext") or event.get("name") or "").encode("utf-8")
    key = bytes.fromhex(event.get("key_hex", VSWARM_KEY))
    ciphertext = aes.ctr(key, int(event.get("counter_hex", "0") or "0", 16), plaintext)
    found = []
    if published is not None and ciphertext.hex() != published:
        found.append(f"{label}: this checker's AES disagrees with the published ciphertext")
    expected_hex = published or ciphertext.hex()
    if answer.get("ciphertext_hex") is not None and answer["ciphertext_hex"] != expected_hex:
        found.append(f"{label}: ciphertext {answer['ciphertext_hex']}, expected {expected_hex}")
    if answer.get("ciphertext_sha256") != sha256(ciphertext):
        found.append(f"{label}: ciphertext sha256 {answer.get('ciphertext_sha256')}, expected {sha256(ciphertext)}")
    if answer.get("decrypted_sha256") != sha256(plaintext):
        found.append(
            f"{label}: decrypting did not give the plaintext back (sha256 {answer.get('decrypted_sha256')}, "
            f"expected {sha256(plaintext)})"
        )
    if answer.get("plaintext_bytes") != len(plaintext):
        found.append(f"{label}: {answer.get('plaintext_bytes')} plaintext bytes, expected {len(plaintext)}")
    if "num_of_iterations" in event and answer.get("num_of_iterations") != event["num_of_iterations"]:
        found.append(f"{label}: ran {answer.get('num_of_iterations')} iterations, asked for {event['num_of_iterations']}")
    return found


def check(run):
    vector = {
        "key_hex": NIST["key"],
        "counter_hex": NIST["counter"],
        "plaintext_hex": NIST["plaintext"],
        "num_of_iterations": 1,
    }
    event = run_event(run.payload, run.seed)
    known = run.invoke(vector) or {}
    work = run.invoke(event) or {}
    with run.timed("verify"):
        found = differences(vector, known, "NIST SP 800-38A F.5.1", NIST["ciphertext"])
        found += differences(event, work, "payload")
    return {
        "differences": found,
        "verified": f"NIST CTR-AES128 vector and {event.get('num_of_iterations', 1)} encrypt/decrypt round trip(s) "
        "match an independent AES",
        "output": work,
        "config": {"event": event},
    }


if __name__ == "__main__":
    faas_check.main(check, validate)
