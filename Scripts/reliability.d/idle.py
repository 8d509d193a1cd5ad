"""Idle-connection drill (DESIGN §7, hostile clients): 300 TCP connections each send the
start of a request (a request line and one header, never the blank line that ends the
head) and then nothing. The server must close every one of them within 60 s of its send
(an answer such as 408 before the close is fine): a client must not be able to hold
connections open forever.

usage: idle.py PORT
"""
import resource
import selectors
import socket
import sys
import time

port = int(sys.argv[1])
CONNECTIONS = 300
LIMIT = 60    # seconds from a connection's send to its close
GRACE = 2     # how much longer we watch, so a late close is measured rather than guessed
PARTIAL = b"GET /v1/customers HTTP/1.1\r\nHost: x\r\n"

# 300 sockets plus what Python and the selector need.
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
need = CONNECTIONS + 64
if soft != resource.RLIM_INFINITY and soft < need:
    resource.setrlimit(resource.RLIMIT_NOFILE, (need if hard == resource.RLIM_INFINITY else min(need, hard), hard))

selector = selectors.DefaultSelector()
sent_at = {}    # socket → when its partial request was sent
open_for = []   # seconds each closed connection stayed open after its send
failed = 0      # connections that could not be made or written
for _ in range(CONNECTIONS):
    sock = socket.socket()
    try:
        sock.connect(("127.0.0.1", port))
        sock.sendall(PARTIAL)
    except OSError:
        failed += 1
        sock.close()
        continue
    sock.setblocking(False)
    sent_at[sock] = time.monotonic()
    selector.register(sock, selectors.EVENT_READ)
last_send = time.monotonic()

# Wait for the server to close each connection: recv answers b'' (or fails, on a reset).
while sent_at and time.monotonic() < last_send + LIMIT + GRACE:
    for key, _ in selector.select(timeout=0.5):
        sock = key.fileobj
        try:
            if sock.recv(65536):
                continue  # an answer (say 408) before the close: keep reading
        except BlockingIOError:
            continue
        except OSError:
            pass
        open_for.append(time.monotonic() - sent_at.pop(sock))
        selector.unregister(sock)
        sock.close()

still_open = len(sent_at)
for sock in sent_at:
    sock.close()
longest = max(open_for, default=0.0)
last_close = f">{LIMIT + GRACE}" if still_open else f"{longest:.1f}"
print(f"connections={CONNECTIONS} failed_to_send={failed} closed={len(open_for)} still_open_after_{LIMIT + GRACE}s={still_open} "
      f"seconds_to_last_close={last_close} (limit {LIMIT})")
sys.exit(0 if failed == 0 and len(open_for) == CONNECTIONS and longest <= LIMIT else 1)
