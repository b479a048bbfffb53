#!/usr/bin/env python3
"""serial_term.py --port-file F --log L [--accept-seconds N]

The terminal end of an emulated serial port (tools/bochs.sh's "tty" mode):
listens on a free localhost port (written to F) for Bochs's COM1
(com1: mode=socket-client), then relays

  * everything the guest sends to the log L (as received: CRs and
    terminal escapes included) and to stdout (without the firmware's
    clear-screen sequences, so what was on the terminal stays), and
  * stdin to the guest: on a terminal in raw mode (Ctrl-C, Ctrl-D, arrows
    go to the guest, not to this program), byte by byte.

Ctrl-] on a terminal ends it (and tools/bochs.sh then kills Bochs); so does
the guest side closing (Bochs exited).  A stdin that is no terminal is
relayed until its end, then only the guest's output is, except that with
SERIAL_TERM_AT_EOF="TEXT" and SERIAL_TERM_PROMPT="P" in the environment,
TEXT (a newline added) is typed once the guest has printed P after that
end (make run without a terminal: the demo, then poweroff).  The terminal's
settings are restored however it ends.  Exit status: 0 when the port
closed, 3 after Ctrl-], 1 when Bochs never connected.
"""
import argparse
import os
import select
import signal
import socket
import sys
import termios
import tty

EXIT_KEY = b"\x1d"  # Ctrl-]
CLEAR = b"\x1b[2J"  # erase the whole screen

ap = argparse.ArgumentParser()
ap.add_argument("--port-file", required=True)
ap.add_argument("--log", required=True)
ap.add_argument("--accept-seconds", type=float, default=120)
args = ap.parse_args()

srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(1)
with open(args.port_file + ".tmp", "w") as f:
    f.write(str(srv.getsockname()[1]))
os.rename(args.port_file + ".tmp", args.port_file)

log = open(args.log, "wb")
# tools/bochs.sh ends it with SIGTERM when Bochs exits first: restore the
# terminal (the finally below) on the way out.
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
signal.signal(signal.SIGHUP, lambda *_: sys.exit(0))


def note(text):
    log.write(b"\r\nserial_term: " + text.encode() + b"\r\n")
    log.flush()


srv.settimeout(args.accept_seconds)
try:
    conn, _ = srv.accept()
except socket.timeout:
    note("Bochs never connected")
    sys.exit(1)
srv.close()

out = sys.stdout.buffer
stdin_fd = sys.stdin.fileno()
saved = None
if os.isatty(stdin_fd):
    saved = termios.tcgetattr(stdin_fd)
    tty.setraw(stdin_fd)

status = 0
held = b""
# make run without a terminal (stdin piped or /dev/null): what to type once
# stdin has ended and the guest's shell prompt appears.
at_eof = os.environ.get("SERIAL_TERM_AT_EOF", "").encode()
prompt = os.environ.get("SERIAL_TERM_PROMPT", "").encode()
stdin_ended = False
recent = b""

try:
    while True:
        fds = [conn]
        if stdin_fd is not None:
            fds.append(stdin_fd)
        ready, _, _ = select.select(fds, [], [])
        if conn in ready:
            try:
                data = conn.recv(65536)
            except OSError:
                data = b""
            if not data:
                break  # Bochs closed the port: it exited
            log.write(data)
            log.flush()
            # Not OVMF's clear-screen: the terminal keeps what make run
            # printed before (how to leave) in view.  The sequence may come
            # split (the UART sends byte by byte): a tail that may begin
            # one waits for the next bytes.
            data = (held + data).replace(CLEAR, b"")
            held = b""
            for k in range(len(CLEAR) - 1, 0, -1):
                if data.endswith(CLEAR[:k]):
                    data, held = data[:-k], data[-k:]
                    break
            out.write(data)
            out.flush()
            recent = (recent + data)[-256:]
            if stdin_ended and at_eof and prompt and prompt in recent:
                note("stdin ended: typing " + at_eof.decode())
                conn.sendall(at_eof + b"\n")
                at_eof = b""
        if stdin_fd is not None and stdin_fd in ready:
            try:
                data = os.read(stdin_fd, 1024)
            except OSError:
                data = b""  # the terminal hung up
            if not data:
                stdin_fd = None  # end of a piped stdin: keep showing output
                stdin_ended = saved is None
                recent = b""
            elif saved is not None and EXIT_KEY in data:
                data = data[: data.index(EXIT_KEY)]
                if data:
                    conn.sendall(data)
                note("Ctrl-] pressed: leaving")
                status = 3
                break
            else:
                conn.sendall(data)
finally:
    if saved is not None:
        termios.tcsetattr(sys.stdin.fileno(), termios.TCSADRAIN, saved)
    log.close()
sys.exit(status)
