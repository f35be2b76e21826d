"""Issuer-mode benchmark: the demo as a resource server (`--issuer`, keys by discovery) against the same
endpoint behind jwt-authorizer (benches/jwt-authorizer-peer, discovering the same provider), both release
builds on loopback, driven by wrk in alternating rounds with the same token, for RS256, ES256 and EdDSA.

The provider is node's oidc-provider (tests/provider), with one fresh key per algorithm. Each ratio is the
median of the rounds' demo / peer ratios. Run through `scripts/provider-bench`, which builds everything.

With `TOKENS=distinct`, every request carries a token the demo has not verified lately: a pool of `POOL`
(2000) tokens per algorithm, got from the provider, sent in turn, the demo's token cache bounded to 64 KiB
(about 60 tokens), so each lookup misses and each verified token evicts another: the cost of a miss. The
peer, which keeps no cache, gets the same tokens.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from load import peak_rss_mib, start, wrk  # noqa: E402

ROUNDS = int(os.environ.get("ROUNDS", "10"))
DURATION = os.environ.get("DURATION", "4s")
AUDIENCE = "https://api.example"
DISTINCT = os.environ.get("TOKENS") == "distinct"
POOL = int(os.environ.get("POOL", "2000"))
CYCLING = """
local tokens = {}
for line in io.lines("%s") do tokens[#tokens + 1] = line end
local next_token = 0
request = function()
  next_token = next_token %% #tokens + 1
  return wrk.format("GET", nil, {["Authorization"] = "Bearer " .. tokens[next_token]})
end
"""
ALGORITHMS = os.environ.get("ALGORITHMS", "RS256,ES256,EdDSA").split(",")
PROVIDER = os.path.join(os.path.dirname(__file__), "..", "tests", "provider")


def provider_token(issuer, alg):
    form = {"grant_type": "client_credentials", "client_id": "johndoe", "client_secret": "johndoe-secret",
            "scope": "me items", "resource": AUDIENCE, "token_alg": alg}
    with urllib.request.urlopen(f"{issuer}/token", data=urllib.parse.urlencode(form).encode()) as response:
        return json.load(response)["access_token"]


def main():
    release = os.path.join(os.environ["CARGO_TARGET_DIR"], "release")
    peer_binary = os.path.join(os.path.dirname(__file__), "..", "benches", "jwt-authorizer-peer", "target",
                               "release", "jwt-authorizer-peer")
    keys = subprocess.run(["node", "provider.js", "generate", "r1:RS256", "e1:ES256", "d1:EdDSA"], cwd=PROVIDER,
                          check=True, capture_output=True, text=True).stdout
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as keys_file:
        keys_file.write(keys)
    provider = subprocess.Popen(["node", "provider.js", "--keys", keys_file.name, "--audience", AUDIENCE],
                                cwd=PROVIDER, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    servers = []
    try:
        issuer = json.loads(provider.stdout.readline())["issuer"]
        # CACHE_BYTES=0 measures the same requests with no cache at all.
        small_cache = ["--token-cache-bytes", os.environ.get("CACHE_BYTES", "65536")] if DISTINCT else []
        demo, demo_url = start([os.path.join(release, "demo"), "--bind", "127.0.0.1:0", "--issuer", issuer,
                                "--audience", AUDIENCE] + small_cache)
        servers.append(demo)
        peer, peer_url = start([peer_binary, issuer, AUDIENCE])
        servers.append(peer)
        targets = [("demo", demo_url), ("peer", peer_url)]
        summary = []
        for alg in ALGORITHMS:
            bearer = [f"Authorization: Bearer {provider_token(issuer, alg)}"]
            script = None
            if DISTINCT:
                with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as pool:
                    pool.writelines(provider_token(issuer, alg) + "\n" for _ in range(POOL))
                with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
                    lua.write(CYCLING % pool.name)
                bearer, script = [], lua.name
            for _, url in targets:  # warm both up
                wrk(f"{url}/users/me/items/", bearer, duration="2s", script=script)
            results = {"demo": [], "peer": []}
            for round_number in range(1, ROUNDS + 1):
                for name, url in targets if round_number % 2 else reversed(targets):
                    result = wrk(f"{url}/users/me/items/", bearer, duration=DURATION, script=script)
                    results[name].append(result)
                    print(f"{alg} round {round_number} {name:5}: {result['rps']:9.0f} req/s  "
                          f"p50 {result['p50']:.3f} ms  p99 {result['p99']:.3f} ms", flush=True)
            ratios = [d["rps"] / p["rps"] for d, p in zip(results["demo"], results["peer"])]
            summary.append((alg, statistics.median(r["rps"] for r in results["demo"]),
                            statistics.median(r["rps"] for r in results["peer"]),
                            statistics.median(ratios), min(ratios), max(ratios)))
        tokens = f"a new token each ({POOL} in turn, the demo's cache 64 KiB)" if DISTINCT else "one token"
        print(f"\nGET /users/me/items/ in issuer mode, {tokens}, {ROUNDS} rounds of {DURATION} per algorithm (medians):")
        print("| algorithm | demo req/s | jwt-authorizer req/s | throughput demo/peer (range) |")
        print("|---|---|---|---|")
        for alg, demo_rps, peer_rps, ratio, low, high in summary:
            print(f"| {alg} | {demo_rps:.0f} | {peer_rps:.0f} | **{ratio:.3f}x** ({low:.3f}x to {high:.3f}x) |")
        print(f"peak RSS: demo {peak_rss_mib(demo.pid):.1f} MiB, peer {peak_rss_mib(peer.pid):.1f} MiB")
    finally:
        for server in servers:
            server.kill()
        provider.kill()
        os.unlink(keys_file.name)


if __name__ == "__main__":
    main()
