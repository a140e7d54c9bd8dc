#!/usr/bin/env python3
"""Prints the per-epoch records of a training run's metrics.jsonl as a Markdown table.

Usage: tools/metrics_table.py RUN_DIR/metrics.jsonl

Columns: epoch, mode, lr, train loss and top-1, test loss, top-1 and top-5, seconds and images/s.
Needs only the Python standard library."""
import json
import sys


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: metrics_table.py METRICS_JSONL")
    path = sys.argv[1]
    rows = []
    try:
        with open(path) as f:
            for number, line in enumerate(f, 1):
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as e:
                    sys.exit(f"{path}:{number}: not a JSON line ({e})")
                if record.get("type") == "epoch":
                    rows.append(record)
    except OSError as e:
        sys.exit(f"{path}: {e.strerror}")
    if not rows:
        sys.exit(f"{path}: no epoch records")
    print("| epoch | mode | lr | train loss | train top-1 | test loss | test top-1 | test top-5 | train s | img/s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        def pct(key):
            return f"{100 * r[key]:.1f} %" if key in r else "–"

        def num(key, fmt):
            return format(r[key], fmt) if key in r else "–"

        print(f"| {r['epoch']} | {r.get('mode', '–')} | {num('lr', '.4f')} | {num('train_loss', '.3f')} | "
              f"{pct('train_top1')} | {num('test_loss', '.3f')} | {pct('test_top1')} | {pct('test_top5')} | "
              f"{num('train_seconds', '.0f')} | {num('images_per_s', '.0f')} |")


if __name__ == "__main__":
    main()
