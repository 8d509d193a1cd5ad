"""Restart drill (DESIGN §7): buys run continuously over HTTP while PostgreSQL is stopped
and started again. While it is down the server must answer 503 with Retry-After; after it
is back every answer must be 2xx again without restarting the server; and every order
answered 201 must be in the database.

usage: restart.py PORT CUSTOMER_ID CUSTOMER_TOKEN DATABASE_URL STOP_COMMAND START_COMMAND
"""
import http.client
import json
import subprocess
import sys
import threading
import time

port, customer, token, database_url, stop_command, start_command = sys.argv[1:7]
WORKERS = 8
phase = "before"
results = []  # (phase, status, retry_after, order_id)
lock = threading.Lock()
running = True


def worker():
    while running:
        connection = http.client.HTTPConnection("127.0.0.1", int(port), timeout=10)
        status, retry_after, order_id = 0, None, None
        try:
            connection.request("POST", f"/v1/customers/{customer}/orders",
                               body=json.dumps({"action": "buy", "resource": {"type": "vm", "billing_mode": "pay_per_use"}}),
                               headers={"Content-Type": "application/json", "Authorization": "Bearer " + token})
            response = connection.getresponse()
            body = response.read()
            status = response.status
            retry_after = response.getheader("Retry-After")
            if status == 201:
                order_id = json.loads(body)["order_id"]
        except (ConnectionError, OSError, http.client.HTTPException):
            status = 0
        finally:
            connection.close()
        with lock:
            results.append((phase, status, retry_after, order_id))
        if status != 201:
            time.sleep(0.02)


threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
for thread in threads:
    thread.start()
time.sleep(3)
phase = "stopping"
subprocess.run(stop_command, shell=True, check=True, capture_output=True)
phase = "down"
time.sleep(3)
phase = "starting"
subprocess.run(start_command, shell=True, check=True, capture_output=True)
# Recovery is automatic; give the pool a moment to reconnect, then everything must be 2xx.
deadline = time.time() + 15
while time.time() < deadline:
    with lock:
        recent = [r for r in results[-WORKERS * 4:] if r[0] == "starting"]
    if len(recent) >= WORKERS * 4 and all(r[1] == 201 for r in recent):
        break
    time.sleep(0.2)
phase = "after"
time.sleep(5)
running = False
for thread in threads:
    thread.join()


def count(phase_name, predicate):
    return sum(1 for r in results if r[0] == phase_name and predicate(r))


down_answers = [r for r in results if r[0] == "down"]
down_bad = [r for r in down_answers if not (r[1] == 503 and r[2])]
after_bad = count("after", lambda r: r[1] != 201)
any_5xx_other = sum(1 for r in results if r[1] >= 500 and r[1] != 503)
created = [r[3].lower() for r in results if r[1] == 201]
# Compared here rather than in SQL: thousands of ids do not fit on a command line.
stored = set(subprocess.run(["psql", "-X", "-At", database_url, "-c", "SELECT id FROM orders"],
                            check=True, capture_output=True, text=True).stdout.split())
found = sum(1 for order_id in created if order_id in stored)
print(f"answers={len(results)} down={len(down_answers)} down_not_503_with_retry_after={len(down_bad)} "
      f"after_recovery_not_201={after_bad} other_5xx={any_5xx_other} created={len(created)} created_in_db={found}")
ok = down_answers and not down_bad and after_bad == 0 and any_5xx_other == 0 and int(found) == len(created) \
    and count("after", lambda r: True) > 0
sys.exit(0 if ok else 1)
