#!/usr/bin/env python3
"""pty_user.py TRANSCRIPT SCRIPT COMMAND [ARG...] - plays a user at a terminal.

Runs COMMAND on a new pseudo-terminal (its stdin, stdout and stderr), as
if typed in a terminal window, and types into it what SCRIPT says.  Each
line of SCRIPT is "SECONDS<TAB>TEXT-TO-WAIT-FOR<TAB>KEYS" (tab-separated):
it waits, at most SECONDS, for TEXT-TO-WAIT-FOR in what the terminal showed
since the previous step, then types KEYS: text followed by Enter (a CR),
"-" for nothing, or "^]" for Ctrl-] alone.  After the last step it reads
until COMMAND exits.  Everything shown goes to TRANSCRIPT; at the end it
adds "pty_user: script done" (or "pty_user: timeout waiting for ...") and
"pty_user: exit status N" (COMMAND's).  Exit status: 0 when every step's
text arrived, else 1 (COMMAND's process group is then sent SIGTERM).
"""
import os
import pty
import select
import signal
import sys
import time

transcript, script_file, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
steps = []
with open(script_file, encoding="utf-8") as f:
    for line in f:
        line = line.rstrip("\n")
        if line and not line.startswith("#"):
            secs, want, keys = line.split("\t")
            if keys == "-":
                typed = b""
            elif keys == "^]":
                typed = b"\x1d"
            else:
                typed = keys.encode() + b"\r"
            steps.append((float(secs), want.encode(), typed))

pid, fd = pty.fork()
if pid == 0:
    os.execvp(cmd[0], cmd)

log = open(transcript, "wb")
shown = b""
step, since = 0, 0
deadline = time.time() + steps[0][0] if steps else None
status = 0


def note(text):
    log.write(b"\npty_user: " + text.encode() + b"\n")
    log.flush()


while True:
    timeout = None if step >= len(steps) else max(0.0, deadline - time.time())
    ready, _, _ = select.select([fd], [], [], timeout)
    if ready:
        try:
            data = os.read(fd, 65536)
        except OSError:
            data = b""  # EIO: COMMAND and all it started closed the terminal
        if not data:
            break
        shown += data
        log.write(data)
        log.flush()
    while step < len(steps) and steps[step][1] in shown[since:]:
        since = shown.index(steps[step][1], since) + len(steps[step][1])
        os.write(fd, steps[step][2])
        step += 1
        if step < len(steps):
            deadline = time.time() + steps[step][0]
        else:
            note("script done")
    if step < len(steps) and time.time() >= deadline:
        note("timeout waiting for %r (step %d)" % (steps[step][1].decode(), step + 1))
        status = 1
        os.killpg(pid, signal.SIGTERM)  # pty.fork's child leads a session
        deadline = float("inf")  # read on until it has gone
        step = len(steps)
if step < len(steps) and status == 0:
    note("the terminal closed before %r arrived (step %d)" % (steps[step][1].decode(), step + 1))
    status = 1
_, wstatus = os.waitpid(pid, 0)
note("exit status %d" % os.waitstatus_to_exitcode(wstatus))
log.close()
sys.exit(status)
