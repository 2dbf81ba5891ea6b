"""W3C SPARQL 1.1 conformance of a live server: protocol, query, update, graph store, service description.

Why a live server over HTTP: conformance is what a client sees — the protocol layer, the
result writers and the store together — so every test goes through real requests to a
server this runner starts itself (an empty store, entailment off), or to ``--url``.

    python bench/conformance.py                       # our service, every suite
    python bench/conformance.py --target oxigraph     # the standalone Oxigraph server
    python bench/conformance.py --target virtuoso --record  # OpenLink Virtuoso direct (query, update suites)
    python bench/conformance.py --check-scores        # fail if a suite passes fewer tests than recorded
    python bench/conformance.py --list-failures       # failing tests with a one-line reason
    python bench/conformance.py --record --target both  # measure both and rewrite the scores file
    python bench/conformance.py --url URL --target ours --as ours-over-virtuoso --record
                                                      # a server started elsewhere, scored under a name of its own

Prints ``<suite>: N passed, N failed, N skipped`` per suite and the totals last, alone on
a line. Exit code: 0 fine, 1 a suite fell below its recorded score, 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conformance_lib import server
from conformance_lib.manifest import SUITES, TestCase, load_suite
from conformance_lib.runner import Harness, Outcome

REPO = Path(__file__).resolve().parents[1]
DEFAULT_W3C = REPO.parent / "shared" / "w3c"
DEFAULT_SCORES = REPO / "bench" / "conformance-scores.json"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--w3c", type=Path, default=DEFAULT_W3C,
                        help="folder of the W3C test suites (holding sparql/); default: ../shared/w3c")
    parser.add_argument("--target", choices=["ours", "oxigraph", "both", "virtuoso"], default="ours",
                        help="which server to start and test (default: ours; virtuoso: OpenLink Virtuoso "
                             "direct, its own scores, query and update suites only)")
    parser.add_argument("--url", help="test an already-running server at this URL instead of starting one")
    parser.add_argument("--write-token", help="write token of the server given with --url (target ours)")
    parser.add_argument("--as", dest="score_name", metavar="NAME",
                        help="with --url: check and record the scores under NAME instead of the target's (e.g. "
                             "ours-over-virtuoso: our service in front of another store)")
    parser.add_argument("--as-service-reads", action="store_true",
                        help="target virtuoso: read its answers as our service does (its format deviations "
                             "corrected) before judging them; a diagnostic, not recorded")
    parser.add_argument("--suite", action="append", choices=list(SUITES),
                        help="run only this suite (repeatable); default: all")
    parser.add_argument("--only", help="run only tests whose IRI contains this text")
    parser.add_argument("--jobs", type=int, default=1,
                        help="servers run side by side for the query and update suites (default: 1; "
                             "the whole run takes seconds)")
    parser.add_argument("--scores", type=Path, default=DEFAULT_SCORES, help="recorded scores file")
    parser.add_argument("--check-scores", action="store_true",
                        help="exit 1 if a suite passes fewer tests than the scores file records")
    parser.add_argument("--record", action="store_true", help="rewrite the scores of the targets run")
    parser.add_argument("--list-failures", action="store_true", help="print failing tests with their reason")
    parser.add_argument("--list-skips", action="store_true", help="print skipped tests with their reason")
    args = parser.parse_args(argv)
    if not (args.w3c / "sparql").is_dir():
        parser.error(f"--w3c: {args.w3c} has no sparql/ folder of W3C test suites")
    if args.url and args.target in ("both", "virtuoso"):
        parser.error("--url tests one server: give --target ours or --target oxigraph")
    if args.score_name and not args.url:
        parser.error("--as names the scores of a server given with --url")
    if args.as_service_reads and (args.target != "virtuoso" or args.record):
        parser.error("--as-service-reads is a diagnostic of --target virtuoso, never recorded")
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    return args


def run_suite(target_name: str, suite: str, tests: list[TestCase], args: argparse.Namespace
              ) -> list[tuple[TestCase, Outcome]]:
    """Run one suite on fresh server(s): one per job, each taking a contiguous share of the tests."""
    jobs = 1 if args.url or target_name == "virtuoso" or suite not in ("query", "update") else min(
        args.jobs, max(1, len(tests) // 50))
    shares = [tests[i * len(tests) // jobs:(i + 1) * len(tests) // jobs] for i in range(jobs)]

    def work(share: list[TestCase]) -> list[tuple[TestCase, Outcome]]:
        if target_name == "virtuoso":
            from conformance_lib import virtuoso

            own = virtuoso.start()
            own.as_service_reads = args.as_service_reads
            try:
                harness = virtuoso.VirtuosoHarness(own, args.w3c)
                done = []
                for test in share:
                    done.append((test, harness.run(test)))
                    if args.list_failures and done[-1][1].status == "fail":
                        print(f"    {test.iri}: {done[-1][1].reason[:200]}", file=sys.stderr, flush=True)
                if own.restarts:
                    print(f"  (virtuoso restarted {own.restarts} times)", file=sys.stderr, flush=True)
                return done
            finally:
                own.stop()
        if args.url:
            target = server.endpoints(target_name, args.url, args.write_token)
        else:
            target = server.start(target_name)
        try:
            harness = Harness(target, args.w3c)
            return [(test, harness.run(test)) for test in share]
        finally:
            if not args.url:
                target.stop()

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        parts = list(pool.map(work, shares))
    return [item for part in parts for item in part]


def load_scores(path: Path) -> dict:
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    return {}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    targets = ["ours", "oxigraph"] if args.target == "both" else [args.target]
    suites = args.suite or list(SUITES)
    recorded = load_scores(args.scores)
    below: list[str] = []
    new_scores: dict[str, dict] = {}
    new_failures: dict[str, dict] = {}
    names = {t: (args.score_name or t) for t in targets}
    for target_name in targets:
        if len(targets) > 1:
            print(f"== {target_name} ==")
        totals = {"pass": 0, "fail": 0, "skip": 0}
        scores: dict[str, dict] = {}
        failures: dict[str, str] = {}
        for suite in suites:
            if target_name == "virtuoso":
                from conformance_lib import virtuoso

                if suite not in virtuoso.SUITES:
                    print(f"{suite}: not run (virtuoso direct runs the {' and '.join(virtuoso.SUITES)} suites only)")
                    continue
            tests = load_suite(suite, args.w3c)
            if args.only:
                tests = [t for t in tests if args.only in t.iri]
            started = time.monotonic()
            outcomes = run_suite(target_name, suite, tests, args)
            counts = {"pass": 0, "fail": 0, "skip": 0}
            for test, outcome in outcomes:
                counts[outcome.status] += 1
                if outcome.status == "fail":
                    failures[test.iri] = outcome.reason
                if (outcome.status == "fail" and args.list_failures) or (
                        outcome.status == "skip" and args.list_skips):
                    print(f"  {outcome.status.upper()} {test.iri}: {outcome.reason}")
            for key in totals:
                totals[key] += counts[key]
            elapsed = time.monotonic() - started
            print(f"{suite}: {counts['pass']} passed, {counts['fail']} failed, {counts['skip']} skipped", flush=True)
            print(f"  ({target_name}, {elapsed:.1f} s)", file=sys.stderr, flush=True)
            scores[suite] = {"passed": counts["pass"], "failed": counts["fail"], "skipped": counts["skip"],
                             "total": len(outcomes)}
            floor = recorded.get("targets", {}).get(names[target_name], {}).get(suite, {}).get("passed")
            if args.check_scores and not args.only and floor is not None and counts["pass"] < floor:
                below.append(f"{names[target_name]} {suite}: {counts['pass']} passed, recorded minimum {floor}")
        print(f"{totals['pass']} passed, {totals['fail']} failed, {totals['skip']} skipped")
        new_scores[target_name] = scores
        new_failures[target_name] = failures
    if args.record:
        if args.only:
            print("--record ignored with --only (a partial run is not a score)", file=sys.stderr)
        else:
            data = recorded or {}
            data["about"] = ("Tests passed per W3C SPARQL 1.1 suite by bench/conformance.py, per server. "
                             "--check-scores fails when a suite passes fewer tests than recorded here.")

            def scores_of(target_name: str) -> list[str]:
                return [suite for suite in suites if suite in new_scores[target_name]]

            for target_name in targets:
                data.setdefault("targets", {}).setdefault(names[target_name], {}).update(new_scores[target_name])
                known = data.setdefault("known_failures", {}).setdefault(names[target_name], {})
                for suite in scores_of(target_name):
                    for iri in [i for i, t in known.items() if t.get("suite") == suite]:
                        del known[iri]
                for suite in scores_of(target_name):
                    for test in load_suite(suite, args.w3c):
                        if test.iri in new_failures[target_name]:
                            known[test.iri] = {"suite": suite, "reason": new_failures[target_name][test.iri]}
            args.scores.write_text(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
                                   encoding="utf-8")
            print(f"recorded scores in {args.scores}", file=sys.stderr)
    if below:
        for line in below:
            print(f"BELOW RECORDED SCORE: {line}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
