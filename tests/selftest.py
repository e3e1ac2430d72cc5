"""The one runner for the harness's own Python self-tests (runner_selftest,
bench_selftest): every test_* function of a module, one line each in the
form tests/run.py --host reads, exit status 1 on any failure."""
import sys
import traceback


def run_tests(group, namespace):
    failed = 0
    for name, fn in sorted(namespace.items()):
        if not name.startswith("test_"):
            continue
        try:
            fn()
            ok, why = True, ""
        except Exception as e:
            ok, why = False, "%s\n%s" % (e, traceback.format_exc(limit=2))
        print("test host/%s/%s: %s" % (group, name[5:], "OK" if ok else "FAILED"))
        if not ok:
            sys.stderr.write("%s: %s\n" % (name, why))
        failed += not ok
    return 1 if failed else 0
