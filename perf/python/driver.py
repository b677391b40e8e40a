#!/usr/bin/env python3
"""The Python side of perf/compare.py: N signed requests through the
wechatpayv3 SDK (pinned in requirements.txt), C in flight (a thread each, as
the SDK is synchronous), each answer verified by the SDK, and one JSON line
with the figures `wxpay bench --json` prints.

    driver.py --requests N --concurrency C [--warmup W] METHOD TARGET...

Configured in public key mode (`public_key` and `public_key_id`, as the
SDK's README shows) from the WXPAY_* variables `wxpay sandbox --state DIR`
writes to DIR/sandbox.env. The SDK has no base URL setting: its host is the
attribute `Core._gate_way`, fixed to https://api.mch.weixin.qq.com in
`Core.__init__`, so this script sets that attribute on the constructed
client (a run-time monkeypatch; the SDK's files are not changed).

`{mchid}` in a TARGET is replaced by the merchant id; several TARGETs are used
in turn. CPU is resource.getrusage(RUSAGE_SELF) (user + system, all threads)
over the measured requests, warm-up excluded.
"""

import argparse
import json
import os
import resource
import sys
import threading
import time

from wechatpayv3 import WeChatPay, WeChatPayType
from wechatpayv3.type import RequestType


def required(name):
    value = os.environ.get(name)
    if not value:
        sys.exit(f"error: {name} is not set; load a sandbox.env first")
    return value


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def client():
    wxpay = WeChatPay(
        wechatpay_type=WeChatPayType.NATIVE,
        mchid=required("WXPAY_MCHID"),
        private_key=read(required("WXPAY_PRIVATE_KEY_FILE")),
        cert_serial_no=required("WXPAY_SERIAL"),
        appid="wxd678efh567hg6787",
        apiv3_key=required("WXPAY_APIV3_KEY"),
        public_key=read(required("WXPAY_PUBLIC_KEY_FILE")),
        public_key_id=required("WXPAY_PUBLIC_KEY_ID"),
    )
    # The monkeypatch: point the SDK at the sandbox instead of WeChat Pay.
    wxpay._core._gate_way = required("WXPAY_BASE_URL").rstrip("/")
    return wxpay


def kind_of(code, error):
    if error is not None:
        text = str(error)
        if "verify the signature" in text:
            return "verification"
        return type(error).__name__
    return f"api {code}"


def drive(wxpay, method, targets, count, concurrency):
    lock = threading.Lock()
    state = {"next": 0}
    latencies = []
    errors = {}

    def worker():
        while True:
            with lock:
                index = state["next"]
                state["next"] += 1
            if index >= count:
                return
            target = targets[index % len(targets)]
            started = time.perf_counter()
            code, error = None, None
            try:
                code, _ = wxpay._core.request(target, method=method)
            except Exception as e:  # the SDK raises plain Exception
                error = e
            elapsed = (time.perf_counter() - started) * 1e3
            with lock:
                latencies.append(elapsed)
                if error is not None or not 200 <= code < 300:
                    kind = kind_of(code, error)
                    errors[kind] = errors.get(kind, 0) + 1

    threads = [threading.Thread(target=worker) for _ in range(min(concurrency, count))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, errors


def percentile(values, p):
    if not values:
        return 0.0
    rank = -(-p * len(values) // 100)  # ceil
    return values[min(max(int(rank), 1), len(values)) - 1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("method")
    parser.add_argument("targets", nargs="+")
    args = parser.parse_args()

    wxpay = client()
    mchid = required("WXPAY_MCHID")
    method = RequestType[args.method.upper()]
    targets = [t.replace("{mchid}", mchid) for t in args.targets]
    if args.warmup > 0:
        drive(wxpay, method, targets, args.warmup, args.concurrency)
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    latencies, errors = drive(wxpay, method, targets, args.requests, args.concurrency)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    latencies.sort()
    user = after.ru_utime - before.ru_utime
    sys_ = after.ru_stime - before.ru_stime
    failed = sum(errors.values())
    print(json.dumps({
        "client": "wechatpayv3",
        "version": "2.0.4",
        "python": sys.version.split()[0],
        "requests": args.requests,
        "concurrency": args.concurrency,
        "ok": args.requests - failed,
        "errors": errors,
        "elapsed_s": elapsed,
        "requests_per_s": args.requests / elapsed,
        "latency_ms": {
            "p50": percentile(latencies, 50),
            "p90": percentile(latencies, 90),
            "p99": percentile(latencies, 99),
            "max": percentile(latencies, 100),
            "mean": sum(latencies) / max(len(latencies), 1),
        },
        "cpu_user_s": user,
        "cpu_sys_s": sys_,
        "cpu_ms_per_request": (user + sys_) * 1e3 / args.requests,
        "peak_rss_kib": after.ru_maxrss,
    }))


if __name__ == "__main__":
    main()
