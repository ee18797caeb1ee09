"""DeathStarBench's hotel reservation as one Lambda behind API Gateway (POST /stateflow, payload format 1.0).

State is in DynamoDB as in the seed's workload: the `stateflow` table (key `key`) holds each tenant's catalog of
hotels, its users, the nights booked per hotel and the reservations; `DynamoDBLockTable` (keys `lock_key`,
`sort_key`) holds per-hotel locks with a lease, so a crashed holder's lock expires. A request's JSON body names the
operation:

    {"op": "search", "tenant", "lat", "lon", "inDate", "outDate"}   the 5 nearest hotels and their price for the stay
    {"op": "recommend", "tenant", "require": "dis"|"rate"|"price", "lat", "lon"}
    {"op": "login", "tenant", "username", "password"}
    {"op": "reserve", "tenant", "reservationId", "hotelId", "customerName", "inDate", "outDate", "number"}

A reservation is taken under the hotel's lock, then written in one transaction whose conditions repeat the capacity
check, so no night is booked past capacity even if a lease ran out; its id makes a retried request idempotent.
"""
import datetime
import hashlib
import json
import math
import os
import random
import time
import uuid

import boto3
from botocore.exceptions import ClientError

STATE = os.environ.get("STATE_TABLE", "stateflow")
LOCKS = os.environ.get("LOCK_TABLE", "DynamoDBLockTable")
LEASE_S = float(os.environ.get("LOCK_LEASE_S", "10"))
LOCK_WAIT_S = float(os.environ.get("LOCK_WAIT_S", "5"))
NEAREST = 5

dynamodb = boto3.client("dynamodb")
_catalogs = {}  # tenant -> hotels: the catalog is read once per environment, as DeathStarBench's services cache it


def lambda_handler(event, context):
    try:
        body = json.loads(event.get("body") or "{}")
        if event.get("isBase64Encoded"):
            raise ValueError("binary bodies are not accepted")
        op = OPS.get(body.get("op"))
        if op is None:
            return answer(400, {"error": f"unknown op {body.get('op')!r}; use search, recommend, login or reserve"})
        if not isinstance(body.get("tenant"), str) or not body["tenant"]:
            return answer(400, {"error": "tenant is required"})
        return op(body)
    except (ValueError, KeyError, TypeError) as error:
        return answer(400, {"error": f"bad request: {error}"})


def answer(status, body):
    return {"statusCode": status, "headers": {"content-type": "application/json"}, "body": json.dumps(body)}


def catalog(tenant):
    if tenant not in _catalogs:
        item = dynamodb.get_item(TableName=STATE, Key={"key": {"S": f"{tenant}#catalog"}}, ConsistentRead=True)
        if "Item" not in item:
            raise KeyError(f"no catalog for tenant {tenant}")
        _catalogs[tenant] = json.loads(item["Item"]["hotels"]["S"])
    return _catalogs[tenant]


def distance_km(lat1, lon1, lat2, lon2):
    """Great-circle distance (haversine, mean Earth radius)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(a))


def nights(in_date, out_date):
    start, end = datetime.date.fromisoformat(in_date), datetime.date.fromisoformat(out_date)
    if end <= start:
        raise ValueError("outDate must be after inDate")
    return [(start + datetime.timedelta(days=n)).isoformat() for n in range((end - start).days)]


def search(body):
    hotels = catalog(body["tenant"])
    stay = nights(body["inDate"], body["outDate"])
    lat, lon = float(body["lat"]), float(body["lon"])
    near = sorted(hotels, key=lambda h: (distance_km(lat, lon, h["lat"], h["lon"]), h["id"]))[:NEAREST]
    return answer(200, {"hotels": [{"id": h["id"], "name": h["name"], "total": h["price"] * len(stay)} for h in near]})


def recommend(body):
    hotels = catalog(body["tenant"])
    require = body["require"]
    if require == "dis":
        lat, lon = float(body["lat"]), float(body["lon"])
        score = {h["id"]: distance_km(lat, lon, h["lat"], h["lon"]) for h in hotels}
        best = min(score.values())
    elif require == "rate":
        score = {h["id"]: -h["rate"] for h in hotels}
        best = min(score.values())
    elif require == "price":
        score = {h["id"]: h["price"] for h in hotels}
        best = min(score.values())
    else:
        raise ValueError("require must be dis, rate or price")
    return answer(200, {"hotels": sorted(i for i, s in score.items() if s == best)})


def login(body):
    item = dynamodb.get_item(
        TableName=STATE, Key={"key": {"S": f"{body['tenant']}#user#{body['username']}"}}, ConsistentRead=True
    )
    given = hashlib.sha256(str(body["password"]).encode()).hexdigest()
    ok = "Item" in item and item["Item"]["password_sha256"]["S"] == given
    return answer(200 if ok else 401, {"ok": ok})


def acquire(lock_key, owner):
    """Takes the lock if free or its lease ran out; retries with jittered backoff for LOCK_WAIT_S. Returns attempts
    (negative when it gave up)."""
    deadline = time.monotonic() + LOCK_WAIT_S
    attempts = 0
    while True:
        attempts += 1
        now = time.time()
        try:
            dynamodb.put_item(
                TableName=LOCKS,
                Item={
                    "lock_key": {"S": lock_key},
                    "sort_key": {"S": "lock"},
                    "owner": {"S": owner},
                    "expires_at": {"N": str(int(now + LEASE_S))},
                },
                ConditionExpression="attribute_not_exists(lock_key) OR expires_at < :now",
                ExpressionAttributeValues={":now": {"N": str(int(now))}},
            )
            return attempts
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
        if time.monotonic() >= deadline:
            return -attempts
        time.sleep(min(0.5, 0.02 * 2 ** min(attempts, 5)) * (0.5 + random.random()))


def release(lock_key, owner):
    try:
        dynamodb.delete_item(
            TableName=LOCKS,
            Key={"lock_key": {"S": lock_key}, "sort_key": {"S": "lock"}},
            ConditionExpression="#o = :me",
            ExpressionAttributeNames={"#o": "owner"},
            ExpressionAttributeValues={":me": {"S": owner}},
        )
    except ClientError as error:
        # Our lease ran out and another holder took the lock: it is theirs now.
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise


def reserve(body):
    tenant, hotel_id, rid = body["tenant"], str(body["hotelId"]), str(body["reservationId"])
    number = int(body["number"])
    if number < 1:
        raise ValueError("number must be at least 1")
    hotel = next((h for h in catalog(tenant) if h["id"] == hotel_id), None)
    if hotel is None:
        return answer(404, {"reserved": False, "reason": "no such hotel"})
    stay = nights(body["inDate"], body["outDate"])
    lock_key, owner = f"{tenant}#hotel#{hotel_id}", uuid.uuid4().hex
    attempts = acquire(lock_key, owner)
    if attempts < 0:
        return answer(503, {"reserved": False, "reason": "busy", "lockAttempts": -attempts})
    try:
        return reserve_locked(tenant, hotel, rid, body, stay, number, attempts)
    finally:
        release(lock_key, owner)


def reserve_locked(tenant, hotel, rid, body, stay, number, attempts):
    reservation_key = f"{tenant}#reservation#{rid}"
    existing = dynamodb.get_item(TableName=STATE, Key={"key": {"S": reservation_key}}, ConsistentRead=True)
    if "Item" in existing:  # a retry of a request that was accepted: the same answer, nothing written twice
        return answer(200, {"reserved": True, "reservationId": rid, "repeat": True, "lockAttempts": attempts})
    night_keys = [f"{tenant}#booked#{hotel['id']}#{night}" for night in stay]
    got = dynamodb.batch_get_item(
        RequestItems={STATE: {"Keys": [{"key": {"S": k}} for k in night_keys], "ConsistentRead": True}}
    )
    booked = {i["key"]["S"]: int(i["booked"]["N"]) for i in got["Responses"].get(STATE, [])}
    if any(booked.get(k, 0) + number > hotel["capacity"] for k in night_keys):
        return answer(409, {"reserved": False, "reason": "full", "lockAttempts": attempts})
    item = {
        "key": {"S": reservation_key},
        "kind": {"S": "reservation"},
        "hotelId": {"S": hotel["id"]},
        "customerName": {"S": str(body["customerName"])},
        "inDate": {"S": body["inDate"]},
        "outDate": {"S": body["outDate"]},
        "number": {"N": str(number)},
    }
    updates = [
        {
            "Update": {
                "TableName": STATE,
                "Key": {"key": {"S": k}},
                "UpdateExpression": "SET booked = if_not_exists(booked, :zero) + :n",
                "ConditionExpression": "attribute_not_exists(booked) OR booked <= :max",
                "ExpressionAttributeValues": {
                    ":zero": {"N": "0"},
                    ":n": {"N": str(number)},
                    ":max": {"N": str(hotel["capacity"] - number)},
                },
            }
        }
        for k in night_keys
    ]
    try:
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": STATE, "Item": item, "ConditionExpression": "attribute_not_exists(#k)",
                         "ExpressionAttributeNames": {"#k": "key"}}},
                *updates,
            ]
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "TransactionCanceledException":
            raise
        return answer(409, {"reserved": False, "reason": "conflict", "lockAttempts": attempts})
    return answer(200, {"reserved": True, "reservationId": rid, "lockAttempts": attempts})


OPS = {"search": search, "recommend": recommend, "login": login, "reserve": reserve}
