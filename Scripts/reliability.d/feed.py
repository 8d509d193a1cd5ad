"""Events-feed drill (DESIGN §7): 8 writer threads commit buys, freezes and unfreezes over 40
customers for 20 s while a consumer, as the distributor, follows GET /v1/events by its
next_cursor. After the writers stop the consumer reads on until two pages in a row come
back empty. Then the database's outbox rows in the distributor's scope are compared with
what the consumer received: none may be missed, none received twice (and none from
outside the scope).

The server limits requests per API key (429 rate_limited with Retry-After): each writer
freezes with a partner key of its own, and the consumer waits as told when it is limited.

usage: feed.py PORT OPERATOR_TOKEN DATABASE_URL
"""
import json
import random
import sys
import threading
import time
import urllib.parse

from api import API, KeepAlive, psql_runner

port, operator_token, database_url = int(sys.argv[1]), sys.argv[2], sys.argv[3]
api = API(port, operator_token)
CUSTOMERS = 40
WRITERS = 8
SECONDS = 20
PAGE = 200


psql = psql_runner(database_url)


# The partner holds the freeze permission, so it (not the distributor) freezes and unfreezes
# (DESIGN §2, Authority).
distributor = api.must("POST", "/v1/distributors", {"name": "Feed distributor"})["id"]
distributor_token = api.must("POST", "/v1/api-keys", {"principal_kind": "distributor", "principal_id": distributor})["token"]
partner = api.must("POST", "/v1/partners", {"distributor_id": distributor, "name": "Feed partner"})["id"]
partner_tokens = [api.must("POST", "/v1/api-keys", {"principal_kind": "partner", "principal_id": partner})["token"]
                  for _ in range(WRITERS)]
api.must("PUT", f"/v1/partners/{partner}/freeze-permission", token=distributor_token)
customers = []
for i in range(CUSTOMERS):
    customer = api.must("POST", "/v1/customers", {"partner_id": partner, "name": f"Feed customer {i}"})["id"]
    api.must("POST", f"/v1/customers/{customer}/resources", {"type": "vm", "billing_mode": "pay_per_use", "count": 3})
    customers.append((customer, api.must("POST", "/v1/api-keys", {"principal_kind": "customer", "principal_id": customer})["token"]))

writes = 0      # writes that committed (2xx)
refused = 0     # 409s: restricted customers, double freezes, unfreezes of normal customers
limited = 0     # 429s (the per-key rate limit)
other = {}      # any other answer, by status
lock = threading.Lock()
end = time.monotonic() + SECONDS


def writer(partner_token):
    global writes, refused, limited
    while time.monotonic() < end:
        customer, token = random.choice(customers)
        action = random.choice(["buy", "buy", "freeze", "unfreeze"])
        if action == "buy":
            status, _ = api.call("POST", f"/v1/customers/{customer}/orders",
                                 {"action": "buy", "resource": {"type": "vm", "billing_mode": "pay_per_use"}}, token=token)
        elif action == "freeze":
            status, _ = api.call("POST", f"/v1/customers/{customer}/freeze",
                                 {"reason": "feed drill", "agreement_accepted": True}, token=partner_token)
        else:
            status, _ = api.call("POST", f"/v1/customers/{customer}/unfreeze", {"reason": "feed drill"}, token=partner_token)
        with lock:
            if 200 <= status < 300:
                writes += 1
            elif status == 409:
                refused += 1
            elif status == 429:
                limited += 1
            else:
                other[status] = other.get(status, 0) + 1
        if status == 429:
            time.sleep(0.1)


received = []
cursor = None
consumer = KeepAlive(port)
consumer_limited = 0  # the consumer's own 429s


def poll():
    """Reads one page after the cursor; answers how many events it had."""
    global cursor, consumer_limited
    while True:
        status, headers, raw = consumer.request(
            "GET", f"/v1/events?limit={PAGE}" + (f"&after={urllib.parse.quote(cursor)}" if cursor else ""),
            token=distributor_token)
        if status != 429:
            break
        consumer_limited += 1
        try:
            time.sleep(float(headers.get("Retry-After") or 1))
        except ValueError:  # an HTTP date: wait a second
            time.sleep(1)
    if status != 200:
        raise RuntimeError(f"GET /v1/events answered {status}: {raw[:200]!r}")
    page = json.loads(raw)
    received.extend(event["id"] for event in page["items"])
    cursor = page["next_cursor"] or cursor
    return len(page["items"])


threads = [threading.Thread(target=writer, args=(token,)) for token in partner_tokens]
for thread in threads:
    thread.start()
while any(thread.is_alive() for thread in threads):
    if poll() < PAGE:  # caught up: a short pause, not a busy loop
        time.sleep(0.05)
for thread in threads:
    thread.join()
empty = 0
while empty < 2:
    if poll():
        empty = 0
    else:
        empty += 1
        time.sleep(0.5)

# Compared here rather than in SQL: thousands of ids do not fit on a command line.
stored = set(int(x) for x in psql(f"SELECT id FROM outbox_events WHERE distributor_id = '{distributor}'").split())
seen = set(received)
missed, repeated, foreign = len(stored - seen), len(received) - len(seen), len(seen - stored)
print(f"writes_done={writes} refused_409={refused} rate_limited={limited + consumer_limited} other_answers={sum(other.values())}"
      + (f" ({dict(sorted(other.items()))})" if other else "")
      + f" events_stored={len(stored)} events_received={len(received)} missed={missed} repeated={repeated} foreign={foreign}")
sys.exit(0 if missed == 0 and repeated == 0 and foreign == 0 and writes > 0 else 1)
