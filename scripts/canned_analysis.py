"""Write service/canned/rdflib-analysis.json: rdflib's analysis of the bundled federated canned queries.

Why a file: the service analyses federated canned queries with rdflib's SPARQL parser (it
evaluates nothing, so no SERVICE clause is called), and importing rdflib for that at every
start would keep rdflib and pyparsing resident in the web process for its whole life. The
file holds rdflib's answers for the bundled texts (by digest); any other text is parsed at
start as before. tests/canned/test_canned_analysis.py fails when the file is not current.
Usage: python scripts/canned_analysis.py [--check]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from service.canned.header import ANALYSIS_TABLE, analysis_table  # noqa: E402


def render() -> str:
    """The file's text for the queries in ``queries/``."""
    return json.dumps(analysis_table(ROOT / "queries"), indent=1, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        current = ANALYSIS_TABLE.read_text(encoding="utf-8") if ANALYSIS_TABLE.exists() else ""
        if current != text:
            print(f"{ANALYSIS_TABLE.name} is not current: run python scripts/canned_analysis.py", file=sys.stderr)
            return 1
        return 0
    ANALYSIS_TABLE.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
