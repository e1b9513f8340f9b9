"""Soak test, run on demand (`make soak`): 16 concurrent clients against `kratom-qa serve` on
127.0.0.1 for 10 minutes (bounded), sampling the server's memory every 10 s.

    python bench/soak.py [--minutes 10] [--clients 16] [--out bench/results]

Passes when there are zero errors and memory is flat (last-third mean RSS within 10% of the
first-third mean, after warm-up). Writes soak.json and soak.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.run import free_port, ingest_bench, load, questions, start  # noqa: E402


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--out", default=str(REPO / "bench" / "results"))
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        ingest_bench(tmp)  # builds an index in tmp/data
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        proc, _ = start(
            [sys.executable, "-m", "bot", "serve", "--port", str(port)],
            {"KQA_DATA_DIR": str(tmp / "data"), "KQA_RATE_LIMIT_PER_MINUTE": "0"},
            url,
            tmp / "soak.log",
        )
        samples: list[tuple[float, float]] = []
        done = threading.Event()

        def sample() -> None:
            t0 = time.perf_counter()
            while not done.is_set():
                samples.append((round(time.perf_counter() - t0, 1), round(rss_mb(proc.pid), 1)))
                done.wait(10)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            result = load(url, questions(), args.clients, args.minutes * 60)
        finally:
            done.set()
            sampler.join()
            proc.terminate()
            proc.wait(timeout=30)
    rss = [r for _, r in samples]
    third = max(1, len(rss) // 3)
    first, last = statistics.fmean(rss[:third]), statistics.fmean(rss[-third:])
    growth = (last - first) / first
    report = {
        "minutes": args.minutes,
        "clients": args.clients,
        **result,
        "rss_samples_mb": samples,
        "rss_first_third_mb": round(first, 1),
        "rss_last_third_mb": round(last, 1),
        "rss_growth": round(growth, 4),
        "passed": result["errors"] == 0 and growth <= 0.10,
    }
    (out / "soak.json").write_text(json.dumps(report, indent=2))
    md = (
        f"# Soak: {args.clients} clients for {args.minutes} min\n\n"
        f"- requests: {result['requests']}, errors: {result['errors']}, throughput: {result['throughput_rps']} req/s\n"
        f"- latency p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms\n"
        f"- RSS: first third {first:.1f} MB, last third {last:.1f} MB, growth {growth:+.1%}\n"
        f"- verdict: {'PASS' if report['passed'] else 'FAIL'} (zero errors, growth <= 10%)\n"
    )
    (out / "soak.md").write_text(md)
    print(md)
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
