#!/usr/bin/env python3
"""wxpay against its peers, in one run, on one sandbox.

Starts one `wxpay sandbox` (release build) in its own process, seeds it
(one coupon stock, started once with the seed call, and one Native order),
then drives it with each client in alternation (A B C D, A B C D, ...), at
1 and at 16 requests in flight:

  wxpay          `wxpay bench --json` (release), aws-lc-rs backend
  wxpay-rsa      the same, RustCrypto backend (`--backend rust-crypto`)
  node           wechatpay-axios-plugin 0.9.6 (perf/node, pinned with a lockfile)
  python         wechatpayv3 2.0.4 (perf/python, pinned; installed into a venv)

Each client sends the same repeatable mix of signed GETs, each answer
verified: the stock query, the order query by out_trade_no, and the stock
list (the seed call itself, POST .../stocks/{id}/start, succeeds only once
per stock, so it seeds and is not repeated).

Per client and concurrency it prints the median over the rounds of:
throughput (requests/s), client CPU per request (the client's own
user + system time over the measured requests, warm-up excluded), peak
memory (the client process's peak RSS, from wait4's ru_maxrss) and latency,
each also as a ratio to the Node library; and the sandbox's own CPU per
request served during that client's run (warm-up included), which shows
when the server, not the client, is what limits the throughput.

    perf/compare.py [--requests 2000] [--rounds 3] [--pin] [--out perf/results/DATE.txt]

With --pin (Linux), the sandbox runs on the first CPU and every client on
the others, so the server's signing does not take CPU from the client under
test (and the clients' thread pools size themselves to the CPUs they get).

Needs cargo, node 18+ with npm, python 3.9+ (the venv and npm install are
made on first use: network).
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def log(text):
    print(text, file=sys.stderr, flush=True)


def uptime():
    try:
        with open("/proc/loadavg", encoding="ascii") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def wxpay_binary(args):
    if args.wxpay_bin:
        return Path(args.wxpay_bin)
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    if not target.is_absolute():
        target = ROOT / target
    log("building wxpay (release)...")
    subprocess.run(["cargo", "build", "--release", "--locked", "-p", "wxpay-cli"], cwd=ROOT, check=True)
    return target / "release" / "wxpay"


def node_ready():
    node = HERE / "node"
    if not (node / "node_modules" / "wechatpay-axios-plugin").exists():
        log("installing perf/node (npm ci)...")
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=node, check=True)
    return ["node", str(node / "driver.js")]


def python_ready():
    venv = HERE / "python" / ".venv"
    python = venv / "bin" / "python"
    if not python.exists():
        log("making perf/python/.venv (pip install -r requirements.txt)...")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "-r",
                        str(HERE / "python" / "requirements.txt")], check=True)
    return [str(python), str(HERE / "python" / "driver.py")]


def cpu_seconds(pid):
    """User + system CPU time a running process has used so far (Linux /proc)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")


def pinned(cpus):
    """A preexec_fn that moves the child onto `cpus` (None: no pinning)."""
    if not cpus:
        return None
    return lambda: os.sched_setaffinity(0, cpus)


def start_sandbox(wxpay, state, cpus=None):
    log_path = state.parent / "sandbox.log"
    out = open(log_path, "w", encoding="utf-8")
    process = subprocess.Popen([str(wxpay), "sandbox", "--addr", "127.0.0.1:0", "--state", str(state)],
                               stdout=out, stderr=subprocess.STDOUT, preexec_fn=pinned(cpus))
    for _ in range(600):
        text = log_path.read_text(encoding="utf-8")
        if "wxpay sandbox listening on " in text:
            break
        if process.poll() is not None:
            sys.exit(f"error: the sandbox exited:\n{text}")
        time.sleep(0.1)
    else:
        process.kill()
        sys.exit("error: the sandbox did not start within 60 s")
    env = dict(os.environ)
    for line in (state / "sandbox.env").read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            key, value = line.split("=", 1)
            env[key.strip()] = value.strip().strip("'\"")
    return process, env


def wxpay_request(wxpay, env, method, target, data=None):
    command = [str(wxpay), "request", method, target]
    if data is not None:
        command += ["--data", json.dumps(data)]
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"error: seeding {method} {target} failed:\n{result.stderr}")
    return json.loads(result.stdout) if result.stdout.strip() else {}


def seed(wxpay, env):
    """One stock (created, then started with the seed call) and one order."""
    mchid = env["WXPAY_MCHID"]
    run = f"{int(time.time())}"
    stock = wxpay_request(wxpay, env, "POST", "/v3/marketing/favor/coupon-stocks", {
        "stock_name": "bench", "comment": "bench", "belong_merchant": mchid,
        "available_begin_time": "2030-01-01T00:00:00+08:00",
        "available_end_time": "2030-01-31T23:59:59+08:00",
        "stock_use_rule": {"max_coupons": 100, "max_amount": 10000, "max_coupons_per_user": 1,
                           "natural_person_limit": False, "prevent_api_abuse": False},
        "pattern_info": {"description": "bench", "background_color": "Color020"},
        "coupon_use_rule": {
            "coupon_available_time": {"fix_available_time": {
                "available_week_day": [1, 2, 3], "begin_time": 0, "end_time": 3600}},
            "fixed_normal_coupon": {"coupon_amount": 100, "transaction_minimum": 100},
            "goods_tag": ["123321"], "trade_type": ["MICROAPP"], "available_merchants": [mchid]},
        "no_cash": False, "stock_type": "NORMAL", "out_request_no": f"bench{run}",
    })
    stock_id = stock["stock_id"]
    wxpay_request(wxpay, env, "POST", f"/v3/marketing/favor/stocks/{stock_id}/start",
                  {"stock_creator_mchid": mchid})
    out_trade_no = f"bench{run}"
    wxpay_request(wxpay, env, "POST", "/v3/pay/transactions/native", {
        "appid": "wxd678efh567hg6787", "mchid": mchid, "description": "bench",
        "out_trade_no": out_trade_no, "notify_url": "https://www.weixin.qq.com/wxpay/pay.php",
        "amount": {"total": 1, "currency": "CNY"},
    })
    return [
        f"/v3/marketing/favor/stocks/{stock_id}?stock_creator_mchid={{mchid}}",
        f"/v3/pay/transactions/out-trade-no/{out_trade_no}?mchid={{mchid}}",
        "/v3/marketing/favor/stocks?offset=0&limit=10&stock_creator_mchid={mchid}",
    ]


def run_client(command, env, cpus=None):
    """Runs one driver; returns its JSON and its rusage (wait4)."""
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               preexec_fn=pinned(cpus))
    stdout = process.stdout.read()
    stderr = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        sys.exit(f"error: {' '.join(command[:3])} failed ({process.returncode}):\n{stderr.decode()}")
    report = json.loads(stdout.decode().strip().splitlines()[-1])
    report["wait4_maxrss_kib"] = usage.ru_maxrss
    report["wait4_cpu_s"] = usage.ru_utime + usage.ru_stime
    return report


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000, help="measured requests per run")
    parser.add_argument("--warmup", type=int, default=100, help="unmeasured requests first, per run")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (A B C D per round)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--clients", nargs="+", default=["wxpay", "wxpay-rsa", "node", "python"])
    parser.add_argument("--wxpay-bin", help="a release wxpay binary (else cargo build --release)")
    parser.add_argument("--out", help="also write the table to this file")
    parser.add_argument("--pin", action="store_true",
                        help="sandbox on the first CPU, clients on the rest (Linux; needs 2+ CPUs)")
    args = parser.parse_args()

    server_cpus = client_cpus = None
    if args.pin:
        available = sorted(os.sched_getaffinity(0))
        if len(available) < 2:
            sys.exit("error: --pin needs at least 2 CPUs (one for the sandbox, the rest for the clients)")
        server_cpus, client_cpus = {available[0]}, set(available[1:])

    wxpay = wxpay_binary(args)
    drivers = {
        "wxpay": lambda: [str(wxpay), "bench", "--json"],
        "wxpay-rsa": lambda: [str(wxpay), "bench", "--json", "--backend", "rust-crypto"],
        "node": node_ready,
        "python": python_ready,
    }
    commands = {name: drivers[name]() for name in args.clients}

    tmp = Path(tempfile.mkdtemp(prefix="wxpay-compare."))
    sandbox, env = start_sandbox(wxpay, tmp / "state", server_cpus)
    lines = []
    try:
        targets = seed(wxpay, env)
        results = {}
        load = [uptime()]
        for concurrency in args.concurrency:
            for round_ in range(args.rounds):
                for name in args.clients:
                    common = ["--requests", str(args.requests), "--concurrency", str(concurrency),
                              "--warmup", str(args.warmup), "GET", *targets]
                    before = cpu_seconds(sandbox.pid)
                    report = run_client(commands[name] + common, env, client_cpus)
                    served = args.requests + args.warmup
                    report["sandbox_cpu_ms_per_request"] = (cpu_seconds(sandbox.pid) - before) * 1000 / served
                    results.setdefault((name, concurrency), []).append(report)
                    failed = report["requests"] - report["ok"]
                    log(f"round {round_ + 1} c={concurrency} {name:10} {report['requests_per_s']:8.1f}/s "
                        f"cpu {report['cpu_ms_per_request']:.3f} ms/req rss {report['wait4_maxrss_kib'] / 1024:.1f} MiB"
                        f" sandbox cpu {report['sandbox_cpu_ms_per_request']:.3f} ms/req"
                        f" p50 {report['latency_ms']['p50']:.2f} p99 {report['latency_ms']['p99']:.2f}"
                        f"{f' ERRORS {failed}: ' + json.dumps(report['errors']) if failed else ''}  load {uptime()}")
            load.append(uptime())
    finally:
        sandbox.terminate()
        sandbox.wait()
        shutil.rmtree(tmp, ignore_errors=True)

    def median(name, concurrency, key):
        return statistics.median(key(r) for r in results[(name, concurrency)])

    metrics = [
        ("req/s", lambda r: r["requests_per_s"], "{:.0f}"),
        ("CPU ms/req", lambda r: r["cpu_ms_per_request"], "{:.3f}"),
        ("peak RSS MiB", lambda r: r["wait4_maxrss_kib"] / 1024, "{:.1f}"),
        ("p50 ms", lambda r: r["latency_ms"]["p50"], "{:.2f}"),
        ("p99 ms", lambda r: r["latency_ms"]["p99"], "{:.2f}"),
        ("sandbox ms/req", lambda r: r["sandbox_cpu_ms_per_request"], "{:.3f}"),
    ]
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines.append(f"wxpay vs peers, one sandbox, {now}; {os.cpu_count()} CPUs; load average (1/5/15 min) "
                 f"before and after each concurrency: {' | '.join(load)}")
    lines.append(f"command: perf/compare.py {' '.join(sys.argv[1:])}")
    if args.pin:
        lines.append(f"pinned: sandbox on CPU {sorted(server_cpus)}, clients on CPUs {sorted(client_cpus)}")
    lines.append(f"mix (GET, in turn): {', '.join(targets)}")
    lines.append(f"{args.requests} measured requests per run after {args.warmup} warm-up, {args.rounds} "
                 f"alternating rounds, median shown; ratio = client / node")
    errors = {k: sum(r["requests"] - r["ok"] for r in v) for k, v in results.items()}
    lines.append(f"failed requests: {sum(errors.values())}")
    lines.append("")
    header = f"{'client':12} {'in flight':>9} " + " ".join(f"{m[0]:>14} {'ratio':>6}" for m in metrics)
    lines.append(header)
    lines.append("-" * len(header))
    for concurrency in args.concurrency:
        for name in args.clients:
            cells = []
            for label, key, fmt in metrics:
                value = median(name, concurrency, key)
                cell = fmt.format(value)
                if "node" in args.clients:
                    base = median("node", concurrency, key)
                    ratio = f"{value / base:.2f}x" if base else "-"
                else:
                    ratio = "-"
                cells.append(f"{cell:>14} {ratio:>6}")
            lines.append(f"{name:12} {concurrency:>9} " + " ".join(cells))
    text = "\n".join(lines)
    print(text)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text + "\n", encoding="utf-8")
        raw = Path(args.out).with_suffix(".json")
        raw.write_text(json.dumps({f"{k[0]}@{k[1]}": v for k, v in results.items()}, indent=1) + "\n",
                       encoding="utf-8")


if __name__ == "__main__":
    main()
