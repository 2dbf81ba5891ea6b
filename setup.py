"""Build step: the wheel carries the bundled graph and the canned queries.

Why: an installed ``dprk-kg serve`` reads ``ontology/``, ``data/`` and ``queries/``; in a
checkout they stay at the repository's top (where editors, reviewers and the tests expect
them), so at build time they are copied into the package as ``service/_bundle/``, which
:data:`service.config.BUNDLE_ROOT` prefers when it exists. Editable installs copy nothing:
they read the checkout. Everything else is declared in ``pyproject.toml``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent

#: The folders of the repository an installed service needs (the same names :mod:`service.rdf.dataset` checks).
BUNDLED = ("ontology", "data", "queries")


class BuildPyWithBundle(build_py):
    """``build_py``, then the bundled folders copied into ``service/_bundle`` of the build."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "service" / "_bundle"
        for name in BUNDLED:
            source = HERE / name
            if not source.is_dir():
                raise SystemExit(f"cannot build the wheel: {source} is missing (the service needs it)")
            shutil.rmtree(target / name, ignore_errors=True)
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".*"))


setup(cmdclass={"build_py": BuildPyWithBundle})
