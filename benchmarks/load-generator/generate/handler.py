"""faas bench --workers: one worker of a distributed open-loop load.

{"op": "clock", "bucket": B}: answers this environment's clock (epoch µs) and whether it can write to B,
so bench can measure the offset (NTP-style) and refuse a worker that cannot store its records before any load.

{"op": "run", "worker": i, "startUs": T, "arrivals": [[seq, atUs, function, phase, payload?, tag?], ...],
 "payload": P, "protocol": "lambda"|"http", "bucket": B, "key": K, "maxInFlight": M}: waits until T (this
clock's epoch µs, already corrected by bench), sends each arrival at T + atUs whether or not earlier calls
returned (at most M at once; later ones are dropped and counted), and writes one JSON record per call
(faas's InvocationRecord fields, times in this clock) to s3://B/K. Answers counts only: records go to S3.
"""
import base64
import json
import re
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.config import Config

REPORT_FIELDS = {
    "providerDurationUs": r"\tDuration: ([\d.]+) ms",
    "billedDurationUs": r"Billed Duration: ([\d.]+) ms",
    "initDurationUs": r"Init Duration: ([\d.]+) ms",
}
MEMORY_FIELDS = {"memoryMb": r"Memory Size: ([\d.]+) MB", "maxMemoryUsedMb": r"Max Memory Used: ([\d.]+) MB"}


def now_us():
    return time.time_ns() // 1000


def report_fields(log):
    """The REPORT line's figures as InvocationRecord fields (µs, MB)."""
    for line in reversed(log.splitlines()):
        if line.startswith("REPORT "):
            line = "\t" + line
            out = {}
            for name, pattern in REPORT_FIELDS.items():
                m = re.search(pattern, line)
                if m:
                    out[name] = round(float(m.group(1)) * 1000)
            for name, pattern in MEMORY_FIELDS.items():
                m = re.search(pattern, line)
                if m:
                    out[name] = int(float(m.group(1)))
            if "\tEmulated: " in line:
                out["emulated"] = True
            return out
    return {}


def trace_answer(body):
    """What the trace function reports doing ({"fn": "trace-function", "ms", "mb"}) as record fields, as bench
    records it from this machine (bench --trace with workers); nothing for any other answer."""
    if b'"trace-function"' not in body:
        return {}
    try:
        answer = json.loads(body)
    except ValueError:
        return {}
    fields = {"ms": "actualMs", "mb": "actualMemoryMb"}
    return {name: answer[key] for key, name in fields.items() if isinstance(answer.get(key), (int, float))}


def s3():
    return boto3.client("s3", config=Config(connect_timeout=3, read_timeout=30, retries={"max_attempts": 1}))


def clock(event):
    t = now_us()
    bucket = event.get("bucket")
    answer = {"t": t}
    if bucket:
        try:
            s3().put_object(Bucket=bucket, Key=event.get("key", "faas-bench-workers/probe"), Body=b"ok")
            answer["bucket"] = "ok"
        except Exception as error:  # reported, so bench names the cause before any load
            answer["bucket"] = f"{type(error).__name__}: {error}"
    return answer


def caller(protocol, max_in_flight):
    if protocol == "http":
        def call(function, payload):
            request = urllib.request.Request(f"http://{function}/", data=payload.encode(), method="POST",
                                             headers={"content-type": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    body = response.read()
                    return {"statusCode": response.status, "responseBytes": len(body), **trace_answer(body)}
            except urllib.error.HTTPError as error:
                return {"statusCode": error.code, "error": f"HTTP {error.code}", "responseBytes": len(error.read())}
        return call
    lam = boto3.client("lambda", config=Config(read_timeout=900, connect_timeout=10, retries={"max_attempts": 0},
                                               max_pool_connections=max_in_flight))

    def call(function, payload):
        response = lam.invoke(FunctionName=function, Payload=payload.encode(), LogType="Tail")
        body = response["Payload"].read()
        log = base64.b64decode(response.get("LogResult", "")).decode("utf-8", "replace")
        out = {"statusCode": response["StatusCode"], "requestId": response["ResponseMetadata"].get("RequestId"),
               "responseBytes": len(body), **report_fields(log), **trace_answer(body)}
        if response.get("FunctionError"):
            out["error"] = response["FunctionError"]
        return out
    return call


def run(event):
    worker = int(event["worker"])
    start_us = int(event["startUs"])
    protocol = event.get("protocol", "lambda")
    max_in_flight = int(event.get("maxInFlight", 64))
    default_payload = event.get("payload", "{}")
    call = caller(protocol, max_in_flight)
    records, lock = [], threading.Lock()
    in_flight = threading.BoundedSemaphore(max_in_flight)
    dropped = {"all": 0, "measure": 0}

    def send(arrival, sent_us):
        seq, at_us, function, phase = arrival[0], arrival[1], arrival[2], arrival[3]
        payload = arrival[4] if len(arrival) > 4 and arrival[4] is not None else default_payload
        record = {"seq": seq, "phase": phase, "function": function, "protocol": protocol, "worker": worker,
                  "scheduledUs": round(at_us), "latenessUs": max(0, sent_us - start_us - round(at_us)),
                  "requestBytes": len(payload.encode()), "startUs": sent_us}
        if len(arrival) > 5 and arrival[5]:
            record.update(arrival[5])
        try:
            record.update(call(function, payload))
        except Exception as error:
            record["error"] = f"{type(error).__name__}: {error}"
        record["endUs"] = now_us()
        record["clientLatencyUs"] = record["endUs"] - sent_us
        record["cold"] = "initDurationUs" in record
        with lock:
            records.append(record)
        in_flight.release()

    with ThreadPoolExecutor(max_workers=max_in_flight) as pool:
        for arrival in event["arrivals"]:
            due = start_us + arrival[1]
            wait = (due - now_us()) / 1e6
            if wait > 0.002:
                time.sleep(wait - 0.001)
            while now_us() < due:  # the last millisecond polled: sleep overshoots by up to ~1 ms
                pass
            if not in_flight.acquire(blocking=False):
                dropped["all"] += 1
                if arrival[3] == "measure":
                    dropped["measure"] += 1
                continue
            pool.submit(send, arrival, now_us())
    records.sort(key=lambda r: r["seq"])
    body = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records)
    s3().put_object(Bucket=event["bucket"], Key=event["key"], Body=body.encode())
    return {"worker": worker, "key": event["key"], "records": len(records), "dropped": dropped["all"],
            "droppedMeasured": dropped["measure"], "endUs": now_us()}


# The sender thread waits for the GIL behind the calls' threads: at the default 5 ms switch interval that wait
# is the send's lateness, so threads are made to hand it over ten times as often.
sys.setswitchinterval(0.0005)


def lambda_handler(event, context):
    op = (event or {}).get("op", "clock")
    if op == "clock":
        return clock(event)
    if op == "run":
        return run(event)
    raise ValueError(f"unknown op {op!r} (clock or run)")
