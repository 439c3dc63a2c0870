"""What a user who installs the package (not a clone) gets: the sdist, the wheel built from it, its metadata, and a
scoring-only install (no [train] extra)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from email.parser import Parser
from importlib.metadata import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from conftest import ROOT

BUILD = ("import sys; from setuptools import build_meta as b; "
         "print(getattr(b, 'build_' + sys.argv[1])(sys.argv[2]))")


def _build(kind: str, project: Path, out: Path) -> Path:
    # setuptools.build_meta in this interpreter, as pip's isolated build would run it, without fetching setuptools
    res = subprocess.run([sys.executable, "-c", BUILD, kind, str(out)], cwd=project, capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr
    return out / res.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The sdist of a copy of the source tree, and the wheel built from that sdist (as `pip install sdist` does)."""
    tmp = tmp_path_factory.mktemp("dist")
    src = tmp / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(".git", ".venv", "__pycache__", "*.egg-info", "build",
                                                              "*.duckdb", "*.duckdb.wal", ".*_cache", ".hypothesis",
                                                              "out", "target", "logs"))
    sdist = _build("sdist", src, tmp)
    with tarfile.open(sdist) as tar:
        tar.extractall(tmp / "unpacked", filter="data")
    (unpacked,) = (tmp / "unpacked").iterdir()
    wheel = _build("wheel", unpacked, tmp)
    return sdist, wheel


def test_the_wheel_built_from_the_sdist_ships_every_module_the_schema_and_the_license(dists: tuple[Path, Path]) -> None:
    """storetables.schema_sql() opens ad_duckdb/sql/schema.sql at run time; py.typed tells type checkers the hints are
    meant; Apache-2.0 asks that a copy of the licence travels with the code."""
    _, wheel = dists
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        meta = Parser().parsestr(z.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode())
        entry_points = z.read(next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
    modules = {f"ad_duckdb/{p.name}" for p in (ROOT / "ad_duckdb").glob("*.py")}
    assert modules - names == set(), modules - names
    assert {"ad_duckdb/sql/schema.sql", "ad_duckdb/py.typed"} <= names, sorted(names)
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names), sorted(names)
    assert "ad-duckdb = ad_duckdb.launch:main" in entry_points, entry_points
    assert meta["License-Expression"] == "Apache-2.0" and meta["License-File"] == "LICENSE", meta.items()
    classifiers = meta.get_all("Classifier", [])
    assert "Typing :: Typed" in classifiers, classifiers
    # each Python version named was installed from the sdist and scored a model (scoring-only: 3.11, 3.12, 3.13)
    assert {f"Programming Language :: Python :: 3.{v}" for v in (11, 12, 13)} <= set(classifiers), classifiers
    assert meta["Description-Content-Type"] == "text/markdown" and "# ad_duckdb" in meta.get_payload()


def test_the_sdist_holds_what_its_tests_examples_and_readme_use(dists: tuple[Path, Path]) -> None:
    """Before: the sdist had tests/test_*.py but not conftest.py they import, nor sql/ (the recipes the README
    points analysts to, and the schema test_store compares), nor examples/, nor a licence."""
    sdist, _ = dists
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    for wanted in ("LICENSE", "README.md", "pyproject.toml", "tests/conftest.py", "sql/recipes.sql",
                   "sql/schema.sql", "examples/transactions/generate.py", "examples/dbt_project/dbt_project.yml",
                   "tests/by_hand/pgjdbc_copy_in.py"):
        assert wanted in names, (wanted, sorted(names))
    assert not [n for n in names if n.endswith((".pyc", ".duckdb"))], sorted(names)


def test_requires_python_admits_no_python_the_dependencies_refuse() -> None:
    """Before: requires-python >=3.10 while duckdb 2.0 needs 3.11, so on Python 3.10 `pip install ad_duckdb` said
    'No matching distribution found for duckdb<3,>=2.0' instead of naming the Python version to use."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    ours = SpecifierSet(project["requires-python"])
    lowest = next(s.version for s in ours if s.operator == ">=")
    for dep in project["dependencies"]:
        theirs = metadata(Requirement(dep).name)["Requires-Python"]
        assert theirs is None or SpecifierSet(theirs).contains(lowest), (dep, theirs, str(ours))


def test_the_detector_without_torch_names_the_extra(tmp_path: Path) -> None:
    """README points at `from ad_duckdb.detector import AutoEncoderDetector`. Before: fit() on a scoring-only install
    raised a bare ModuleNotFoundError for torch from inside trainer.py."""
    blocker = tmp_path / "block"
    for name in ("torch", "onnx"):
        (blocker / name).mkdir(parents=True)
        (blocker / name / "__init__.py").write_text(f"raise ImportError('No module named {name} (blocked)')\n")
    code = ("import numpy as np, ad_duckdb\n"
            "from ad_duckdb.detector import AutoEncoderDetector\n"
            "try:\n"
            "    AutoEncoderDetector().fit(np.random.default_rng(0).random((50, 2)))\n"
            "except ad_duckdb.MissingDependencyError as e:\n"
            "    print(e)\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": f"{blocker}{os.pathsep}{ROOT}"})
    assert res.returncode == 0 and "AutoEncoderDetector.fit needs torch" in res.stdout, res.stderr
    assert "pip install 'ad_duckdb[train]'" in res.stdout, res.stdout


def test_the_wheel_ships_the_dbt_package(dists: tuple[Path, Path]) -> None:
    """`ad-duckdb dbt-package` prints the folder of the dbt package inside the installed ad_duckdb, which a dbt project
    names in packages.yml: the wheel carries its dbt_project.yml and every macro."""
    _, wheel = dists
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
    wanted = {f"ad_duckdb/dbt_package/{p.relative_to(ROOT / 'ad_duckdb' / 'dbt_package').as_posix()}"
              for p in (ROOT / "ad_duckdb" / "dbt_package").rglob("*") if p.is_file()}
    assert "ad_duckdb/dbt_package/dbt_project.yml" in wanted and len(wanted) >= 3, wanted
    assert wanted - names == set(), sorted(wanted - names)


# Imports each module of the package first, in a fresh state of the package's modules (third-party ones stay
# loaded, which is what makes one process enough)
_IMPORT_EACH_ALONE = """
import importlib, pkgutil, sys
import ad_duckdb
failed = []
for info in sorted(pkgutil.iter_modules(ad_duckdb.__path__), key=lambda m: m.name):
    if info.ispkg or info.name == "__main__":
        continue
    for loaded in [k for k in sys.modules if k == "ad_duckdb" or k.startswith("ad_duckdb.")]:
        del sys.modules[loaded]
    try:
        importlib.import_module("ad_duckdb." + info.name)
    except Exception as e:
        failed.append(f"{info.name}: {e!r}")
print("\\n".join(failed))
"""


def test_every_module_imports_first_without_a_circular_import() -> None:
    """A module that can only be imported after another has been (a cycle the usual entry points happen to enter
    from the right side) breaks the first program or test that imports it directly; damagedstore, promotion and
    three more failed so: damagedstore -> store -> damagedrows -> damagedstore.store_damaged, half made."""
    out = subprocess.run([sys.executable, "-c", _IMPORT_EACH_ALONE], capture_output=True, text=True, check=True,
                         cwd=ROOT, timeout=600)
    assert out.stdout.strip() == "", out.stdout
