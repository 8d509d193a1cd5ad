"""Race drill (DESIGN §7): TRIALS trials of one freeze against BUYERS concurrent buys for
the same customer, over HTTP. Afterwards the database proves that no purchase committed
after its customer's freeze: every order's commit timestamp precedes the restriction's.

usage: race.py PORT OPERATOR_TOKEN DATABASE_URL TRIALS BUYERS
"""
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

from api import API, psql_runner

port, operator_token, database_url, trials, buyers = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
api = API(int(port), operator_token)


psql = psql_runner(database_url)


if psql("SHOW track_commit_timestamp") != "on":
    sys.exit("race: track_commit_timestamp is off; the commit order cannot be proved (Scripts/db turns it on)")

distributor = api.must("POST", "/v1/distributors", {"name": "Race distributor"})["id"]
partner = api.must("POST", "/v1/partners", {"distributor_id": distributor, "name": "Race partner"})["id"]
distributor_token = api.must("POST", "/v1/api-keys", {"principal_kind": "distributor", "principal_id": distributor})["token"]

customers = []
for i in range(trials):
    customer = api.must("POST", "/v1/customers", {"partner_id": partner, "name": f"Race customer {i}"})["id"]
    api.must("POST", f"/v1/customers/{customer}/resources", {"type": "vm", "billing_mode": "pay_per_use", "count": 3})
    token = api.must("POST", "/v1/api-keys", {"principal_kind": "customer", "principal_id": customer})["token"]
    customers.append((customer, token))

statuses = {}
lock = threading.Lock()
pool = ThreadPoolExecutor(max_workers=buyers + 1)


def buy(customer, token):
    status, _ = api.call("POST", f"/v1/customers/{customer}/orders",
                         {"action": "buy", "resource": {"type": "vm", "billing_mode": "pay_per_use"}}, token=token)
    with lock:
        statuses[status] = statuses.get(status, 0) + 1


def freeze(customer):
    status, body = api.call("POST", f"/v1/customers/{customer}/freeze",
                            {"reason": "race drill", "agreement_accepted": True}, token=distributor_token)
    if status != 200:
        raise RuntimeError(f"freeze answered {status}: {body}")


for n, (customer, token) in enumerate(customers, 1):
    start = threading.Barrier(buyers + 1)

    def buyer():
        start.wait()
        buy(customer, token)

    def freezer():
        start.wait()
        freeze(customer)

    futures = [pool.submit(buyer) for _ in range(buyers)] + [pool.submit(freezer)]
    for future in futures:
        future.result()
    if n % 100 == 0:
        print(f"race: {n}/{trials} trials", file=sys.stderr)

late = psql("""
    SELECT count(*) FROM orders o JOIN restrictions r ON r.customer_id = o.customer_id
    WHERE o.customer_id IN (SELECT c.id FROM customers c JOIN partners p ON p.id = c.partner_id WHERE p.name = 'Race partner')
      AND pg_xact_commit_timestamp(o.xmin) > pg_xact_commit_timestamp(r.xmin)
""")
committed = psql("SELECT count(*) FROM orders o JOIN customers c ON c.id = o.customer_id JOIN partners p ON p.id = c.partner_id WHERE p.name = 'Race partner'")
bad = sum(count for status, count in statuses.items() if status not in (201, 409))
print(f"trials={trials} buyers={buyers} buys_committed={committed} buys_refused={statuses.get(409, 0)} "
      f"other_answers={bad} committed_after_freeze={late}")
sys.exit(0 if late == "0" and bad == 0 else 1)
