"""The synthetic function of trace replay (as invitro's trace function): event {"ms": N, "mb": M}
touches M MB (one write per 4 KiB page, so the pages are really resident) and then spins the CPU
until N ms have passed since the call began. The answer reports what was done, so faas can put the
requested and the achieved side by side: {"fn", "requestedMs", "requestedMb", "ms", "mb"}.
"""
import time

PAGE = 4096
MB = 1 << 20


def lambda_handler(event, context):
    start = time.perf_counter()
    event = event or {}
    requested_ms = float(event.get("ms", 0))
    requested_mb = int(event.get("mb", 0))
    if requested_ms < 0 or requested_mb < 0:
        raise ValueError(f"ms and mb must be ≥ 0 (got ms={requested_ms}, mb={requested_mb})")
    block = bytearray(requested_mb * MB)
    for i in range(0, len(block), PAGE):
        block[i] = 1
    touched_mb = len(block) // MB
    deadline = start + requested_ms / 1000
    spins = 0
    while time.perf_counter() < deadline:
        spins += 1
    del block
    return {
        "fn": "trace-function",
        "requestedMs": requested_ms,
        "requestedMb": requested_mb,
        "ms": round((time.perf_counter() - start) * 1000, 3),
        "mb": touched_mb,
    }
