"""Crash mid-request drill (DESIGN §7, invariant 9): per trial, an idempotent freeze of a
customer with 50,000 pay-per-use resources is sent as the distributor, the server is
SIGKILLed after a random 10–400 ms and started again on the same port and database, and
the same request is retried with the same Idempotency-Key. The retry must answer 200
within 15 s of the restart, and the work must have happened exactly once: one
restriction, one customer.restricted audit event, and every resource frozen, as the
answer says.

usage: request_crash.py PORT OPERATOR_TOKEN DATABASE_URL TRIALS SERVER_PID SERVER_LOG SERVER_COMMAND…
SERVER_PID is the running server (started by Scripts/reliability); SERVER_COMMAND starts
another on the same port. The script stops the last server it started before it exits.
"""
import http.client
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time

from api import API, psql_runner

port, operator_token, database_url, trials = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
server_pid, server_log, server_command = int(sys.argv[5]), sys.argv[6], sys.argv[7:]
api = API(port, operator_token)
RESOURCES = 50000
RETRY_LIMIT = 15  # seconds from the restart to the 200
FREEZE = {"type": "purchase_and_resources", "reason": "crash drill", "agreement_accepted": True}
server = None  # the Popen of the server this script started last, if any


psql = psql_runner(database_url)


def freeze(customer, key, token, timeout):
    """The idempotent freeze: (status, parsed body or None); status 0 when the connection
    failed or timed out (the server died, or is not back yet)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("POST", f"/v1/customers/{customer}/freeze", body=json.dumps(FREEZE), headers={
            "Content-Type": "application/json", "Authorization": "Bearer " + token, "Idempotency-Key": key})
        response = connection.getresponse()
        raw = response.read()
        try:
            return response.status, json.loads(raw) if raw else None
        except ValueError:
            return response.status, None
    except (ConnectionError, OSError, http.client.HTTPException):
        return 0, None
    finally:
        connection.close()


def error_code(body):
    return (body or {}).get("error", {}).get("code") if isinstance(body, dict) else None


def kill_server():
    """SIGKILL the current server and wait until it is gone (its sockets closed)."""
    os.kill(server_pid, signal.SIGKILL)
    if server is not None:
        server.wait()
        return
    # The first server is Scripts/reliability's child: it stays a zombie until the script
    # reaps it, but a zombie holds no sockets any more.
    while True:
        try:
            with open(f"/proc/{server_pid}/status") as status:
                if any(line.startswith("State:") and "Z" in line.split()[1] for line in status):
                    return
        except FileNotFoundError:
            return
        time.sleep(0.01)


def start_server():
    """Starts a server with SERVER_COMMAND (same port, same database, same environment)."""
    global server, server_pid
    with open(server_log, "ab") as log:
        server = subprocess.Popen(server_command, stdout=log, stderr=subprocess.STDOUT)
    server_pid = server.pid


def stop_server():
    if server is not None and server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


try:
    distributor = api.must("POST", "/v1/distributors", {"name": "Request-crash distributor", "retention_seconds": 3600})["id"]
    partner = api.must("POST", "/v1/partners", {"distributor_id": distributor, "name": "Request-crash partner"})["id"]
    distributor_token = api.must("POST", "/v1/api-keys", {"principal_kind": "distributor", "principal_id": distributor})["token"]
    customers = []
    for i in range(trials):
        customer = api.must("POST", "/v1/customers", {"partner_id": partner, "name": f"Request-crash customer {i}"})["id"]
        api.must("POST", f"/v1/customers/{customer}/resources", {"type": "vm", "billing_mode": "pay_per_use", "count": RESOURCES})
        customers.append(customer)

    unanswered = 0       # trials whose first attempt got no answer (the kill landed before its end)
    no_answer = 0        # trials without a 200 within RETRY_LIMIT of the restart
    unexpected = []      # answers other than 200, 429 rate_limited or a failed connection
    restrictions_bad = audits_bad = frozen_bad = 0
    slowest = 0.0
    for n, customer in enumerate(customers, 1):
        key = f"crash-{n}"
        first = {}
        request = threading.Thread(target=lambda: first.update(answer=freeze(customer, key, distributor_token, 60)))
        request.start()
        time.sleep(random.uniform(0.01, 0.4))
        kill_server()
        request.join()
        unanswered += first["answer"][0] == 0
        restarted = time.monotonic()
        start_server()
        answer, last, waited = None, "none", None
        while (left := restarted + RETRY_LIMIT - time.monotonic()) > 0:
            status, body = freeze(customer, key, distributor_token, max(left, 0.1))
            last = f"{status} {error_code(body) or ''}".strip() if status else "no answer"
            if status == 200:
                answer, waited = body, time.monotonic() - restarted
                slowest = max(slowest, waited)
                break
            if server.poll() is not None:
                unexpected.append(f"the restarted server exited ({server.returncode}; see its log)")
                break
            if status != 0 and not (status == 429 and error_code(body) == "rate_limited"):
                unexpected.append(f"{status} {error_code(body)}")
                break
            time.sleep(0.5)
        if answer is None:
            no_answer += 1
        restrictions = psql(f"SELECT count(*) FROM restrictions WHERE customer_id = '{customer}'")
        audits = psql(f"SELECT count(*) FROM audit_events WHERE action = 'customer.restricted' AND customer_id = '{customer}'")
        frozen = psql(f"SELECT count(*) FROM resources WHERE customer_id = '{customer}' AND state = 'frozen'")
        restrictions_bad += restrictions != "1"
        audits_bad += audits != "1"
        frozen_bad += not (answer and answer.get("frozen_resources") == RESOURCES and frozen == str(RESOURCES))
        retry = f"200 after {waited:.1f} s" if answer else f"no 200 (last answer: {last})"
        print(f"request-crash: trial {n}/{trials}: first attempt {first['answer'][0]}, retry {retry}, "
              f"restrictions {restrictions}, audit events {audits}, frozen {frozen}", file=sys.stderr)
finally:
    stop_server()

print(f"trials={trials} first_attempt_unanswered={unanswered} max_seconds_to_200={slowest:.1f} no_200_within_{RETRY_LIMIT}s={no_answer} "
      f"unexpected_answers={len(unexpected)}{' (' + ', '.join(unexpected) + ')' if unexpected else ''} "
      f"restrictions_not_one={restrictions_bad} audit_not_one={audits_bad} frozen_not_{RESOURCES}={frozen_bad}")
sys.exit(0 if no_answer == 0 and not unexpected and restrictions_bad == 0 and audits_bad == 0 and frozen_bad == 0 else 1)
