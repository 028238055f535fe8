#!/usr/bin/env python3
"""perf_summary.py BINARY_NAME [TOP] < `perf script -F ip,sym,dso` output

Three views of one perf profile (call graphs recorded with --call-graph):

  self       where the CPU was, by function (the leaf of each sample)
  charged    each sample charged to the nearest function of BINARY_NAME on
             its stack, so that a library's cost (printf, malloc, the
             kernel's send path, Sofia's parser) lands on the proxy code that
             asked for it
  inclusive  the share of samples with a given BINARY_NAME function anywhere
             on the stack

Frames perf marks "(inlined)" belong to the object of the next real frame.
"""
import collections
import os
import sys


def samples(lines):
    """Each sample as a list of (address, symbol, object) from leaf to root."""
    stack = []
    for line in lines:
        line = line.rstrip("\n")
        if not line.strip():
            if stack:
                yield stack
            stack = []
            continue
        if not line.startswith((" ", "\t")):
            continue  # the sample's header line
        parts = line.strip().split(None, 1)
        if len(parts) < 2:
            continue
        sym, _, obj = parts[1].rpartition(" (")
        stack.append((parts[0], sym.split("+0x")[0], obj.rstrip(")")))
    if stack:
        yield stack


def resolve_inlined(stack):
    """(symbol, object) frames. perf lists the functions inlined at an
    address before the real function at that same address: they belong to
    its object. An inlined frame with no real frame at its address (a
    library's internal alias) belongs to no known object."""
    out = []
    for i, (ip, sym, obj) in enumerate(stack):
        if obj == "inlined":
            obj = "?"
            for ip2, _, obj2 in stack[i + 1:]:
                if ip2 != ip:
                    break
                if obj2 != "inlined":
                    obj = obj2
                    break
        out.append((sym, obj))
    return out


def main():
    binary = sys.argv[1]
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 25
    self_ = collections.Counter()
    charged = collections.Counter()
    inclusive = collections.Counter()
    n = 0
    for raw in samples(sys.stdin):
        stack = resolve_inlined(raw)
        if not stack:
            continue
        n += 1
        leaf_sym, leaf_obj = stack[0]
        self_[f"{leaf_sym} [{os.path.basename(leaf_obj)}]"] += 1
        mine = [sym for sym, obj in stack if os.path.basename(obj) == binary]
        charged[mine[0] if mine else "(outside " + binary + ")"] += 1
        for sym in set(mine):
            inclusive[sym] += 1
    if n == 0:
        print("no samples")
        return
    for title, counter in (("self time, by function", self_),
                           (f"charged to the nearest {binary} function", charged),
                           (f"inclusive: {binary} functions on the stack", inclusive)):
        print(f"# {title} ({n} samples)")
        for name, count in counter.most_common(top):
            print(f"  {100.0 * count / n:5.1f}%  {name}")
        print()


if __name__ == "__main__":
    main()
