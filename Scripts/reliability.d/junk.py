"""Junk-token drill (DESIGN §7, hostile clients): 5,000 requests to GET /v1/customers, each
with a distinct ~60 KB bearer token, from 16 threads over keep-alive connections. Every
answer must be 401, and the server's resident memory may grow by at most 32 MiB: a
rejected token must leave nothing behind (no cache entry, no buffer kept per token).

usage: junk.py PORT OPERATOR_TOKEN SERVER_PID
"""
import secrets
import sys
import threading
import time

from api import KeepAlive

port, operator_token, server_pid = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
REQUESTS = 5000
THREADS = 16
TOKEN_BYTES = 45000  # base64url of 45,000 bytes: 60,000 characters
GROWTH_LIMIT_MIB = 32


def rss_mib():
    """The server's resident memory (VmRSS) in MiB."""
    with open(f"/proc/{server_pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc status")


# Warm up with valid requests, so the baseline includes what any served request allocates.
warm = KeepAlive(port)
for _ in range(20):
    status, _, _ = warm.request("GET", "/v1/customers", token=operator_token)
    if status != 200:
        sys.exit(f"junk: a valid warm-up request answered {status}")
warm.close()
time.sleep(1)
before = rss_mib()

statuses = {}
lock = threading.Lock()


def sender(count):
    client = KeepAlive(port)
    for _ in range(count):
        token = "pc_" + secrets.token_urlsafe(TOKEN_BYTES)
        status, _, _ = client.request("GET", "/v1/customers", token=token)
        with lock:
            statuses[status] = statuses.get(status, 0) + 1
    client.close()


threads = [threading.Thread(target=sender, args=(REQUESTS // THREADS + (i < REQUESTS % THREADS),)) for i in range(THREADS)]
started = time.monotonic()
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
elapsed = time.monotonic() - started
time.sleep(1)  # let the server finish with the last connections
after = rss_mib()

growth = after - before
seen = ",".join(f"{status}x{count}" for status, count in sorted(statuses.items()))
print(f"requests={sum(statuses.values())} statuses={seen} seconds={elapsed:.1f} rss_before={before:.1f}MiB "
      f"rss_after={after:.1f}MiB growth={growth:.1f}MiB (limit {GROWTH_LIMIT_MIB})")
sys.exit(0 if statuses == {401: REQUESTS} and growth <= GROWTH_LIMIT_MIB else 1)
