#!/usr/bin/env python3
"""Replays etcd_cases.txt against a real etcd 3.4 (--enable-v2) on loopback and writes the
answers to etcd_golden.txt, which store_golden_test.cpp replays against uetcd::store::tree.

Usage: python3 capture_etcd.py [etcd binary]   (starts and stops its own etcd; ports 24921/2)

Case lines:  REQ <METHOD> <path?query>   one /v2/keys request (or STATS)
             WATCH <name> <path?query>   a watch in the background;  COLLECT <name>
             SLEEP <seconds> / EXPIRE    time passes; the test applies expire(now) there
             REPEAT <n> <METHOD> <path?query>   n requests, answers not recorded
Answer lines: RES <status> <X-Etcd-Index> <body>;  "expiration" values become "<T>".
Each directive line gets " @<ms>": when it was sent, in ms since the first one, so the test
can give the tree the same clock (ttl values) and run SYNC every 500 ms as etcd's leader.
"""
import os, re, shutil, signal, socket, subprocess, sys, tempfile, threading, time
import http.client

PORT, PEER = 24921, 24922
HERE = os.path.dirname(os.path.abspath(__file__))


def request(method, target, timeout=5):
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=timeout)
    path = "/v2/stats/store" if target == "STATS" else "/v2/keys" + target
    conn.request(method, path)
    resp = conn.getresponse()
    body = resp.read().decode()
    conn.close()
    return resp.status, resp.getheader("X-Etcd-Index") or "-", body


def normalise(body):
    return re.sub(r'"expiration":"[^"]*"', '"expiration":"<T>"', body)


class Watch:
    def __init__(self, target):
        self.lines, self.status, self.index = [], None, None
        self.conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        self.conn.request("GET", "/v2/keys" + target)
        self.resp = self.conn.getresponse()
        self.status, self.index = self.resp.status, self.resp.getheader("X-Etcd-Index")
        self.thread = threading.Thread(target=self.read, daemon=True)
        self.thread.start()

    def read(self):
        try:
            while True:
                line = self.resp.readline()
                if not line:
                    return
                if line.strip() and not line.strip().isalnum():
                    self.lines.append(line.decode().strip())
        except Exception:
            return


def main():
    etcd = sys.argv[1] if len(sys.argv) > 1 else "/usr/bin/etcd"
    data = tempfile.mkdtemp(prefix="uetcd-store-golden-")
    proc = subprocess.Popen([etcd, "--enable-v2", "--data-dir", data + "/d",
        "--listen-client-urls", f"http://127.0.0.1:{PORT}",
        "--advertise-client-urls", f"http://127.0.0.1:{PORT}",
        "--listen-peer-urls", f"http://127.0.0.1:{PEER}",
        "--initial-advertise-peer-urls", f"http://127.0.0.1:{PEER}",
        "--initial-cluster", f"default=http://127.0.0.1:{PEER}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out = []
    watches = {}
    try:
        for _ in range(100):
            try:
                request("GET", "/")
                break
            except OSError:
                time.sleep(0.1)
        start = time.time()
        for raw in open(os.path.join(HERE, "etcd_cases.txt")):
            line = raw.rstrip("\n")
            if not line or line.startswith("#"):
                out.append(line)
                continue
            out.append(f"{line} @{int((time.time() - start) * 1000)}")
            words = line.split(" ")
            if words[0] == "REQ":
                try:
                    status, index, body = request(words[1], words[2], timeout=3)
                    out.append(f"RES {status} {index} {normalise(body.rstrip(chr(10)))}")
                except TimeoutError:
                    out.append("RES timeout")
            elif words[0] == "REPEAT":
                for _ in range(int(words[1])):
                    request(words[2], words[3])
            elif words[0] == "WATCH":
                watches[words[1]] = Watch(words[2])
                time.sleep(0.2)
            elif words[0] == "COLLECT":
                time.sleep(0.4)
                w = watches.pop(words[1])
                out.append(f"WRES {w.status} {w.index} {len(w.lines)}")
                out.extend("EV " + normalise(l) for l in w.lines)
                w.conn.close()
            elif words[0] == "SLEEP":
                time.sleep(float(words[1]))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
        shutil.rmtree(data, ignore_errors=True)
    with open(os.path.join(HERE, "etcd_golden.txt"), "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
