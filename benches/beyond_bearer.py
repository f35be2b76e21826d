"""What DPoP and introspection cost (issue 26), each against what it replaces, in alternating rounds on
loopback, release builds, driven by wrk (the helpers of `load.py`):

1. The proof's cost: `GET /users/me/items/` on one demo (`--dpop allowed`, users in memory), with a bearer token
   against a DPoP-bound token with a new proof every request (as a real client must send: the server refuses a
   proof it has seen). The token itself is remembered (the token cache) in both; the DPoP requests also verify
   an ES256 proof, hash the token for `ath`, and remember the proof's `jti`. The proofs are made just before
   each round (`demo/examples/dpop_proofs`), more than the round can send.
2. Introspection with a warm cache against local verification: the demo in issuer mode for node's
   `oidc-provider`, one verifying its RS256 JWTs here (with the token cache, as it ships, and without it,
   `--token-cache-bytes 0`), one introspecting its opaque tokens (`--introspection-client-id`), whose answer is
   remembered after the first request.

`SERVER_CPU`/`CLIENT_CPU` pin the servers and wrk as in `load.py`. Run through `scripts/beyond-bearer-bench`.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import load  # noqa: E402

ROUNDS = int(os.environ.get("ROUNDS", "8"))
DURATION_S = int(os.environ.get("DURATION_S", "3"))
RELEASE = os.path.join(os.environ.get("CARGO_TARGET_DIR", "target"), "release")
PROVIDER_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "provider")
AUDIENCE = "http://127.0.0.1/api"
ITEMS = "/users/me/items/"


def ratio_summary(results, numerator, denominator):
    ratios = [n["rps"] / d["rps"] for n, d in zip(results[numerator], results[denominator])]
    return statistics.median(ratios), min(ratios), max(ratios)


def report(title, results, pairs):
    print(f"\n{title} ({ROUNDS} rounds of {DURATION_S} s, {load.CONNECTIONS} connections; medians):")
    for name, runs in results.items():
        print(f"  {name:28}: {statistics.median(r['rps'] for r in runs):9.0f} req/s  "
              f"p50 {statistics.median(r['p50'] for r in runs):.3f} ms  p99 {statistics.median(r['p99'] for r in runs):.3f} ms")
    for numerator, denominator in pairs:
        mid, low, high = ratio_summary(results, numerator, denominator)
        print(f"  {numerator} / {denominator}: {mid:.3f}x ({low:.3f}x to {high:.3f}x)")


def proofs_script(url, count):
    """A wrk script sending a DPoP-bound token with a new proof each request, and the files to remove."""
    proofs = tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False)
    env = dict(os.environ, DEMO_SECRET_KEY=load.SECRET)
    subprocess.run([os.path.join(RELEASE, "examples", "dpop_proofs"), url, str(count)], env=env, stdout=proofs, check=True)
    proofs.close()
    lua = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    lua.write(f"""
local proofs = {{}}
for line in io.lines("{proofs.name}") do proofs[#proofs + 1] = line end
local token = table.remove(proofs, 1)
local sent = 0
request = function()
  sent = sent + 1
  return wrk.format("GET", nil, {{["Authorization"] = "DPoP " .. token, ["DPoP"] = proofs[sent]}})
end
""")
    lua.close()
    return lua.name, proofs.name


def dpop_against_bearer():
    demo, base = load.start([os.path.join(RELEASE, "demo"), "--bind", "127.0.0.1:0", "--dpop", "allowed"])
    try:
        bearer = f"Authorization: Bearer {load.token()}"
        warm = load.wrk(f"{base}{ITEMS}", [bearer], duration="2s")
        # Enough proofs for a round at the bearer token's pace, which DPoP requests do not exceed.
        count = int(warm["rps"] * DURATION_S * 1.5) + 1000
        results = {"bearer": [], "DPoP (a new proof each request)": []}
        for round_number in range(1, ROUNDS + 1):
            order = ["bearer", "dpop"] if round_number % 2 else ["dpop", "bearer"]
            for kind in order:
                if kind == "bearer":
                    result = load.wrk(f"{base}{ITEMS}", [bearer], duration=f"{DURATION_S}s")
                    results["bearer"].append(result)
                else:
                    script, proofs = proofs_script(f"{base}{ITEMS}", count)
                    result = load.wrk(f"{base}{ITEMS}", duration=f"{DURATION_S}s", script=script)
                    os.unlink(script)
                    os.unlink(proofs)
                    results["DPoP (a new proof each request)"].append(result)
                print(f"round {round_number} {kind:6}: {result['rps']:9.0f} req/s")
        report("GET /users/me/items/, bearer against DPoP-bound", results, [("DPoP (a new proof each request)", "bearer")])
    finally:
        demo.kill()


def provider_post(issuer, path, form, auth=None):
    request = urllib.request.Request(f"{issuer}{path}", data=urllib.parse.urlencode(form).encode(), method="POST")
    if auth:
        import base64
        request.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def provider_token(issuer, alg):
    form = {"grant_type": "client_credentials", "client_id": "johndoe", "client_secret": "johndoe-secret",
            "scope": "me items", "resource": AUDIENCE, "token_alg": alg}
    return provider_post(issuer, "/token", form)["access_token"]


def introspection_against_local():
    keys = subprocess.run(["node", "provider.js", "generate", "r1:RS256"], cwd=PROVIDER_DIR, check=True,
                          capture_output=True, text=True).stdout
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as keys_file:
        keys_file.write(keys)
    provider = subprocess.Popen(["node", "provider.js", "--keys", keys_file.name, "--audience", AUDIENCE],
                                cwd=PROVIDER_DIR, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    issuer = json.loads(provider.stdout.readline())["issuer"]
    demo = os.path.join(RELEASE, "demo")
    common = ["--bind", "127.0.0.1:0", "--issuer", issuer, "--audience", AUDIENCE]
    servers = {
        "local JWT, token cache": load.start([demo] + common),
        "local JWT, verified each time": load.start([demo] + common + ["--token-cache-bytes", "0"]),
    }
    # The secret goes in the environment, as the demo asks of secrets, for this server alone (the demo
    # refuses a secret without its client id).
    os.environ["DEMO_INTROSPECTION_CLIENT_SECRET"] = "api-secret"
    servers["introspection, warm cache"] = load.start(
        [demo] + common + ["--introspection-client-id", "api", "--introspection-cache-secs", "3600"])
    del os.environ["DEMO_INTROSPECTION_CLIENT_SECRET"]
    try:
        jwt, opaque = provider_token(issuer, "RS256"), provider_token(issuer, "opaque")
        tokens = {name: (opaque if name.startswith("introspection") else jwt) for name in servers}
        for name, (_, base) in servers.items():
            load.wrk(f"{base}{ITEMS}", [f"Authorization: Bearer {tokens[name]}"], duration="2s")
        results = {name: [] for name in servers}
        names = list(servers)
        for round_number in range(1, ROUNDS + 1):
            for name in names if round_number % 2 else reversed(names):
                result = load.wrk(f"{servers[name][1]}{ITEMS}", [f"Authorization: Bearer {tokens[name]}"],
                                  duration=f"{DURATION_S}s")
                results[name].append(result)
                print(f"round {round_number} {name:30}: {result['rps']:9.0f} req/s")
        with urllib.request.urlopen(f"{issuer}/__stats") as response:
            introspections = json.load(response)["introspections"]
        report("GET /users/me/items/ in issuer mode (oidc-provider), introspection against local verification",
               results, [("introspection, warm cache", "local JWT, token cache"),
                         ("introspection, warm cache", "local JWT, verified each time")])
        print(f"  introspection calls at the provider over the whole run: {introspections}")
    finally:
        for process, _ in servers.values():
            process.kill()
        provider.kill()
        os.unlink(keys_file.name)


if __name__ == "__main__":
    which = sys.argv[1] if len(sys.argv) > 1 else "all"
    if which in ("all", "dpop"):
        dpop_against_bearer()
    if which in ("all", "introspection"):
        introspection_against_local()
