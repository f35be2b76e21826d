"""Instructions per request, function by function, of two builds of `demo/examples/requests`: where one build
spends more per request than the other. What `scripts/instruction-bench` counts as a whole, this splits up.

Each binary serves FEW and then MANY requests under callgrind; a function's self cost over MANY minus over
FEW, divided by MANY - FEW, is its cost per request (start-up cancels out). Functions are matched by their
demangled names with hashes and closure numbers left out, so builds of different commits compare.

    python3 benches/instruction_profile.py OLD_BINARY NEW_BINARY [demo|handwritten]

Prints both totals per request (which match the script's, and are the same whatever FEW and MANY are: the
workload is linear), then the functions whose cost differs most, and how much of the difference they make.
"""

import collections
import os
import re
import subprocess
import sys
import tempfile

FEW = int(os.environ.get("FEW", "1000"))
MANY = int(os.environ.get("MANY", "3000"))
TOP = int(os.environ.get("TOP", "25"))
# glibc's allocator: exact in what it is asked, but how much it consolidates varies from run to run.
ALLOCATOR = {"malloc", "free", "calloc", "realloc", "_int_malloc", "_int_free", "_int_realloc", "malloc_consolidate",
             "unlink_chunk.constprop.0", "tcache_init.part.0", "sysmalloc", "arena_get2", "alloc_new_heap"}


def self_costs(binary, router, requests):
    """Instructions by function (self cost) of `binary` serving `requests` requests."""
    with tempfile.TemporaryDirectory() as directory:
        out = os.path.join(directory, "callgrind.out")
        subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", binary, router, str(requests)],
                       check=True, capture_output=True)
        annotated = subprocess.run(["callgrind_annotate", "--inclusive=no", "--threshold=100", "--auto=no", out],
                                   check=True, capture_output=True, text=True).stdout
    costs = collections.Counter()
    for line in annotated.splitlines():
        match = re.match(r"\s*([\d,]+)\s+\([^)]*\)\s+(.*)", line)
        if not match or ":" not in match.group(2):
            continue
        function = match.group(2).split(":", 1)[1].split(" [", 1)[0]
        # Symbol hashes and closure numbers differ between builds of the same code.
        function = re.sub(r"::h[0-9a-f]{16}", "", function)
        function = re.sub(r"\{\{closure\}\}#\d+", "{{closure}}", function)
        costs[function] += int(match.group(1).replace(",", ""))
    return costs


def per_request(binary, router):
    few, many = self_costs(binary, router, FEW), self_costs(binary, router, MANY)
    return {name: (many[name] - few[name]) / (MANY - FEW) for name in set(few) | set(many)}


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    old_binary, new_binary = sys.argv[1], sys.argv[2]
    router = sys.argv[3] if len(sys.argv) > 3 else "demo"
    old, new = per_request(old_binary, router), per_request(new_binary, router)
    old_total, new_total = sum(old.values()), sum(new.values())
    print(f"{router}: {old_total:,.0f} -> {new_total:,.0f} instructions per request "
          f"({new_total - old_total:+,.0f}), FEW={FEW} MANY={MANY}")
    rust = [sum(cost for name, cost in side.items() if name not in ALLOCATOR) for side in (old, new)]
    print(f"  without glibc's allocator: {rust[0]:,.0f} -> {rust[1]:,.0f} ({rust[1] - rust[0]:+,.0f}); "
          f"the allocator: {old_total - rust[0]:,.0f} -> {new_total - rust[1]:,.0f}")
    differences = sorted(((new.get(name, 0) - old.get(name, 0), name) for name in set(old) | set(new)),
                         key=lambda pair: -abs(pair[0]))
    shown = 0.0
    for difference, name in differences[:TOP]:
        if abs(difference) < 1:
            break
        shown += difference
        print(f"{difference:+9.0f}  {old.get(name, 0):9.0f} -> {new.get(name, 0):9.0f}  {name[:140]}")
    print(f"the functions above: {shown:+,.0f} of {new_total - old_total:+,.0f}")


if __name__ == "__main__":
    main()
