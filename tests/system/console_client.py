#!/usr/bin/env python3
"""console_client.py PORTFILE TRANSCRIPT - plays a user at L0's console.

Listens on a free localhost port (written to PORTFILE) for Bochs's COM2
(mode=socket-client), waits for the console's ready line, then types
's' (statistics), 'd' (vmcs01 dump) and 'x' (an unknown key: help), each
after the previous answer is complete, and writes everything received to
TRANSCRIPT.  Every wait is bounded; on a timeout it stops and says so.
"""
import socket
import sys
import time

port_file, transcript = sys.argv[1], sys.argv[2]
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(1)
with open(port_file, "w") as f:
    f.write(str(srv.getsockname()[1]))
srv.settimeout(120)
received = b""
log = open(transcript, "wb")


def wait_for(conn, marker, seconds, start):
    """Waits for marker in what arrived after offset start."""
    global received
    deadline = time.time() + seconds
    while marker not in received[start:]:
        left = deadline - time.time()
        if left <= 0:
            log.write(b"\nconsole_client: timeout waiting for " + marker + b"\n")
            return False
        conn.settimeout(left)
        try:
            data = conn.recv(4096)
        except socket.timeout:
            continue
        if not data:
            log.write(b"\nconsole_client: connection closed waiting for " + marker + b"\n")
            return False
        received += data
        log.write(data)
        log.flush()
    return True


try:
    conn, _ = srv.accept()
except socket.timeout:
    log.write(b"console_client: Bochs never connected\n")
    sys.exit(1)
steps = [
    (None, b"microhv L0 console: ready", 120),
    (b"s", b"microhv L0 console: end of statistics", 60),
    (b"d", b"microhv L0 console: end of dump", 60),
    (b"x", b"keys: s statistics, d vmcs01 dump, h help\r\n", 60),
]
for key, marker, seconds in steps:
    start = len(received)
    if key:
        conn.sendall(key)
    if not wait_for(conn, marker, seconds, start):
        sys.exit(1)
log.write(b"\nconsole_client: done\n")
log.flush()
# Stay connected until Bochs goes away, so it never writes to a closed socket.
conn.settimeout(150)
try:
    while True:
        data = conn.recv(4096)
        if not data:
            break
        log.write(data)
        log.flush()
except (socket.timeout, OSError):
    pass
conn.close()
