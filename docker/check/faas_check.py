"""The checker side of `faas run`'s protocol: JSON lines on stdin/stdout (see docs/benchmarks.md).

faas builds a benchmark's check/Dockerfile for the host, copies this module into the build context as
.faas/check/faas_check.py, and runs the image with no network and no credentials. Everything the
checker needs from the outside (calling the entry function, the run's bucket) it asks faas for, so a
checker runs the same against the local target and AWS:

    faas -> {"op": "validate", "payload", "params", "seed"}          checker -> {"op": "valid"} | {"op": "refuse", ...}
    faas -> {"op": "start", "seed", "runId", "bucket", "payload", "params"}
    checker -> {"op": "invoke", "payload"} | {"op": "invoke_many", "payloads", "concurrency"}
             | {"op": "http_many", "requests", "concurrency"}
             | {"op": "put", "objects"} | {"op": "get", "key"} | {"op": "exists", "key"}
             | {"op": "table_put", "table", "items"} | {"op": "table_scan", "table"}
    faas -> one answer per request ({"op": "error", "message"} when it failed)
    checker -> {"op": "result", "correct", "differences", "verified", "output", "config", ...}
"""
import base64
import json
import sys
import time

# A put request's bodies stay well under what one JSON line may carry (base64 grows them by a third).
PUT_BATCH_BYTES = 8 * 1024 * 1024


class Refuse(Exception):
    """Raised by validate(): faas refuses the run before anything is built, with this message and fix."""

    def __init__(self, message, fix, code="BAD_RUN_PARAMS"):
        super().__init__(message)
        self.message = message
        self.fix = fix
        self.code = code  # BAD_RUN_PARAMS, or BAD_FLAG for a run flag's value out of its range


class FaasError(Exception):
    """faas could not do what the checker asked (the message says why)."""


def _send(message):
    sys.stdout.write(json.dumps(message, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def _receive():
    line = sys.stdin.readline()
    if not line:
        raise SystemExit(0)  # faas went away: nothing left to answer
    message = json.loads(line)
    if message.get("op") == "error":
        raise FaasError(message.get("message", "faas reported an error"))
    return message


def rng(seed):
    """A seeded generator of numbers in [0, 1) (mulberry32, as faas's own): the same seed, the same inputs."""
    state = seed & 0xFFFFFFFF

    def imul(a, b):
        return (a * b) & 0xFFFFFFFF

    def next_():
        nonlocal state
        state = (state + 0x6D2B79F5) & 0xFFFFFFFF
        t = imul(state ^ (state >> 15), state | 1)
        t ^= (t + imul(t ^ (t >> 7), t | 61)) & 0xFFFFFFFF
        return ((t ^ (t >> 14)) & 0xFFFFFFFF) / 4294967296

    return next_


def log(*parts):
    """A line for faas's progress/debug output (stderr is not the protocol)."""
    print(*parts, file=sys.stderr, flush=True)


class Run:
    """One run: its seed, payload, params (as validate returned them), and the operations faas performs."""

    def __init__(self, start, params):
        self.seed = start["seed"]
        self.run_id = start["runId"]
        self.bucket = start["bucket"]
        self.payload = start.get("payload")
        self.api = start.get("api")  # {"stage", "routes": ["POST /x", …]} where the benchmark's routes are deployed
        self.params = params
        self.phases_ms = {}

    def invoke(self, payload):
        """Calls the entry function; returns its answer (parsed JSON). A function error ends the run in faas."""
        _send({"op": "invoke", "payload": payload})
        text = _receive().get("payload") or "null"
        return json.loads(text)

    def invoke_many(self, payloads, concurrency, rps=None):
        """Calls the entry once per payload, at most `concurrency` calls in flight (open loop at `rps` calls a second
        when given); returns the outcomes in order (each with "payload", the answer text, and "statusCode",
        "report", "clientLatencyUs", "latenessMs" with rps, "throttled" when Lambda refused the call)."""
        _send({"op": "invoke_many", "payloads": payloads, "concurrency": concurrency, **({"rps": rps} if rps else {})})
        return _receive()["outcomes"]

    def http_many(self, requests, concurrency, rps=None):
        """Sends HTTP requests ({"method", "path", "headers"?, "body"?}) to the benchmark's API, its "api" routes as
        deployed (paths under the stage's URL), paced as invoke_many; returns the responses in order (each with
        "statusCode", "body", "clientLatencyUs", "latenessMs" with rps). run.api says whether there is one."""
        _send({"op": "http_many", "requests": requests, "concurrency": concurrency, **({"rps": rps} if rps else {})})
        return _receive()["responses"]

    def table_put(self, table, items):
        """Writes plain JSON items to one of the benchmark's declared tables; returns how many were written."""
        _send({"op": "table_put", "table": table, "items": items})
        return _receive()["written"]

    def table_scan(self, table):
        """Every item of one of the benchmark's declared tables, as plain JSON (numbers as numbers)."""
        _send({"op": "table_scan", "table": table})
        return _receive()["items"]

    def put(self, objects):
        """Stores [(key, bytes, content_type)] in the run's bucket (what is there already is skipped): bytes sent."""
        uploaded, batch, size = 0, [], 0

        def flush():
            _send({"op": "put", "objects": batch})
            return _receive()["uploaded"]

        for key, body, content_type in objects:
            batch.append({"key": key, "body_b64": base64.b64encode(body).decode(), "content_type": content_type})
            size += len(body)
            if size >= PUT_BATCH_BYTES:
                uploaded, batch, size = uploaded + flush(), [], 0
        return uploaded + (flush() if batch else 0)

    def get(self, key):
        """The bytes of an object of the run's bucket."""
        _send({"op": "get", "key": key})
        return base64.b64decode(_receive()["body_b64"])

    def exists(self, key):
        _send({"op": "exists", "key": key})
        return bool(_receive()["exists"])

    def timed(self, phase):
        """A context manager adding the time spent inside it to the record's phasesMs[phase]."""
        run = self

        class Timer:
            def __enter__(self):
                self.started = time.monotonic()

            def __exit__(self, *_):
                elapsed = (time.monotonic() - self.started) * 1000
                run.phases_ms[phase] = round(run.phases_ms.get(phase, 0) + elapsed)

        return Timer()


def main(check, validate=None):
    """Answers faas: validate(payload, params, seed) -> params (raise Refuse), then check(run) -> result dict."""
    first = _receive()
    params = first.get("params") or {}
    if first.get("op") == "validate":
        try:
            params = validate(first.get("payload"), params, first.get("seed")) if validate else params
        except Refuse as refusal:
            _send({"op": "refuse", "message": refusal.message, "fix": refusal.fix, "code": refusal.code})
            return
        _send({"op": "valid", "params": params})
        first = _receive()
    run = Run(first, params)
    result = check(run)
    result.setdefault("differences", [])
    result.setdefault("correct", not result["differences"])
    result["phasesMs"] = {**run.phases_ms, **result.get("phasesMs", {})}
    _send({"op": "result", **result})
