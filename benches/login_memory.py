"""Login memory benchmark: the demo's peak resident memory (VmHWM) under waves of concurrent logins from
distinct client addresses, against the release build as it ships (SQLite in a temporary directory).

Each wave opens WAVE_SIZE connections at once, each bound to its own loopback address (127.0.W.N), and posts
johndoe's login on each; the waves follow one another. Logins beyond what the password-check queue admits
are answered 503 at once: the point is the memory the checks that run take, however many arrive.

Run through `scripts/login-memory-bench`, which builds the binary. WAVES, WAVE_SIZE and PASSWORD_CHECKS tune it;
DEMO_BINARY runs another build (an earlier commit's, to compare).
"""

import http.client
import os
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter

sys.path.insert(0, os.path.dirname(__file__))
from load import memory_mib, start  # noqa: E402

WAVES = int(os.environ.get("WAVES", "3"))
WAVE_SIZE = int(os.environ.get("WAVE_SIZE", "200"))
PASSWORD_CHECKS = os.environ.get("PASSWORD_CHECKS")


def login(host, port, source, statuses, barrier):
    body = urllib.parse.urlencode({"username": "johndoe", "password": "secret", "scope": "me"})
    try:
        connection = http.client.HTTPConnection(host, port, timeout=60, source_address=(source, 0))
        connection.connect()
        barrier.wait()
        connection.request("POST", "/token", body, {"Content-Type": "application/x-www-form-urlencoded"})
        statuses[connection.getresponse().status] += 1
        connection.close()
    except Exception as error:  # noqa: BLE001 - counted, not fatal
        statuses[type(error).__name__] += 1


def main():
    binary = os.environ.get("DEMO_BINARY") or os.path.join(os.environ.get("CARGO_TARGET_DIR", "target"), "release", "demo")
    with tempfile.TemporaryDirectory() as directory:
        command = [binary, "--bind", "127.0.0.1:0"] + (["--password-checks", PASSWORD_CHECKS] if PASSWORD_CHECKS else [])
        process, base = start(command, database=f"sqlite://{os.path.join(directory, 'demo.db')}")
        address = urllib.parse.urlsplit(base)
        host, port = address.hostname, address.port
        try:
            # The first login turns johndoe's bcrypt hash into an Argon2id one, as in service.
            threads = []
            statuses = Counter()
            warm = threading.Barrier(1)
            login(host, port, "127.0.0.1", statuses, warm)
            print(f"after start and one login: VmRSS {memory_mib(process.pid, 'VmRSS'):.1f} MiB")
            for wave in range(WAVES):
                statuses = Counter()
                barrier = threading.Barrier(WAVE_SIZE)
                threads = [
                    threading.Thread(target=login, args=(host, port, f"127.0.{wave + 10}.{n + 1}", statuses, barrier))
                    for n in range(WAVE_SIZE)
                ]
                started = time.time()
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                print(
                    f"wave {wave + 1}: {WAVE_SIZE} logins at once from {WAVE_SIZE} addresses in "
                    f"{time.time() - started:.1f} s, answers {dict(statuses)}; "
                    f"VmRSS {memory_mib(process.pid, 'VmRSS'):.1f} MiB"
                )
            print(f"peak RSS (VmHWM): {memory_mib(process.pid, 'VmHWM'):.1f} MiB")
        finally:
            process.kill()
            process.wait()


if __name__ == "__main__":
    main()
