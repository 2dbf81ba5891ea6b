"""The vendored browser libraries (static/vendor/): what frontend/vendor.sh copied is what is served, with its
licences; the pages load only local files and stay within their size budgets; the Python package ships them.

No Node is needed here: the manifest and the lockfile are plain JSON in the repository.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import tomllib
from html.parser import HTMLParser
from pathlib import Path

import pytest

from service.web import query_page

REPO = Path(__file__).resolve().parents[2]
VENDOR = REPO / "service" / "web" / "static" / "vendor"
MANIFEST = json.loads((VENDOR / "manifest.json").read_text())
LOCK = json.loads((REPO / "frontend" / "package-lock.json").read_text())
PACKAGE = json.loads((REPO / "frontend" / "package.json").read_text())
BROWSER = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"

#: What a page may load (its scripts and stylesheets, as served), in bytes.
QUERY_PAGE_BUDGET = 2_000_000
ENTITY_PAGE_BUDGET = 600_000


def test_every_vendored_file_is_in_the_manifest_with_its_hash_and_size() -> None:
    listed = {f["name"]: f for package in MANIFEST["packages"] for f in package["files"]}
    for name, entry in listed.items():
        data = (VENDOR / name).read_bytes()
        assert len(data) == entry["bytes"], name
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], f"{name} differs from what vendor.sh copied"
    licences = {package["licenseFile"] for package in MANIFEST["packages"]}
    present = {path.name for path in VENDOR.iterdir()}
    assert present == set(listed) | licences | {"manifest.json", "THIRD-PARTY-NOTICES.txt"}, \
        "every file in the folder comes from vendor.sh"


def test_versions_are_the_lockfiles_and_package_json_pins_them() -> None:
    for package in MANIFEST["packages"]:
        locked = LOCK["packages"][f"node_modules/{package['name']}"]
        assert package["version"] == locked["version"] == PACKAGE["dependencies"][package["name"]]
        assert locked["integrity"].startswith("sha512-"), "npm ci verifies each tarball"


def test_licences_ship_beside_the_files() -> None:
    grants = {"MIT": "Permission is hereby granted", "ISC": "Permission to use, copy, modify"}
    for package in MANIFEST["packages"]:
        text = (VENDOR / package["licenseFile"]).read_text()
        assert grants[package["license"]] in text, package["name"]
    notices = (VENDOR / "THIRD-PARTY-NOTICES.txt").read_text()
    for bundled in ("codemirror@", "datatables.net@", "dompurify@", "d3-array@", "isoformat@"):
        assert f"== {bundled}" in notices, f"the notices name {bundled}"


def test_the_csp_style_hashes_are_those_of_the_styles_yasr_inserts() -> None:
    source = (VENDOR / "yasr.min.js").read_text(encoding="utf-8")
    start = source.index(" .grip-resizable{table-layout:fixed;}")
    layout = source[start:source.index(source[start - 1], start)]
    cursor = "*{cursor:col-resize!important}"
    assert '"*{cursor:"+' in source.replace("`", '"') and "dragCursor:`col-resize`" in source
    expected = tuple("sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
                     for text in (layout, cursor))
    assert expected == query_page.YASR_STYLE_HASHES


def test_the_python_package_ships_the_vendor_folder() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["service.web"]
    assert "static/**/*" in patterns, "static/vendor/ is packaged with the wheel"
    assert not (REPO / "service" / "web" / "static" / "vendor" / "node_modules").exists()


class _Assets(HTMLParser):
    """The scripts and stylesheets a page loads."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script" and values.get("src"):
            self.urls.append(values["src"] or "")
        if tag == "link" and values.get("rel") == "stylesheet":
            self.urls.append(values["href"] or "")


def _page_assets(client, path: str) -> dict[str, int]:
    response = client.get(path, headers={"Accept": BROWSER})
    assert response.status_code == 200, path
    parser = _Assets()
    parser.feed(response.get_data(as_text=True))
    sizes = {}
    for url in parser.urls:
        assert url.startswith("/assets/"), f"{path} loads {url} from elsewhere"
        asset = client.get(url)
        assert asset.status_code == 200, url
        sizes[url] = len(asset.get_data())
    return sizes


EDITOR = ("yasqe.min.js", "yasr.min.js", "yasqe.min.css", "yasr.min.css")
TIMELINE = ("d3.min.js", "plot.umd.min.js")


def _vendored(sizes: dict[str, int]) -> set[str]:
    return {url.rsplit("/", 1)[1] for url in sizes if "/vendor/" in url}


def test_the_query_page_loads_the_editor_and_its_views_within_its_budget(client) -> None:
    sizes = _page_assets(client, "/query")
    assert _vendored(sizes) == set(EDITOR + TIMELINE)
    assert sum(sizes.values()) <= QUERY_PAGE_BUDGET, sizes


@pytest.mark.parametrize("path", ["contacts-timeline", "issue-frequency", "causes",
                                  "round-in-full?round=djr:ev-2012-11-mongolia-talks"])
def test_a_canned_page_with_a_view_loads_the_views_only(client, path: str) -> None:
    sizes = _page_assets(client, f"/queries/{path}")
    assert _vendored(sizes) == set(TIMELINE)
    assert sum(sizes.values()) <= ENTITY_PAGE_BUDGET, sizes


@pytest.mark.parametrize("path", ["/id/japan", "/id/north-korea", "/id/ev-2012-11-mongolia-talks"])
def test_an_entity_page_with_views_stays_within_its_budget(client, path: str) -> None:
    sizes = _page_assets(client, path)
    assert _vendored(sizes) <= set(TIMELINE), "no editor on an entity page"
    assert sum(sizes.values()) <= ENTITY_PAGE_BUDGET, sizes


@pytest.mark.parametrize("path", ["/", "/browse", "/queries", "/search?q=Japan", "/stats"])
def test_other_pages_load_nothing_vendored_and_stay_small(client, path: str) -> None:
    sizes = _page_assets(client, path)
    assert not _vendored(sizes), f"{path} loads only what it uses"
    assert sum(sizes.values()) <= ENTITY_PAGE_BUDGET, sizes


def test_the_vendored_editor_calls_no_service_by_default_that_the_page_does_not_turn_off() -> None:
    """Yasqe's class and property completion asks Linked Open Vocabularies and its prefix completion may ask
    prefix.cc: query.js replaces the three completers (tests/browser/test_editor.py watches the requests)."""
    yasqe = (VENDOR / "yasqe.min.js").read_text(encoding="utf-8")
    assert "lov.linkeddata.es" in yasqe and "prefixCcApi:null" in yasqe.replace(" ", "")
    script = (REPO / "service" / "web" / "static" / "query.js").read_text()
    for name in ("class", "property", "prefixes"):
        assert f'Yasqe.Autocompleters["{name}"]' in script
    assert "prefixCcApi: null" in script and "persistenceId: null" in script
    assert not re.search(r"https?://(?!\S*w3id\.org/dprk-japan-kg)", script), "query.js names no other host"
