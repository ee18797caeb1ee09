"""Answers at once; what differs between the variants is only what init imports.

The "fat" image carries numpy (about 50 MB installed, with its OpenBLAS), imported here at init the
way a package full of unused dependencies is; the "slim" image does not have it, so the import fails
at once and init is the interpreter and the runtime alone.
"""
import time

_started = time.perf_counter()
try:
    import numpy  # noqa: F401  unused on purpose: the cost of carrying it is what is measured
    FAT = True
except ImportError:
    FAT = False
IMPORT_MS = (time.perf_counter() - _started) * 1000


def lambda_handler(event, context):
    return {"fat": FAT, "import_ms": round(IMPORT_MS, 2)}
