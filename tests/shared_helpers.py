"""The project's shared material beside the repository (``../shared``), and how tests that need it skip.

A clone of this repository alone has no ``../shared``: tests that read the seed texts, the
reference inventory or the W3C suites skip there with one line naming the folder they need.
CI has the folder and sets ``DPRK_KG_REQUIRE_SHARED=1``: then a missing folder is not a reason
to skip but a failure, so CI never passes by skipping what it was meant to check.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SEEDS = SHARED / "seeds"
REFERENCE = SHARED / "reference"
W3C = SHARED / "w3c"
#: Set (to anything but "" or "0") where ../shared must be present: CI.
REQUIRE_VARIABLE = "DPRK_KG_REQUIRE_SHARED"


def shared_required() -> bool:
    """Whether a missing ``../shared`` folder must fail the run instead of skipping (CI)."""
    return os.environ.get(REQUIRE_VARIABLE, "") not in ("", "0")


def needs_shared(folder: Path) -> pytest.MarkDecorator:
    """Skip the test (or module, as ``pytestmark``) where ``folder`` under ``../shared`` is missing.

    Where the material is required (CI), the mark never skips: the test runs and fails on the
    missing folder, naming it.
    """
    name = folder.relative_to(SHARED.parent)
    missing = not folder.exists()
    return pytest.mark.skipif(missing and not shared_required(),
                              reason=f"needs ../{name} beside the repository (a clone of the repository "
                                     "alone has none; CI runs this test)")
