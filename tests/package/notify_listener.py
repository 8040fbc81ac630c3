#!/usr/bin/env python3
"""The receiving end of sd_notify for the package test, as systemd is for a
Type=notify unit: binds the abstract AF_UNIX datagram socket @NAME and
appends one line "PID MESSAGE" per datagram to FILE (PID from the
sender's credentials, newlines in MESSAGE as spaces). Runs until killed.

  notify_listener.py NAME FILE
"""
import socket
import struct
import sys


def main():
    name, path = sys.argv[1], sys.argv[2]
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
    sock.bind("\0" + name)
    with open(path, "a", buffering=1) as out:
        out.write("0 listening\n")
        while True:
            data, anc, _, _ = sock.recvmsg(4096, socket.CMSG_SPACE(12))
            pid = 0
            for level, kind, value in anc:
                if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                    pid = struct.unpack("iII", value[:12])[0]
            text = data.decode(errors="replace").strip().replace("\n", " ")
            out.write(f"{pid} {text}\n")


if __name__ == "__main__":
    main()
