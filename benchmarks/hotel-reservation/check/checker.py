"""Checks hotel-reservation: seeds a tenant's hotels and users into `stateflow` (and two locks: one a crashed holder
left behind, expired; one held), drives DeathStarBench's request mix plus a burst of competing reservations through
the API Gateway route's events, many in flight, and checks every answer against this file's own reference and the
state the run left in DynamoDB:

- search and recommend answers equal the reference's (computed here, not by the handler);
- login accepts exactly the right passwords;
- no hotel night is booked past its capacity, the nights booked equal the accepted reservations' rooms, every
  accepted reservation is stored exactly once and no rejected one is stored;
- a held lock keeps its hotel's reservations out (and stays its holder's), an expired one does not.
"""
import hashlib
import json
import math
import time

import faas_check

STATE, LOCKS = "stateflow", "DynamoDBLockTable"
MIX = [("search", 0.60), ("recommend", 0.39), ("login", 0.005), ("reserve", 0.005)]  # DeathStarBench's
# The payload's knobs: (lowest, highest, default). rps 0 drives closed loop (`concurrency` in flight); above 0, open
# loop at that rate, still at most `concurrency` in flight.
LIMITS = {
    "requests": (1, 20000, 300),
    "concurrency": (1, 256, 8),
    "rps": (0, 5000, 0),
    "hotels": (8, 500, 40),
    "users": (1, 5000, 100),
}
DAY = 86400


def validate(payload, params, seed):
    payload = payload if isinstance(payload, dict) else {}
    p = {}
    for name, (low, high, default) in LIMITS.items():
        value = payload.get(name, default)
        if not (isinstance(value, int) and not isinstance(value, bool) and low <= value <= high):
            raise faas_check.Refuse(
                f"The payload's {name} is {json.dumps(value)}; it must be a whole number from {low} to {high}.",
                f'For example --payload \'{{"{name}": {default}}}\'.',
            )
        p[name] = value
    return p


def distance_km(lat1, lon1, lat2, lon2):
    # Spherical law of cosines: another formula than the handler's, the same distances to far below a metre.
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
    c = math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(dl)
    return 6371.0 * math.acos(max(-1.0, min(1.0, c)))


def hotels_for(rng, count):
    """A city's hotels around San Francisco (DeathStarBench's data set is there); the first three are small."""
    hotels = []
    for i in range(count):
        hotels.append(
            {
                "id": f"h{i:03d}",
                "name": f"Hotel {i}",
                "lat": round(37.70 + rng() * 0.12, 5),
                "lon": round(-122.52 + rng() * 0.17, 5),
                "rate": 1 + int(rng() * 9) / 2,  # 1.0 … 5.0 in halves: ties happen, as stars do
                "price": 80 + int(rng() * 220),
                "capacity": 3 + i if i < 3 else 20 + int(rng() * 30),
            }
        )
    return hotels


def date(day):
    return f"2027-04-{day:02d}"


def reference(request, hotels, users):
    """What the answer must be, from the seeded data alone."""
    op = request["op"]
    if op == "search":
        nights = int(request["outDate"][-2:]) - int(request["inDate"][-2:])
        near = sorted(hotels, key=lambda h: (distance_km(request["lat"], request["lon"], h["lat"], h["lon"]), h["id"]))
        return 200, {"hotels": [{"id": h["id"], "name": h["name"], "total": h["price"] * nights} for h in near[:5]]}
    if op == "recommend":
        key = {
            "dis": lambda h: round(distance_km(request["lat"], request["lon"], h["lat"], h["lon"]), 6),
            "rate": lambda h: -h["rate"],
            "price": lambda h: h["price"],
        }[request["require"]]
        best = min(key(h) for h in hotels)
        return 200, {"hotels": sorted(h["id"] for h in hotels if key(h) == best)}
    if op == "login":
        ok = users.get(request["username"]) == request["password"]
        return (200 if ok else 401), {"ok": ok}
    return None, None  # reservations are checked against the state the run left


def requests_for(rng, p, run_id, hotels, users):
    """The mixed stream, then a burst of reservations competing for the three small hotels, shuffled together."""
    names = list(users)

    def pick(items):
        return items[int(rng() * len(items))]

    def reservation(n, hotel):
        start = 1 + int(rng() * 4)
        return {
            "op": "reserve",
            "reservationId": f"{run_id}-r{n}",
            "hotelId": hotel["id"],
            "customerName": pick(names),
            "inDate": date(start),
            "outDate": date(start + 1 + int(rng() * 3)),
            "number": 1 + int(rng() * 2),
        }

    stream = []
    for n in range(p["requests"]):
        r, op = rng(), None
        for op, share in MIX:
            r -= share
            if r < 0:
                break
        lat, lon = round(37.70 + rng() * 0.12, 5), round(-122.52 + rng() * 0.17, 5)
        if op == "search":
            start = 1 + int(rng() * 20)
            stream.append({"op": op, "lat": lat, "lon": lon, "inDate": date(start), "outDate": date(start + 1 + int(rng() * 5))})
        elif op == "recommend":
            stream.append({"op": op, "require": pick(["dis", "rate", "price"]), "lat": lat, "lon": lon})
        elif op == "login":
            user = pick(names)
            stream.append({"op": op, "username": user, "password": users[user] if rng() < 0.5 else "wrong"})
        else:
            stream.append(reservation(n, pick(hotels)))
    burst = [reservation(p["requests"] + n, hotels[n % 4]) for n in range(max(24, p["requests"] // 10))]
    burst += [dict(r) for r in burst[:: max(1, len(burst) // 4)]]  # retried requests: the same reservation id again
    stream += burst
    for i in range(len(stream) - 1, 0, -1):  # Fisher-Yates with the run's generator
        j = int(rng() * (i + 1))
        stream[i], stream[j] = stream[j], stream[i]
    return stream


def http_request(request, tenant):
    return {"method": "POST", "path": "/stateflow", "headers": {"content-type": "application/json"},
            "body": json.dumps({**request, "tenant": tenant})}


def as_response(response):
    """An HTTP response in the shape of an invoke outcome of the route's event (what verdict() reads)."""
    if response["statusCode"] == 429:  # API Gateway's throttle: the function did not run
        return {**response, "throttled": True}
    payload = {"statusCode": response["statusCode"], "body": response["body"]}
    return {**response, "payload": json.dumps(payload)}


def event(request, tenant, n):
    """The API Gateway REST event (payload format 1.0) of POST /dev/stateflow."""
    body = json.dumps({**request, "tenant": tenant})
    return {
        "resource": "/stateflow",
        "path": "/stateflow",
        "httpMethod": "POST",
        "headers": {"content-type": "application/json"},
        "multiValueHeaders": {"content-type": ["application/json"]},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/stateflow",
            "httpMethod": "POST",
            "path": "/dev/stateflow",
            "stage": "dev",
            "requestId": f"{tenant}-{n}",
            "identity": {"sourceIp": "127.0.0.1", "userAgent": "faas-check"},
        },
        "body": body,
        "isBase64Encoded": False,
    }


def check(run):
    p, tenant = run.params, run.run_id
    rng = faas_check.rng(run.seed)
    hotels = hotels_for(rng, p["hotels"])
    users = {f"Cornell_{i}": str(i) * 10 for i in range(p["users"])}  # DeathStarBench's users and passwords
    expires = 2_000_000_000  # (2033) the tenant's catalog and the held lock outlive any run
    with run.timed("seed"):
        # The run's tenant, and "bench", the one mix.yaml drives with faas bench (same data; never checked).
        for owner in (tenant, "bench"):
            run.table_put(STATE, [{"key": f"{owner}#catalog", "hotels": json.dumps(hotels), "expires_at": expires}])
            run.table_put(
                STATE,
                [
                    {"key": f"{owner}#user#{name}", "password_sha256": hashlib.sha256(pw.encode()).hexdigest()}
                    for name, pw in users.items()
                ],
            )
        # hotels[3]'s lock was left by a holder that crashed long ago; hotels[2]'s is held for the whole run.
        held = {"lock_key": f"{tenant}#hotel#{hotels[2]['id']}", "sort_key": "lock", "owner": "someone-else",
                "expires_at": expires}
        run.table_put(LOCKS, [held, {"lock_key": f"{tenant}#hotel#{hotels[3]['id']}", "sort_key": "lock",
                                     "owner": "crashed", "expires_at": 1_000_000_000}])
    stream = requests_for(rng, p, tenant, hotels, users)
    with run.timed("requests"):
        started = time.monotonic()
        if run.api:  # over the deployed route, as clients reach it
            requests = [http_request(r, tenant) for r in stream]
            outcomes = [as_response(o) for o in run.http_many(requests, p["concurrency"], p["rps"] or None)]
        else:  # a target without the route: the route's events through the Invoke API
            events = [event(r, tenant, n) for n, r in enumerate(stream)]
            outcomes = run.invoke_many(events, p["concurrency"], p["rps"] or None)
        elapsed = time.monotonic() - started
    with run.timed("verify"):
        state = [i for i in run.table_scan(STATE) if str(i["key"]).startswith(f"{tenant}#")]
        locks = [i for i in run.table_scan(LOCKS) if str(i["lock_key"]).startswith(f"{tenant}#")]
    result = verdict(stream, outcomes, hotels, users, state, locks, held, p)
    result["output"]["achievedRps"] = round(len(stream) / elapsed, 1)
    result["output"]["via"] = "POST /stateflow" if run.api else "Invoke API (route events)"
    return result


def verdict(stream, outcomes, hotels, users, state, locks, held, p):
    differences, latencies, reasons, lock_attempts, throttles = [], {}, {}, [], 0
    accepted, rejected = {}, set()
    for request, outcome in zip(stream, outcomes):
        if outcome.get("throttled"):  # Lambda refused the call: it did not run, and a reservation must leave no trace
            throttles += 1
            if request["op"] == "reserve":
                rejected.add(request["reservationId"])
            continue
        response = json.loads(outcome.get("payload") or "null") or {}
        status, body = response.get("statusCode"), json.loads(response.get("body") or "null")
        latencies.setdefault(request["op"], []).append((outcome.get("clientLatencyUs") or 0) / 1000)
        want_status, want = reference(request, hotels, users)
        if want_status is not None:
            if (status, body) != (want_status, want) and len(differences) < 10:
                differences.append(f"{request['op']} {json.dumps(request)} answered {status} {json.dumps(body)}, "
                                   f"expected {want_status} {json.dumps(want)}")
            continue
        if not isinstance(body, dict) or body.get("reserved") is None:
            differences.append(f"reserve {request['reservationId']} answered {status} {json.dumps(body)}")
            continue
        lock_attempts.append(abs(body.get("lockAttempts", 0)))
        if body["reserved"]:
            accepted[request["reservationId"]] = request
        else:
            rejected.add(request["reservationId"])
            reasons[body.get("reason")] = reasons.get(body.get("reason"), 0) + 1
    rejected -= set(accepted)  # a retry answered "busy" after its first try was accepted is still accepted
    differences += state_differences(state, accepted, rejected, hotels)
    differences += lock_differences(locks, held, accepted, hotels)
    if not accepted:
        differences.append("no reservation was accepted: the run proves nothing about capacity")
    by_op = {op: len(v) for op, v in latencies.items()}
    return {
        "differences": differences,
        "wrong": "the hotel service's answers or state are wrong",
        "verified": (
            f"{sum(by_op.values())} requests ({', '.join(f'{op} {n}' for op, n in sorted(by_op.items()))}) "
            f"answered as the reference; {len(accepted)} reservations stored once each, "
            f"{len(rejected)} rejected without a trace, no night past capacity"
        ),
        "output": {
            "requests": by_op,
            "reservations": {"accepted": len(accepted), "rejected": reasons},
            "lockAttemptsMax": max(lock_attempts, default=0),
            "lockRetries": sum(a - 1 for a in lock_attempts if a > 1),
            "throttles": throttles,
            "latencyMs": {op: {"p50": percentile(v, 50), "p99": percentile(v, 99)} for op, v in latencies.items()},
            "latenessP99Ms": percentile([o.get("latenessMs", 0) for o in outcomes], 99),
        },
        "config": {**p, "mix": dict(MIX)},
    }


def percentile(values, q):
    """The nearest-rank percentile, rounded to 0.1 ms."""
    ordered = sorted(values)
    return round(ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)], 1) if ordered else None


def state_differences(state, accepted, rejected, hotels):
    differences = []
    stored = {}
    booked = {}
    for item in state:
        key = str(item["key"])
        if "#reservation#" in key:
            rid = key.split("#reservation#", 1)[1]
            stored[rid] = stored.get(rid, 0) + 1
        elif "#booked#" in key:
            hotel, night = key.split("#booked#", 1)[1].split("#")
            booked[(hotel, night)] = int(item["booked"])
    for rid in accepted:
        if stored.get(rid) != 1:
            differences.append(f"accepted reservation {rid} is stored {stored.get(rid, 0)} times")
    for rid in rejected:
        if rid in stored:
            differences.append(f"rejected reservation {rid} is stored")
    rooms = {}
    for r in accepted.values():
        for day in range(int(r["inDate"][-2:]), int(r["outDate"][-2:])):
            rooms[(r["hotelId"], date(day))] = rooms.get((r["hotelId"], date(day)), 0) + r["number"]
    capacity = {h["id"]: h["capacity"] for h in hotels}
    for night in sorted(set(rooms) | set(booked)):
        if booked.get(night, 0) != rooms.get(night, 0):
            differences.append(f"{night[0]} on {night[1]}: {booked.get(night, 0)} rooms booked, "
                               f"but accepted reservations hold {rooms.get(night, 0)}")
        if booked.get(night, 0) > capacity[night[0]]:
            differences.append(f"{night[0]} on {night[1]} is booked past its capacity: "
                               f"{booked[night]} of {capacity[night[0]]} rooms")
    return differences


def lock_differences(locks, held, accepted, hotels):
    differences = []
    if [(lock["lock_key"], lock.get("owner")) for lock in locks] != [(held["lock_key"], held["owner"])]:
        differences.append(f"the locks left are {[(lock['lock_key'], lock.get('owner')) for lock in locks]}, "
                           f"expected only the held {held['lock_key']}")
    if any(r["hotelId"] == hotels[2]["id"] for r in accepted.values()):
        differences.append(f"{hotels[2]['id']} took reservations while another holder had its lock")
    if not any(r["hotelId"] == hotels[3]["id"] for r in accepted.values()):
        differences.append(f"{hotels[3]['id']} took no reservation: its expired lock was never taken over")
    return differences


if __name__ == "__main__":
    faas_check.main(check, validate)
