#!/usr/bin/env python3
"""notify_socket.py — stands in for systemd's notification socket in tests.

    python3 notify_socket.py PATH

Binds a unix datagram socket at PATH (what a service finds in NOTIFY_SOCKET),
prints "bound" once it can receive, then each datagram it receives as one
JSON line {"message": TEXT}. Runs until it is killed. Node has no unix
datagram sockets, hence this helper.
"""
import json
import os
import socket
import sys

path = sys.argv[1]
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
if os.path.exists(path):
    os.unlink(path)
sock.bind(path)
print("bound", flush=True)
while True:
    data = sock.recv(65536)
    print(json.dumps({"message": data.decode("utf-8", "replace")}), flush=True)
