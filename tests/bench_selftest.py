#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tests/bench.py's own tests, run by `make test` as a host test program
(no QEMU): one "test host/bench/NAME: OK|FAILED" line each.  They check
that progress lines are read whole although the serial line delivers them
in pieces, and that the figures plot what the table prints."""

import os
import queue
import re
import sys
import tempfile
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench  # noqa: E402
import ferry  # noqa: E402


class ScriptedSerial(ferry.Console):
    """A Console whose bytes are the pieces a test feeds it, as a serial
    line delivers them: a line may end in the next piece."""

    def __init__(self):
        super().__init__("scripted", None)
        self.pieces = queue.Queue()
        self._start_reader()

    def _recv(self):
        return self.pieces.get()

    def feed(self, text):
        self.pieces.put(text.encode())


def test_progress_lines_are_read_whole():
    s = ScriptedSerial()
    got = {}

    def follow():
        got["out"] = bench.follow_fault_bench(s, 0)
    t = threading.Thread(target=follow, daemon=True)
    t.start()
    s.feed("progress round=5/10\nprogress round=6")
    time.sleep(0.5)     # the follower sees the half line before its end comes
    s.feed("/10\nbench faults: done\n")
    t.join(10)
    assert "out" in got, "follow_fault_bench did not return"
    last, progress = got["out"]
    assert progress == ["progress round=5/10", "progress round=6/10"], progress
    assert last == "bench faults: done", last


def main():
    failed = 0
    for name, fn in sorted(globals().items()):
        if not name.startswith("test_"):
            continue
        try:
            fn()
            ok, why = True, ""
        except Exception as e:
            ok, why = False, "%s\n%s" % (e, traceback.format_exc(limit=2))
        print("test host/bench/%s: %s" % (name[5:], "OK" if ok else "FAILED"))
        if not ok:
            sys.stderr.write("%s: %s\n" % (name, why))
        failed += not ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
