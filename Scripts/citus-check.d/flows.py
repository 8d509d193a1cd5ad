"""Every flow of DESIGN §8 on a Citus cluster, over HTTP and the command line, with the
cluster's own counters as proof: one customer's writes reach one worker and commit in
one phase (no PREPARE TRANSACTION on any worker).

usage: flows.py PORT OPERATOR_TOKEN CITUS_URL PARTNER_CENTER_BIN
Prints one line per check ("name|figures|pass or FAIL") and exits 1 when any failed.
"""
import json
import os
import subprocess
import sys
import threading
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "reliability.d"))
from api import API  # noqa: E402

port, operator_token, url, binary = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
# The binary (the sweep, the CLI) runs as the application role when citus-check says so.
APP_URL = os.environ.get("APP_DATABASE_URL", url)
api = API(port, operator_token)
results = []


def record(name, figures, ok):
    results.append((name, figures, ok))
    print(f"{name}|{figures}|{'pass' if ok else 'FAIL'}", flush=True)


def psql(sql):
    return subprocess.run(["psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", url, "-c", sql],
                          check=True, capture_output=True, text=True).stdout.strip()


def on_workers(sql):
    """The result of sql on each worker, as a list of strings."""
    out = psql(f"SELECT result FROM run_command_on_workers($q${sql}$q$) ORDER BY nodeport")
    return out.splitlines()


def cli(*args, env=None):
    return subprocess.run([binary, *args], check=True, capture_output=True, text=True,
                          env={**os.environ, "DATABASE_URL": APP_URL, **(env or {})}).stdout


def check(name, fn):
    try:
        figures, ok = fn()
    except Exception as error:  # a failed flow is a FAIL row, and the run goes on
        figures, ok = f"error: {error}", False
    record(name, figures, ok)


# What one customer's writes did on the workers: statements that write or lock rows of a
# distributed table's shards, per worker, and PREPARE TRANSACTION (two-phase commits).
SHARD_WRITES = r"""SELECT coalesce(sum(calls), 0) FROM pg_stat_statements
WHERE query ~* '^\s*(insert|update|delete|with|select .* for (update|share))'
  AND query ~ '(customers|resources|resource_data|restrictions|orders|usage_records|audit_events|outbox_events|budgets|budget_charges)_[0-9]+'"""
PREPARES = "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE query ILIKE 'PREPARE TRANSACTION%'"


def worker_counters():
    return [int(x) for x in on_workers(SHARD_WRITES)], sum(int(x) for x in on_workers(PREPARES))


def reset_worker_counters():
    on_workers("SELECT pg_stat_statements_reset()")


# --- the world ---------------------------------------------------------------------------
distributor = api.must("POST", "/v1/distributors", {"name": "Citus distributor"})["id"]
distributor_token = api.must("POST", "/v1/api-keys", {"principal_kind": "distributor", "principal_id": distributor})["token"]
partner = api.must("POST", "/v1/partners", {"distributor_id": distributor, "name": "Citus partner"})["id"]
partner_token = api.must("POST", "/v1/api-keys", {"principal_kind": "partner", "principal_id": partner})["token"]
due_partner = api.must("POST", "/v1/partners", {"distributor_id": distributor, "name": "Citus partner, retention 0"})["id"]
api.must("PATCH", f"/v1/partners/{due_partner}", {"retention_seconds": 0})


def new_customer(name, partner_id=partner, pay_per_use=5, prepaid=2):
    customer = api.must("POST", "/v1/customers", {"partner_id": partner_id, "name": name})["id"]
    if pay_per_use:
        api.must("POST", f"/v1/customers/{customer}/resources",
                 {"type": "vm", "billing_mode": "pay_per_use", "count": pay_per_use, "data_bytes": 1024})
    if prepaid:
        api.must("POST", f"/v1/customers/{customer}/resources", {"type": "disk", "billing_mode": "prepaid", "count": prepaid})
    token = api.must("POST", "/v1/api-keys", {"principal_kind": "customer", "principal_id": customer})["token"]
    return customer, token


def distribution():
    rows = psql("SELECT table_name || ':' || citus_table_type || ':' || distribution_column FROM citus_tables ORDER BY 1").splitlines()
    kinds = dict((r.split(":")[0], r.split(":", 1)[1]) for r in rows)
    expected = {t: "reference:<none>" for t in ["agreements", "api_keys", "distributors", "freeze_permission_grants", "operators", "partners",
                                                 "retention_policies", "prices"]}
    expected.update({"customers": "distributed:id", "audit_events": "distributed:tenant_id", "outbox_events": "distributed:tenant_id"})
    expected.update({t: "distributed:customer_id" for t in ["budget_charges", "budgets", "orders", "resource_data", "resources", "restrictions", "usage_records"]})
    groups = psql("SELECT count(DISTINCT colocation_id) FROM citus_tables WHERE citus_table_type = 'distributed'")
    ok = all(kinds.get(t) == k for t, k in expected.items()) and groups == "1"
    return f"{sum(1 for k in kinds.values() if k.startswith('distributed'))} distributed (1 colocation group: {groups == '1'}), " \
           f"{sum(1 for k in kinds.values() if k.startswith('reference'))} reference", ok


check("schema distributed by migrate", distribution)


def provisioning():
    customer, _ = new_customer("Provisioned", pay_per_use=0, prepaid=0)
    one = api.must("POST", f"/v1/customers/{customer}/resources", {"type": "vm", "billing_mode": "pay_per_use"})
    bulk = api.must("POST", f"/v1/customers/{customer}/resources", {"type": "vm", "billing_mode": "pay_per_use", "count": 20000})
    got = api.must("GET", f"/v1/customers/{customer}", token=partner_token)
    ok = one.get("id") is not None and bulk["created"] == 20000 and got["resource_counts"]["total"] == 20001
    return f"customer, 1 resource, bulk of {bulk['created']}; counts total {got['resource_counts']['total']}", ok


check("provisioning (single and bulk)", provisioning)


def seed_demo():
    keys = json.loads(cli("seed-demo", "--json"))["keys"]
    roles = {key["role"] for key in keys}
    return f"{len(keys)} tokens printed", "operator" in roles and all(key["token"].startswith("pc_") for key in keys)


check("seed-demo", seed_demo)


def reads():
    customer, token = new_customer("Reader")
    page = api.must("GET", "/v1/customers?limit=1", token=partner_token)
    second = api.must("GET", f"/v1/customers?limit=1&cursor={page['next_cursor']}", token=partner_token) if page["next_cursor"] else {"items": []}
    own = api.must("GET", f"/v1/customers/{customer}", token=token)
    resources = api.must("GET", f"/v1/customers/{customer}/resources", token=token)
    other = api.call("GET", f"/v1/customers/{customer}", token=api.must(
        "POST", "/v1/api-keys", {"principal_kind": "partner", "principal_id": due_partner})["token"])[0]
    ok = len(page["items"]) == 1 and len(second["items"]) == 1 and page["items"][0]["id"] != second["items"][0]["id"] and own["id"] == customer and len(resources["items"]) == 7 and other == 404
    return f"list pages {len(page['items'])}+{len(second['items'])}, own customer, {len(resources['items'])} resources, other tenant {other}", ok


check("customer and resource reads", reads)


def grants():
    api.must("PUT", f"/v1/partners/{partner}/freeze-permission", token=distributor_token)
    held = api.must("GET", f"/v1/partners/{partner}/freeze-permission", token=distributor_token)
    listed = api.must("GET", "/v1/partners", token=distributor_token)
    customer, _ = new_customer("Granted")
    by_distributor = api.call("POST", f"/v1/customers/{customer}/freeze", {"reason": "x", "agreement_accepted": True}, token=distributor_token)[0]
    ok = held["granted"] and any(p["id"] == partner and p["freeze_permission"]["granted"] for p in listed["items"]) and by_distributor == 403
    return f"granted, listed, distributor refused {by_distributor} while the partner holds it", ok


check("grants", grants)


def settings_and_codes():
    api.must("PATCH", "/v1/settings", {"verification_code_required": True}, token=partner_token)
    customer, _ = new_customer("Coded")
    missing = api.call("POST", f"/v1/customers/{customer}/freeze", {"reason": "x", "agreement_accepted": True}, token=partner_token)[0]
    code = api.must("POST", "/v1/verification-codes", {"purpose": "freeze"}, token=partner_token)["code"]
    wrong = api.call("POST", f"/v1/customers/{customer}/freeze",
                     {"reason": "x", "agreement_accepted": True, "verification_code": "000000" if code != "000000" else "111111"},
                     token=partner_token)[0]
    again = api.call("POST", "/v1/verification-codes", {"purpose": "freeze"}, token=partner_token)[0]
    done = api.call("POST", f"/v1/customers/{customer}/freeze",
                    {"reason": "x", "agreement_accepted": True, "verification_code": code}, token=partner_token)[0]
    # Turning codes off takes a code of its own purpose.
    off_without = api.call("PATCH", "/v1/settings", {"verification_code_required": False}, token=partner_token)[0]
    settings_code = api.must("POST", "/v1/verification-codes", {"purpose": "settings"}, token=partner_token)["code"]
    off = api.call("PATCH", "/v1/settings", {"verification_code_required": False, "verification_code": settings_code},
                   token=partner_token)[0]
    ok = (missing, wrong, again, done, off_without, off) == (422, 422, 429, 200, 422, 200)
    return (f"no code {missing}, wrong {wrong}, resend too soon {again}, right code {done}, "
            f"setting off without a code {off_without}, with a settings code {off}"), ok


check("settings and verification codes", settings_and_codes)


def one_customer_writes():
    """Buy, renew, change, usage, freeze, unfreeze, sweep release: one worker, one phase."""
    customer, token = new_customer("One shard", partner_id=due_partner)
    resources = api.must("GET", f"/v1/customers/{customer}/resources", token=token)["items"]
    prepaid = next(r["id"] for r in resources if r["billing_mode"] == "prepaid")
    payg = next(r["id"] for r in resources if r["billing_mode"] == "pay_per_use")
    due_token = api.must("POST", "/v1/api-keys", {"principal_kind": "distributor", "principal_id": distributor})["token"]
    reset_worker_counters()
    statuses = [
        api.call("POST", f"/v1/customers/{customer}/orders", {"action": "buy", "resource": {"type": "vm", "billing_mode": "pay_per_use"}}, token=token)[0],
        api.call("POST", f"/v1/customers/{customer}/orders", {"action": "buy", "resource": {"type": "disk", "billing_mode": "prepaid", "term_months": 12}}, token=token)[0],
        api.call("POST", f"/v1/customers/{customer}/orders", {"action": "renew", "resource_id": prepaid, "term_months": 3}, token=token)[0],
        api.call("POST", f"/v1/customers/{customer}/orders", {"action": "change", "resource_id": payg, "spec": {"cpu": 4}}, token=token)[0],
        api.call("POST", f"/v1/customers/{customer}/resources/{payg}/usage", {"quantity": 1.5}, token=token)[0],
        api.call("POST", f"/v1/customers/{customer}/freeze", {"reason": "one shard", "agreement_accepted": True}, token=due_token)[0],
        api.call("POST", f"/v1/customers/{customer}/unfreeze", {"reason": "one shard"}, token=due_token)[0],
        api.call("POST", f"/v1/customers/{customer}/freeze", {"reason": "one shard again", "agreement_accepted": True}, token=due_token)[0],
    ]
    swept = json.loads(cli("retention-sweep", "--json", "--batch-size", "4"))
    writes, prepares = worker_counters()
    touched = sum(1 for w in writes if w > 0)
    released = psql(f"SELECT count(*) FROM resources WHERE customer_id = '{customer}' AND state = 'released'")
    ok = statuses == [201, 201, 201, 201, 202, 200, 200, 200] and prepares == 0 and touched == 1 and int(released) >= 6
    return (f"answers {statuses}; sweep released {swept['released']} in {swept['batches']} batches; "
            f"shard writes per worker {writes}; PREPARE TRANSACTION {prepares}"), ok


check("one customer's writes: buy, renew, change, usage, freeze, unfreeze, release", one_customer_writes)


def lifecycle():
    """DESIGN §9 on the cluster: a level's policy, prepaid expiry through freeze and release,
    a renewal that reactivates, a scheduled lift and the impact preview, in one phase."""
    from datetime import datetime, timedelta, timezone
    iso = lambda delta: (datetime.now(timezone.utc) + delta).isoformat()
    api.must("PUT", "/v1/retention-policies/v5", {"freeze_retention_seconds": 600, "prepaid_grace_seconds": 0, "prepaid_retention_seconds": 0})
    gone, _ = new_customer("Lifecycle, level v5", pay_per_use=3, prepaid=0)
    api.must("PATCH", f"/v1/customers/{gone}", {"level": "v5"})
    api.must("POST", f"/v1/customers/{gone}/resources", {"type": "disk", "billing_mode": "prepaid", "count": 4, "expires_at": iso(timedelta(minutes=-1))})
    renewed, renew_token = new_customer("Lifecycle, level v0", pay_per_use=0, prepaid=0)
    one = api.must("POST", f"/v1/customers/{renewed}/resources", {"type": "disk", "billing_mode": "prepaid", "expires_at": iso(timedelta(minutes=-1))})["id"]
    preview = api.must("POST", f"/v1/customers/{gone}/freeze", {"dry_run": True}, token=partner_token)
    frozen = api.must("POST", f"/v1/customers/{gone}/freeze",
                      {"reason": "lifecycle", "agreement_accepted": True, "lift_at": iso(timedelta(days=1))}, token=partner_token)
    psql(f"UPDATE restrictions SET applied_at = now() - interval '2 hours', lift_at = now() - interval '1 hour' WHERE customer_id = '{gone}' AND lifted_at IS NULL")
    reset_worker_counters()
    swept = json.loads(cli("retention-sweep", "--json", "--batch-size", "2", "--warning-window", "0"))
    status, _ = api.call("POST", f"/v1/customers/{renewed}/orders", {"action": "renew", "resource_id": one, "term_months": 1}, token=renew_token)
    writes, prepares = worker_counters()
    states = psql(f"SELECT string_agg(state || coalesce(':' || frozen_reason, ''), ',' ORDER BY state) FROM resources WHERE customer_id IN ('{gone}', '{renewed}') AND billing_mode = 'prepaid'")
    lifted_by = psql(f"SELECT lifted_by_kind FROM restrictions WHERE customer_id = '{gone}'")
    ok = (preview["dry_run"] and preview["frozen_resources"] == 3 and frozen.get("lift_at") is not None
          and swept["lifted"] == 1 and swept["expired"] == 5 and swept["frozen"] == 4 and swept["released"] == 4
          and status == 201 and lifted_by == "system" and prepares == 0
          and states == "active,released:expired,released:expired,released:expired,released:expired")
    return (f"preview froze {preview['frozen_resources']}; sweep lifted {swept['lifted']}, expired {swept['expired']}, "
            f"froze {swept['frozen']}, released {swept['released']}; renewal {status}; lifted by {lifted_by}; "
            f"shard writes per worker {writes}; PREPARE TRANSACTION {prepares}"), ok


check("lifecycle: level policy, expiry, freeze, release, renewal, scheduled lift, preview", lifecycle)


def budgets():
    """DESIGN §10 on the cluster: a price (a reference table), a budget set by the partner, usage
    that exhausts it, the settlement's alerts and restriction (actor system), the gate holding,
    and a raise that lifts it, each write on the customer's shard in one phase."""
    api.must("PUT", "/v1/prices/vm", {"usage_unit_price": "1.5", "monthly_price": "10"})
    customer, token = new_customer("Budgets", pay_per_use=2, prepaid=0)
    budget_path = f"/v1/customers/{customer}/budget"
    api.must("PUT", budget_path, {"amount": "10", "period": "monthly", "on_exhaustion": "restrict_purchase"}, token=partner_token)
    resource = psql(f"SELECT id FROM resources WHERE customer_id = '{customer}' ORDER BY id LIMIT 1")
    reset_worker_counters()
    for _ in range(8):
        api.must("POST", f"/v1/customers/{customer}/resources/{resource}/usage", {"quantity": 1}, token=token)
    settled = json.loads(cli("settle-budgets", "--json"))
    writes, prepares = worker_counters()
    budget = api.must("GET", budget_path, token=token)
    status, _ = api.call("POST", f"/v1/customers/{customer}/orders",
                         {"action": "buy", "resource": {"type": "vm", "billing_mode": "prepaid", "term_months": 1}}, token=token)
    raised = api.must("PUT", budget_path, {"amount": "20", "period": "monthly", "on_exhaustion": "restrict_purchase"}, token=partner_token)
    restriction = psql(f"SELECT origin || ':' || applied_by_kind || ':' || coalesce(lifted_by_kind, '-') FROM restrictions WHERE customer_id = '{customer}'")
    alerts = psql(f"SELECT string_agg(data->>'percent', ',' ORDER BY id) FROM outbox_events WHERE customer_id = '{customer}' AND type = 'budget.threshold_reached'")
    ok = (settled["restricted"] == 1 and settled["alerts"] == 3 and budget["spent"] == "12" and status == 409
          and restriction == "budget:system:system" and raised["spent"] == "12" and alerts == "75,90,100" and prepares == 0)
    return (f"settled {settled['customers']} customers: {settled['alerts']} alerts ({alerts}), {settled['restricted']} restricted; "
            f"spent {budget['spent']} of {budget['amount']}; buy {status}; restriction {restriction}; "
            f"shard writes per worker {writes}; PREPARE TRANSACTION {prepares}"), ok


check("budgets: price, budget, usage, alerts, restriction at exhaustion, raise lifts", budgets)


def batch():
    customers = [new_customer(f"Batch {i}")[0] for i in range(10)]
    frozen = api.must("POST", "/v1/customers/freeze", {"customer_ids": customers, "reason": "batch", "agreement_accepted": True}, token=partner_token)
    lifted = api.must("POST", "/v1/customers/unfreeze", {"customer_ids": customers, "reason": "batch"}, token=partner_token)
    outcomes = [r["outcome"] for r in frozen["results"]] + [r["outcome"] for r in lifted["results"]]
    return f"{outcomes.count('succeeded')} of 20 succeeded", outcomes.count("succeeded") == 20


check("batch freeze and unfreeze of 10 customers", batch)


def idempotency():
    customer, _ = new_customer("Idempotent")
    key = str(uuid.uuid4())
    headers_call = lambda: idempotent_call(f"/v1/customers/{customer}/freeze", {"reason": "once", "agreement_accepted": True}, key)
    first, second = headers_call(), headers_call()
    restrictions = psql(f"SELECT count(*) FROM restrictions WHERE customer_id = '{customer}'")
    ok = first[0] == 200 and second == first and restrictions == "1"
    return f"first {first[0]}, replay {second[0]} (same body: {second == first}), restrictions {restrictions}", ok


def idempotent_call(path, body, key):
    import http.client
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("POST", path, body=json.dumps(body), headers={
            "Content-Type": "application/json", "Authorization": "Bearer " + partner_token, "Idempotency-Key": key})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


check("idempotent freeze replayed", idempotency)


def drain(cursor, limit=200):
    """The distributor's feed from cursor to its end: (event ids, the cursor to poll from)."""
    seen = []
    while True:
        page = api.must("GET", f"/v1/events?limit={limit}" + (f"&after={cursor}" if cursor else ""), token=distributor_token)
        seen += [e["id"] for e in page["items"]]
        cursor = page["next_cursor"]
        if not page["items"]:
            return seen, cursor


def feeds():
    audit = api.must("GET", "/v1/audit-events?limit=200", token=distributor_token)
    seen, _ = drain(None, limit=50)
    stored = int(psql(f"SELECT count(*) FROM outbox_events WHERE distributor_id = '{distributor}'"))
    ok = len(seen) == len(set(seen)) == stored and len(audit["items"]) > 0
    return f"audit page {len(audit['items'])}; feed {len(seen)} events, {stored} stored, repeats {len(seen) - len(set(seen))}", ok


check("audit and events feeds", feeds)


def feed_under_writers():
    """A consumer follows next_cursor while writers on both workers commit freezes and
    unfreezes; afterwards it must have every event once."""
    customers = [new_customer(f"Feed writer {i}", pay_per_use=2, prepaid=0)[0] for i in range(16)]
    stop = threading.Event()
    start = psql(f"SELECT count(*) FROM outbox_events WHERE distributor_id = '{distributor}'")

    def writer(customer):
        for _ in range(6):
            api.must("POST", f"/v1/customers/{customer}/freeze", {"reason": "feed", "agreement_accepted": True}, token=partner_token)
            api.must("POST", f"/v1/customers/{customer}/unfreeze", {"reason": "feed"}, token=partner_token)

    def granter():
        while not stop.is_set():
            api.must("DELETE", f"/v1/partners/{due_partner}/freeze-permission", token=distributor_token)
            api.must("PUT", f"/v1/partners/{due_partner}/freeze-permission", token=distributor_token)

    seen, cursor = drain(None)  # everything that is already there
    threads = [threading.Thread(target=writer, args=(c,)) for c in customers] + [threading.Thread(target=granter)]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads[:-1]):
        page = api.must("GET", "/v1/events?limit=37" + (f"&after={cursor}" if cursor else ""), token=distributor_token)
        seen += [e["id"] for e in page["items"]]
        cursor = page["next_cursor"]
    stop.set()
    threads[-1].join()
    more, cursor = drain(cursor)
    seen += more
    stored = set(int(x) for x in psql(f"SELECT id FROM outbox_events WHERE distributor_id = '{distributor}'").split())
    missed, repeated = len(stored - set(seen)), len(seen) - len(set(seen))
    return f"{len(stored) - int(start)} events written by 17 writers, consumer saw {len(set(seen))} of {len(stored)}; missed {missed}, repeated {repeated}", missed == 0 and repeated == 0


check("events feed under concurrent writers", feed_under_writers)


def two_sweepers():
    # The distributor acts for the partner's customers once the grant is revoked.
    api.must("DELETE", f"/v1/partners/{due_partner}/freeze-permission", token=distributor_token)
    customers = [new_customer(f"Swept {i}", partner_id=due_partner, pay_per_use=300, prepaid=1)[0] for i in range(6)]
    for c in customers:
        api.must("POST", f"/v1/customers/{c}/freeze", {"reason": "sweep", "agreement_accepted": True}, token=distributor_token)
    ids = ",".join(f"'{c}'" for c in customers)
    runs = [subprocess.Popen([binary, "retention-sweep", "--json", "--batch-size", "50"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             text=True, env={**os.environ, "DATABASE_URL": APP_URL}) for _ in range(2)]
    reports = [json.loads(r.communicate()[0]) for r in runs]
    released = psql(f"SELECT count(*) FROM resources WHERE customer_id IN ({ids}) AND state = 'released'")
    audited = psql(f"""SELECT count(*), count(DISTINCT target_id) FROM audit_events
                       WHERE action = 'resource.released' AND customer_id IN ({ids})""").split("|")
    with_data = psql(f"""SELECT count(*) FROM resources r JOIN resource_data d ON d.customer_id = r.customer_id AND d.resource_id = r.id
                         WHERE r.customer_id IN ({ids}) AND r.state = 'released'""")
    total = sum(r["released"] for r in reports)
    ok = released == "1800" and audited == ["1800", "1800"] and with_data == "0" and total == 1800
    return (f"sweepers released {reports[0]['released']} + {reports[1]['released']}; 1800 due, {released} released, "
            f"{audited[0]} release audits for {audited[1]} resources, {with_data} with data"), ok


check("two sweepers at once (CLI)", two_sweepers)



def webhooks():
    """DESIGN §11 on the cluster: the partner subscribes a receiver on loopback, a customer is
    frozen and unfrozen, and `deliver-webhooks --once` (as the application role) sends the
    partner's events, read across the shards by the feed's statement, in feed order and
    signed. The subscription tables stay plain coordinator tables."""
    import hashlib
    import hmac
    import http.server
    got = []

    class Receiver(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            got.append((int(self.headers["PartnerCenter-Event-Id"]), self.headers["PartnerCenter-Signature"], body))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = http.server.HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        created = api.must("POST", "/v1/webhooks", {"url": f"http://127.0.0.1:{server.server_address[1]}/pc"}, token=partner_token)
        customer, _ = new_customer("Webhooks")
        api.must("POST", f"/v1/customers/{customer}/freeze", {"reason": "webhooks", "agreement_accepted": True}, token=partner_token)
        api.must("POST", f"/v1/customers/{customer}/unfreeze", {"reason": "webhooks"}, token=partner_token)
        want = [int(x) for x in psql(f"SELECT id FROM outbox_events WHERE customer_id = '{customer}' ORDER BY txid, id").split()]
        reports = []
        for _ in range(20):
            reports.append(json.loads(cli("deliver-webhooks", "--once", "--json")))
            if set(want) <= {event_id for event_id, _, _ in got}:
                break
        mine = [(event_id, signature, body) for event_id, signature, body in got if event_id in set(want)]
        signed = all(
            hmac.compare_digest(
                hmac.new(created["secret"].encode(), signature.split(",")[0][2:].encode() + b"." + body, hashlib.sha256).hexdigest(),
                signature.split("v1=")[1])
            for _, signature, body in mine)
        placement = psql("SELECT count(*) FROM citus_tables WHERE table_name::text IN ('webhook_subscriptions', 'webhook_deliveries')")
        attempts = api.must("GET", f"/v1/webhooks/{created['id']}/deliveries?limit=200", token=partner_token)["items"]
        delivered = sum(r["delivered"] for r in reports)
        ok = ([event_id for event_id, _, _ in mine] == want and signed and placement == "0" and len(attempts) >= len(want)
              and delivered >= len(want))
        return (f"{len(want)} events of the customer, {len(mine)} received in feed order {ok}, signatures {signed}; "
                f"{delivered} delivered over {len(reports)} runs; tables in citus_tables {placement}"), ok
    finally:
        server.shutdown()


check("webhooks: subscribe, deliver-webhooks --once, feed order, signatures", webhooks)


def row_level_security():
    """As the application role, a transaction sees only the tenant it names, on the workers too."""
    customer = psql("SELECT customer_id FROM resources GROUP BY customer_id ORDER BY count(*) DESC LIMIT 1")
    own = int(psql(f"SELECT count(*) FROM resources WHERE customer_id = '{customer}'"))
    total = int(psql("SELECT count(*) FROM resources"))

    def visible(*naming):
        commands = ["BEGIN", *naming, "SELECT count(*) AS visible FROM resources", "COMMIT"]
        args = [arg for command in commands for arg in ("-c", command)]
        out = subprocess.run(["psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", APP_URL, *args],
                             check=True, capture_output=True, text=True).stdout.split()
        return int([line for line in out if line.isdigit()][-1])

    nothing = visible()
    named = visible(f"SELECT name_tenant('customer', '{customer}')")
    everything = visible("SELECT name_tenant('all', NULL)")
    ok = APP_URL != url and nothing == 0 and named == own and everything == total and own < total
    return f"named nothing {nothing}, one customer {named} of its {own}, all {everything} of {total}", ok


check("row-level security on the workers (as partner_app)", row_level_security)

failed = [r for r in results if not r[2]]
sys.exit(1 if failed else 0)
