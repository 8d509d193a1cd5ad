"""Rate-limit drill (DESIGN §7, hostile clients), against a server started with
RATE_LIMIT_PER_SECOND=20: customer A hammers GET /v1/customers/{A} from 8 threads for 10 s
while customer B, with its own key, reads GET /v1/customers/{B} at a steady 5 per second.
A must be limited (at least one 429 rate_limited, each with Retry-After); B, well under the
limit, must be served as usual (every answer 200).

usage: rate.py PORT OPERATOR_TOKEN
"""
import json
import sys
import threading
import time

from api import API, KeepAlive

port, operator_token = int(sys.argv[1]), sys.argv[2]
api = API(port, operator_token)
SECONDS = 10
HAMMERS = 8
B_PER_SECOND = 5

distributor = api.must("POST", "/v1/distributors", {"name": "Rate distributor"})["id"]
partner = api.must("POST", "/v1/partners", {"distributor_id": distributor, "name": "Rate partner"})["id"]
tenants = {}
for name in ("A", "B"):
    customer = api.must("POST", "/v1/customers", {"partner_id": partner, "name": f"Rate customer {name}"})["id"]
    tenants[name] = (customer, api.must("POST", "/v1/api-keys", {"principal_kind": "customer", "principal_id": customer})["token"])

a_counts = {}      # A's statuses
a_bad_429 = 0      # A's 429s without Retry-After or with another error code
b_counts = {}      # B's statuses
lock = threading.Lock()
start = time.monotonic() + 0.2
end = start + SECONDS


def error_code(raw):
    try:
        return json.loads(raw)["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


def hammer():
    global a_bad_429
    customer, token = tenants["A"]
    client = KeepAlive(port, timeout=15)
    while time.monotonic() < start:
        time.sleep(0.01)
    while time.monotonic() < end:
        status, headers, raw = client.request("GET", f"/v1/customers/{customer}", token=token)
        with lock:
            a_counts[status] = a_counts.get(status, 0) + 1
            if status == 429 and not (headers.get("Retry-After") and error_code(raw) == "rate_limited"):
                a_bad_429 += 1
    client.close()


def steady():
    customer, token = tenants["B"]
    client = KeepAlive(port, timeout=15)
    for i in range(SECONDS * B_PER_SECOND):
        pause = start + i / B_PER_SECOND - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        status, _, _ = client.request("GET", f"/v1/customers/{customer}", token=token)
        with lock:
            b_counts[status] = b_counts.get(status, 0) + 1
    client.close()


threads = [threading.Thread(target=hammer) for _ in range(HAMMERS)] + [threading.Thread(target=steady)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()

a_other = sum(count for status, count in a_counts.items() if status not in (200, 429))
b_total = sum(b_counts.values())
b_not_200 = b_total - b_counts.get(200, 0)
print(f"A_200={a_counts.get(200, 0)} A_429={a_counts.get(429, 0)} A_429_without_retry_after_or_code={a_bad_429} "
      f"A_other={a_other} B_total={b_total} B_not_200={b_not_200}"
      + (f" (B statuses {dict(sorted(b_counts.items()))})" if b_not_200 else ""))
sys.exit(0 if a_counts.get(429, 0) > 0 and a_bad_429 == 0 and a_other == 0 and b_not_200 == 0 else 1)
