"""docs/ontology.svg is generated from the ontology and must never go stale.

Why: the README shows the picture to every newcomer; if someone changes the ontology and
forgets to regenerate it, the picture lies. The generator is deterministic, so the
committed file must equal a fresh rendering byte for byte.
"""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import rdflib
from rdflib import OWL, RDF

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "draw_ontology.py"
PICTURE = ROOT / "docs" / "ontology.svg"
ONTOLOGY = ROOT / "ontology" / "dprk-japan.ttl"
DJ = "https://w3id.org/dprk-japan-kg/ontology#"


def draw(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, check=False)


@pytest.mark.slow  # runs a subprocess
def test_committed_picture_is_up_to_date(tmp_path: Path) -> None:
    fresh = tmp_path / "ontology.svg"
    assert draw("--output", str(fresh)).returncode == 0
    assert fresh.read_bytes() == PICTURE.read_bytes(), (
        "docs/ontology.svg is stale: run `python scripts/draw_ontology.py` and commit the result"
    )


@pytest.mark.slow  # runs a subprocess
def test_drawing_is_deterministic(tmp_path: Path) -> None:
    first, second = tmp_path / "a.svg", tmp_path / "b.svg"
    assert draw("--output", str(first)).returncode == 0
    assert draw("--output", str(second)).returncode == 0
    assert first.read_bytes() == second.read_bytes()


def test_picture_is_svg_and_shows_every_class() -> None:
    root = ET.parse(PICTURE).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = " ".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
    words = {w.strip(",.").removeprefix("dj:") for w in texts.split()}
    graph = rdflib.Graph().parse(ONTOLOGY)
    classes = {str(c)[len(DJ) :] for c in graph.subjects(RDF.type, OWL.Class) if str(c).startswith(DJ)}
    assert sorted(classes - words) == []


@pytest.mark.slow  # runs a subprocess
def test_unreadable_ontology_is_reported_with_its_name(tmp_path: Path) -> None:
    missing = tmp_path / "nope.ttl"
    result = draw("--ontology", str(missing), "--output", str(tmp_path / "x.svg"))
    assert result.returncode == 2
    assert "nope.ttl" in result.stderr
    assert not (tmp_path / "x.svg").exists()
