"""Webhooks drill (DESIGN §11): three subscriptions (the distributor's, the partner's, and the
partner's for customer.restricted only) point at a receiver on loopback that answers 500 to
the first two requests of each subscription and to one request in 30 afterwards, takes
0.3 s over one in 50, and is down (connection refused) from 8 s to 13 s into the run. For 20 s, 2 writer threads freeze and
unfreeze 20 customers (a pause of 20 ms after each write: a subscription's events go one at
a time, in order, and the events behind a failed one wait for its retry); the server delivers (2 workers) and so does a separate
`partner-center deliver-webhooks` process (2 workers), which the drill SIGKILLs every 6 s
and starts again. Leases last 16 s, so a killed worker's subscription is taken over then.

After the writers stop, the drill waits until every subscription has been answered 2xx for
every event of its scope in the database, then checks:
  - none missing, none from outside the scope;
  - per subscription, the first 2xx of each event came in the feed's order (txid, id);
  - no two requests to one subscription overlapped (two workers on it at once);
  - every signature verifies with the subscription's secret, with a fresh timestamp.
Resends after a kill are allowed (at least once) and counted.

usage: webhooks.py PORT OPERATOR_TOKEN ADMIN_DATABASE_URL APP_DATABASE_URL PARTNER_CENTER_BIN
(the checks read as the admin; the worker connects as the application role, like the server)
"""
import hashlib
import hmac
import http.server
import os
import random
import signal
import subprocess
import sys
import threading
import time

from api import API, psql_runner

port, operator_token, database_url, app_database_url, binary = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
api = API(port, operator_token)
CUSTOMERS = 20
WRITERS = 2
SECONDS = 20
KILL_EVERY = 6


psql = psql_runner(database_url)


class Receiver:
    def __init__(self):
        self.lock = threading.Lock()
        self.in_flight = {}
        self.overlaps = 0
        self.answered = {}      # path → [event id answered 2xx, in order]
        self.failed = 0         # 500s answered
        self.bad_signatures = 0
        self.requests = 0
        self.secrets = {}       # path → secret
        self.seen = {}          # path → requests so far
        self.down = False


receiver = Receiver()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        path = self.path
        if receiver.down:
            # Down: a kept-alive connection is dropped without an answer (new ones are refused).
            self.close_connection = True
            return
        with receiver.lock:
            receiver.requests += 1
            receiver.in_flight[path] = receiver.in_flight.get(path, 0) + 1
            if receiver.in_flight[path] > 1:
                receiver.overlaps += 1
            secret = receiver.secrets.get(path, "")
        # The request leaves the in-flight count before its answer is sent: the worker may
        # send its next event the moment it reads the answer, and that must not count as an
        # overlap because this thread has not run on yet.
        try:
            signature = dict(part.split("=", 1) for part in self.headers.get("PartnerCenter-Signature", "").split(",") if "=" in part)
            expected = hmac.new(secret.encode(), f"{signature.get('t', '')}.".encode() + body, hashlib.sha256).hexdigest()
            fresh = abs(time.time() - int(signature.get("t", "0"))) < 300
            if not (fresh and hmac.compare_digest(expected, signature.get("v1", ""))):
                with receiver.lock:
                    receiver.bad_signatures += 1
            roll = random.random()
            if roll < 0.02:
                time.sleep(0.3)
            with receiver.lock:
                receiver.seen[path] = receiver.seen.get(path, 0) + 1
                first_attempts = receiver.seen[path] <= 2
            status = 500 if first_attempts or roll > 0.967 else 200
            if status == 200:
                event_id = int(self.headers.get("PartnerCenter-Event-Id", "0"))
                with receiver.lock:
                    receiver.answered.setdefault(path, []).append(event_id)
            else:
                with receiver.lock:
                    receiver.failed += 1
        finally:
            with receiver.lock:
                receiver.in_flight[path] -= 1
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()


def listen(port_number):
    listener = http.server.ThreadingHTTPServer(("127.0.0.1", port_number), Handler)
    listener.daemon_threads = True
    threading.Thread(target=listener.serve_forever, daemon=True).start()
    return listener


server = listen(0)
receiver_port = server.server_address[1]

distributor = api.must("POST", "/v1/distributors", {"name": "Webhook distributor"})["id"]
distributor_token = api.must("POST", "/v1/api-keys", {"principal_kind": "distributor", "principal_id": distributor})["token"]
partner = api.must("POST", "/v1/partners", {"distributor_id": distributor, "name": "Webhook partner"})["id"]
partner_token = api.must("POST", "/v1/api-keys", {"principal_kind": "partner", "principal_id": partner})["token"]
api.must("PUT", f"/v1/partners/{partner}/freeze-permission", token=distributor_token)
customers = []
for i in range(CUSTOMERS):
    customer = api.must("POST", "/v1/customers", {"partner_id": partner, "name": f"Webhook customer {i}"})["id"]
    api.must("POST", f"/v1/customers/{customer}/resources", {"type": "vm", "billing_mode": "pay_per_use", "count": 2})
    customers.append(customer)

subscriptions = {}  # path → (id, owner kind, types)
for path, token, kind, types in [("/distributor", distributor_token, "distributor", None),
                                 ("/partner", partner_token, "partner", None),
                                 ("/restricted", partner_token, "partner", ["customer.restricted"])]:
    body = {"url": f"http://127.0.0.1:{receiver_port}{path}"}
    if types:
        body["event_types"] = types
    created = api.must("POST", "/v1/webhooks", body, token=token)
    receiver.secrets[path] = created["secret"]
    subscriptions[path] = (created["id"], kind, types)

writer_tokens = [api.must("POST", "/v1/api-keys", {"principal_kind": "partner", "principal_id": partner})["token"]
                 for _ in range(WRITERS)]
writes = 0
lock = threading.Lock()
end = time.monotonic() + SECONDS


def writer(token):
    global writes
    while time.monotonic() < end:
        customer = random.choice(customers)
        if random.random() < 0.5:
            status, _ = api.call("POST", f"/v1/customers/{customer}/freeze", {"reason": "webhook drill", "agreement_accepted": True}, token=token)
        else:
            status, _ = api.call("POST", f"/v1/customers/{customer}/unfreeze", {"reason": "webhook drill"}, token=token)
        if 200 <= status < 300:
            with lock:
                writes += 1
        time.sleep(0.5 if status == 429 else 0.02)


def start_worker():
    environment = dict(os.environ, DATABASE_URL=app_database_url, WEBHOOK_LEASE_SECONDS="16", LOG_LEVEL="warning")
    return subprocess.Popen([binary, "deliver-webhooks", "--workers", "2"], env=environment,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


threads = [threading.Thread(target=writer, args=(token,)) for token in writer_tokens]
for thread in threads:
    thread.start()
worker = start_worker()
kills = 0
started = time.monotonic()
next_kill = started + KILL_EVERY
down_at, up_at, down = started + 8, started + 13, None
while time.monotonic() < end:
    time.sleep(0.2)
    now = time.monotonic()
    if now >= next_kill:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        kills += 1
        worker = start_worker()
        next_kill += KILL_EVERY
    if down is None and now >= down_at:
        receiver.down = down = True
        server.shutdown()
        server.server_close()
    if down and now >= up_at:
        server = listen(receiver_port)
        receiver.down = down = False
for thread in threads:
    thread.join()


def expected(kind, types):
    owner = distributor if kind == "distributor" else partner
    column = "distributor_id" if kind == "distributor" else "partner_id"
    where = f"{column} = '{owner}'"
    if types:
        where += " AND type IN (" + ",".join(f"'{t}'" for t in types) + ")"
    rows = psql(f"SELECT id FROM outbox_events WHERE {where} AND type <> 'grant.changed' ORDER BY txid, id")
    return [int(x) for x in rows.split()] if rows else []


drain_start = time.monotonic()
deadline = drain_start + 240
while True:
    done = True
    for path, (_, kind, types) in subscriptions.items():
        with receiver.lock:
            got = set(receiver.answered.get(path, []))
        if not set(expected(kind, types)) <= got:
            done = False
    if done or time.monotonic() > deadline:
        break
    time.sleep(1)
drained = time.monotonic() - drain_start
worker.send_signal(signal.SIGTERM)
worker.wait(timeout=30)
server.shutdown()

problems = []
delivered = resent = 0
for path, (_, kind, types) in subscriptions.items():
    want = expected(kind, types)
    with receiver.lock:
        got = list(receiver.answered.get(path, []))
    first = []
    seen = set()
    for event_id in got:
        if event_id in seen:
            resent += 1
            continue
        seen.add(event_id)
        first.append(event_id)
    # grant.changed of the set-up may or may not fall after a subscription's start.
    grants = set(int(x) for x in psql("SELECT id FROM outbox_events WHERE type = 'grant.changed'").split())
    first = [event_id for event_id in first if event_id not in grants]
    delivered += len(first)
    missing = set(want) - set(first)
    extra = set(first) - set(want)
    if missing:
        problems.append(f"{path}: {len(missing)} events never answered 2xx")
    if extra:
        problems.append(f"{path}: {len(extra)} events outside its scope")
    if first != [event_id for event_id in want if event_id in set(first)]:
        problems.append(f"{path}: first deliveries out of feed order")
if receiver.overlaps:
    problems.append(f"{receiver.overlaps} overlapping requests on one subscription")
if receiver.bad_signatures:
    problems.append(f"{receiver.bad_signatures} signatures that do not verify")
if writes == 0:
    problems.append("no write committed")

refused = int(psql("SELECT count(*) FROM webhook_deliveries WHERE status_code IS NULL"))
summary = (f"{writes} writes; {delivered} events delivered to 3 subscriptions, {resent} resent after {kills} worker kills, "
           f"{receiver.failed} answered 500 and {refused} attempts without an answer (receiver down 5 s) retried, "
           f"{receiver.requests} requests, {receiver.overlaps} overlaps, "
           f"{receiver.bad_signatures} bad signatures; caught up {drained:.0f} s after the writers stopped")
if problems:
    print(summary + "; " + "; ".join(problems))
    sys.exit(1)
print(summary)
