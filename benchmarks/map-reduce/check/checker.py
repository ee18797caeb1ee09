"""Checks map-reduce: a seeded corpus goes to the run's bucket in shards, the driver maps and reduces it
through the Lambda API, and the reducers' outputs must hold exactly the word counts made here."""
import json
import math

import corpus
import faas_check

# Upper bounds (each flag above zero; all but --input-mb whole numbers): the corpus is generated in
# memory, and each mapper is a concurrent function call.
FLAGS = {
    "input-mb": {"key": "inputMb", "default": 4, "max": 1024, "whole": False},
    "shards": {"key": "shards", "default": 16, "max": 1000, "whole": True},
    "mappers": {"key": "mappers", "default": 4, "max": 1000, "whole": True},
    "reducers": {"key": "reducers", "default": 2, "max": 512, "whole": True},
}


def number(flag, text):
    spec = FLAGS[flag]
    shown = text if text.split() == [text] else json.dumps(text)
    try:
        value = float(text) if text.strip() else math.nan
    except ValueError:
        value = math.nan
    if spec["whole"]:
        if not (value.is_integer() and 1 <= value <= spec["max"]):
            raise faas_check.Refuse(
                f"--{flag} is {shown}; it must be a whole number from 1 to {spec['max']}.",
                f"For example --{flag} {spec['default']}.",
                "BAD_FLAG",
            )
        return int(value)
    if not (math.isfinite(value) and 0 < value <= spec["max"]):
        raise faas_check.Refuse(
            f"--{flag} is {shown}; it must be a number above 0 and at most {spec['max']}.",
            f"For example --{flag} {spec['default']}.",
            "BAD_FLAG",
        )
    return value


def validate(payload, params, seed):
    """The run flags, with their defaults; how they fit together is checked as vSwarm's map-reduce expects."""
    p = {spec["key"]: spec["default"] for spec in FLAGS.values()}
    for flag, spec in FLAGS.items():
        if params.get(flag) is not None:
            p[spec["key"]] = number(flag, str(params[flag]))
    if p["reducers"] & (p["reducers"] - 1):
        raise faas_check.Refuse(
            f"--reducers must be a power of two (got {p['reducers']}).", "Use 1, 2, 4, 8…, as vSwarm's map-reduce expects."
        )
    if p["reducers"] > p["mappers"]:
        raise faas_check.Refuse(
            f"--reducers ({p['reducers']}) must not outnumber --mappers ({p['mappers']}).",
            f"Use at most {p['mappers']} reducers, or more mappers.",
        )
    if p["shards"] < p["mappers"]:
        raise faas_check.Refuse(
            f"--shards ({p['shards']}) must be at least --mappers ({p['mappers']}), or some mappers get no input.",
            f"Use --shards {p['mappers']} or more.",
        )
    return p


def microseconds(ms):
    return None if ms is None else math.floor(ms * 1000 + 0.5)


def call_record(call):
    """One call the driver made and timed, in the run record's vocabulary."""
    record = {
        "phase": "measure",
        "function": call["function"],
        "requestId": call.get("request_id"),
        "startUs": microseconds(call["start"] * 1000),
        "endUs": microseconds(call["end"] * 1000),
        "clientLatencyUs": microseconds((call["end"] - call["start"]) * 1000),
        "providerDurationUs": microseconds(call.get("duration_ms")),
        "billedDurationUs": microseconds(call.get("billed_duration_ms")),
        "initDurationUs": microseconds(call.get("init_duration_ms")),
        "cold": bool(call.get("cold")),
        "memoryMb": call.get("memory_size_mb"),
        "maxMemoryUsedMb": call.get("max_memory_used_mb"),
    }
    if call.get("emulated"):
        record["emulated"] = True
    return {k: v for k, v in record.items() if v is not None}


def verify(run, outputs, shards):
    actual, found = {}, []
    for key in outputs:
        for word, count in json.loads(run.get(key)).items():
            if word in actual:
                found.append(f'the word "{word}" appears in two reducers\' outputs')
            actual[word] = count
    expected = corpus.count_words(shards)
    return found + corpus.compare(expected, actual), expected


def check(run):
    p = run.params
    size_bytes = math.floor(p["inputMb"] * 1024 * 1024 + 0.5)
    prefix = f"inputs/seed{run.seed}-{size_bytes}b-{p['shards']}s/"
    with run.timed("upload"):
        shards = corpus.generate(size_bytes, p["shards"], run.seed)
        uploaded = run.put(
            (f"{prefix}shard-{i:04d}.txt", text.encode(), "text/plain") for i, text in enumerate(shards)
        )
    answer = run.invoke(
        {"bucket": run.bucket, "input_prefix": prefix, "job": f"jobs/{run.run_id}", "mappers": p["mappers"], "reducers": p["reducers"]}
    )
    with run.timed("verify"):
        found, expected = verify(run, answer["outputs"], shards)
    return {
        "differences": found,
        "wrong": "the word counts are wrong",
        "verified": "word counts equal to the count made here",
        "output": {"job": answer["job"], "outputs": answer["outputs"]},
        "config": {**p, "seed": run.seed, "bucket": run.bucket},
        "words": {"total": sum(expected.values()), "distinct": len(expected)},
        "bytes": {
            "input": sum(len(text) for text in shards),
            "uploaded": uploaded,
            "functionsRead": answer["bytes"]["read"],
            "functionsWritten": answer["bytes"]["written"],
        },
        "phasesMs": {f"function.{k}": v for k, v in answer["phases_ms"].items()},
        "invocations": [call_record(call) for call in answer["invocations"]],
    }


if __name__ == "__main__":
    faas_check.main(check, validate)
