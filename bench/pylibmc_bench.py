# Runs one scenario with pylibmc (Debian's python3-pylibmc, under
# /usr/bin/python3) and prints {"ops": N, "rssMiB": M}. pylibmc is
# synchronous: it has no "in flight" scenario.
#
# Usage: /usr/bin/python3 pylibmc_bench.py SERVER SCENARIO SECONDS
import json, re, sys, time
import pylibmc

server, scenario, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
mc = pylibmc.Client([server], behaviors={"tcp_nodelay": True})
keys = ["bench:%d" % i for i in range(1000)]
small = "v" * 100
# Only the large-value scenarios hold a large value (see client.ts).
big = "x" * {"64k": 64 * 1024, "1m": 1024 * 1024 - 1024}.get(scenario, 0)
state = {"i": 0}

def work():
    i = state["i"]
    state["i"] = i + 100
    if scenario == "sequential":
        key = keys[i % 1000]
        mc.set(key, small)
        mc.get(key)
        return 2
    if scenario == "multi":
        start = i % 900
        mc.get_multi(keys[start:start + 100])
        return 100
    mc.set("bench:big", big)
    mc.get("bench:big")
    return 2

if scenario == "inflight":
    print(json.dumps({"ops": None, "rssMiB": None}))
    sys.exit(0)
warm = time.perf_counter() + 0.2
while time.perf_counter() < warm:
    work()
count = 0
started = time.perf_counter()
until = started + seconds
while time.perf_counter() < until:
    count += work()
ops = count / (time.perf_counter() - started)
peak = int(re.search(r"VmHWM:\s+(\d+)", open("/proc/self/status").read()).group(1))
print(json.dumps({"ops": ops, "rssMiB": round(peak / 1024)}))
