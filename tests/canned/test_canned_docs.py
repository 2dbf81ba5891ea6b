"""The canned queries are documented: the README lists each with URL, parameters and a curl line, and the
header format reference covers every key and type the loader accepts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from service.canned import header as canned_header
from service.canned.header import query_files

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text(encoding="utf-8")
FORMAT_DOC = (REPO / "queries" / "README.md").read_text(encoding="utf-8")
SECTION = README[README.find("<!-- BEGIN canned -->"):README.find("<!-- END canned -->")]


@pytest.mark.slow  # runs a subprocess
def test_the_readme_section_is_current():
    result = subprocess.run([sys.executable, "-m", "service.canned.readme", "--readme", "--check"], cwd=REPO,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("path", query_files(REPO / "queries"), ids=lambda p: p.stem)
def test_every_query_file_is_in_the_readme_with_url_and_curl(path):
    assert f"### `{path.stem}`" in SECTION, f"{path.name} is missing: run python -m service.canned.readme --readme"
    assert f"`GET|POST /queries/{path.stem}`" in SECTION
    assert f"curl 'http://127.0.0.1:8000/queries/{path.stem}." in SECTION


def test_the_readme_explains_the_header_and_the_binding():
    for words in ("queries/README.md", "VALUES ?v { UNDEF }", "federated: true", "X-Cache", "/openapi.json",
                  "dprk-kg query"):
        assert words in SECTION, words


@pytest.mark.parametrize("key", sorted(canned_header.HEADER_KEYS | canned_header.PARAM_KEYS))
def test_every_header_key_is_documented(key):
    assert f"`{key}`" in FORMAT_DOC, key


@pytest.mark.parametrize("kind", canned_header.PARAM_TYPES + canned_header.COLUMN_TYPES)
def test_every_type_is_documented(kind):
    assert f"`{kind}`" in FORMAT_DOC, kind
