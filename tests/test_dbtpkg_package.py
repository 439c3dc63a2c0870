"""The dbt package ad_duckdb (the folder ad_duckdb/dbt_package, installed with the Python package): a dbt project lists
it in packages.yml as a local: package, from the path `ad-duckdb dbt-package` prints or from a copy it makes, runs
`dbt deps`, and calls its macros, all with the real dbt executable.

Before: the macro ad_duckdb_set_threshold was only a file to copy from examples/dbt_project/macros into a project's
macros/, with nothing to say which release it came from, and no packages.yml entry to install it by.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from pathlib import Path

import pytest

import ad_duckdb
from ad_duckdb import dbtpackage

from conftest import cli_in_process
from test_dbt import PROJECT, _stored_thresholds, _threshold_project, run_dbt, run_dbt_process

_HOOKED = ("{{ config(pre_hook=\"{{ ad_duckdb.set_threshold('ae', 'cut', 'contamination', target=0.05) }}\") }}\n"
           "select a, b, is_anomaly_at('ae', 'cut', a, b) as f from {{ ref('src') }}\n")
_LABELLED = ("{{ config(post_hook={'sql': \"{{ ad_duckdb.set_threshold('ae', 'best', 'max_f1', source=this, "
             "label='lab') }}\", 'transaction': false}) }}\nselect * from {{ ref('src') }}\n")


def ad_duckdb_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`ad-duckdb ARGS` run in ``cwd``, in this process (conftest.cli_in_process): the tests read what it says and
    copies, not a process of its own."""
    with contextlib.chdir(cwd):
        return cli_in_process(*args)


def _package_project(work: Path, models: dict[str, str], local: str) -> Path:
    """The small threshold project, without the copied macro, with packages.yml naming ``local``."""
    _threshold_project(work, models)
    shutil.rmtree(work / "macros")
    (work / "packages.yml").write_text(f"packages:\n  - local: {local}\n")
    return work


def test_dbt_package_from_the_printed_path_installs_with_dbt_deps(tmp_path: Path) -> None:
    printed = ad_duckdb_cli("dbt-package", cwd=tmp_path)
    assert printed.returncode == 0, printed.stderr
    path = Path(printed.stdout.strip())
    assert path.is_absolute() and path == dbtpackage.package_dir(), printed.stdout
    assert printed.stderr == ""  # dbt-duckdb is installed here: no note
    # the package's version is the release's: a copy says which release its macros came from
    assert dbtpackage.package_version(path) == ad_duckdb.__version__
    work = _package_project(tmp_path / "pkg", {"hooked.sql": _HOOKED, "labelled.sql": _LABELLED}, str(path))
    proc = run_dbt_process(["deps", "--profiles-dir", "."], work)  # the command a user types, with the printed path
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert (work / "dbt_packages" / "ad_duckdb" / "dbt_project.yml").is_file()
    proc = run_dbt(["run", "--profiles-dir", "."], work)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert "stored threshold 'cut'" in out and "stored threshold 'best'" in out, out[-4000:]
    # run-operation by the package's name, and by the macro's own name (dbt finds a package's macro unqualified there)
    for macro, name in (("ad_duckdb.set_threshold", "c2"), ("ad_duckdb_set_threshold", "c3")):
        proc = run_dbt(["run-operation", macro, "--profiles-dir", ".", "--args",
                        "{model: ae, name: " + name + ", method: manual, value: 3.5}"], work)
        assert proc.returncode == 0, macro + proc.stdout[-4000:] + proc.stderr[-4000:]
    stored = _stored_thresholds(work)
    assert (stored["cut"][0], stored["best"][0], stored["c2"], stored["c3"]) == \
        ("contamination", "max_f1", ("manual", 3.5), ("manual", 3.5))


def test_dbt_package_copied_into_the_project(tmp_path: Path) -> None:
    work = _package_project(tmp_path / "cp", {}, "vendor/ad_duckdb")
    proc = ad_duckdb_cli("dbt-package", "--copy-to", "vendor/ad_duckdb", cwd=work)
    assert proc.returncode == 0, proc.stderr
    # what packages.yml says, relative to the project's folder, as dbt reads local: (said so from a sub-folder too)
    assert "packages:\n  - local: vendor/ad_duckdb" in proc.stdout, proc.stdout
    again = ad_duckdb_cli("dbt-package", "--copy-to", "../vendor/ad_duckdb", cwd=work / "models")
    assert again.returncode == 0 and "  - local: vendor/ad_duckdb" in again.stdout, again.stdout + again.stderr
    assert sorted(p.name for p in (work / "vendor" / "ad_duckdb" / "macros").iterdir()) == \
        sorted(p.name for p in (dbtpackage.package_dir() / "macros").iterdir())
    proc = run_dbt(["deps", "--profiles-dir", "."], work)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    proc = run_dbt(["run-operation", "ad_duckdb.set_threshold", "--profiles-dir", ".", "--args",
                    "{model: ae, name: \"it's\", method: quantile, target: 0.9}"], work)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert _stored_thresholds(work)["it's"][0] == "quantile"


@pytest.mark.parametrize("dest, says", [
    ("models", "holds other files and no earlier copy of the dbt package ad_duckdb"),
    ("dbt_packages/ad_duckdb", "is inside a dbt_packages/ folder, which `dbt deps` and `dbt clean` empty"),
    ("dbt_project.yml", "is a file: give a folder"),
])
def test_dbt_package_copy_refuses_a_folder_it_would_clobber(tmp_path: Path, dest: str, says: str) -> None:
    # a copy replaces an earlier copy whole; another folder's files, or one `dbt deps` empties, are not replaced
    work = tmp_path / "p"
    (work / "models").mkdir(parents=True)
    (work / "models" / "m.sql").write_text("select 1\n")
    (work / "dbt_project.yml").write_text("name: p\n")
    proc = ad_duckdb_cli("dbt-package", "--copy-to", dest, cwd=work)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert says in proc.stderr and "vendor/ad_duckdb" in proc.stderr, proc.stderr
    assert (work / "models" / "m.sql").is_file() and (work / "dbt_project.yml").read_text() == "name: p\n"


def test_copied_macro_and_the_package_together(tmp_path: Path) -> None:
    # A project that copied the macro into macros/ (the way before the package) and adds the package: both load
    # (no duplicate-macro error), the copy answers unqualified calls, the package its own name
    hooked = _HOOKED.replace("ad_duckdb.set_threshold('ae', 'cut'", "ad_duckdb_set_threshold('ae', 'cut'")
    work = _threshold_project(tmp_path / "both", {"hooked.sql": hooked, "labelled.sql": _LABELLED})
    (work / "packages.yml").write_text(f"packages:\n  - local: {dbtpackage.package_dir()}\n")
    proc = run_dbt(["deps", "--profiles-dir", "."], work)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    proc = run_dbt(["run", "--profiles-dir", "."], work)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert {"cut", "best"} <= set(_stored_thresholds(work)), out[-4000:]


def test_the_example_projects_macro_is_the_packages() -> None:
    # the file a user copies (examples/dbt_project/macros) and the package's must not drift apart
    name = "ad_duckdb_set_threshold.sql"
    assert (PROJECT / "macros" / name).read_text() == (dbtpackage.package_dir() / "macros" / name).read_text()


def test_dbt_package_copy_never_replaces_a_project_of_its_name_or_the_package_itself(tmp_path: Path) -> None:
    # an earlier copy is replaced whole: a dbt project named ad_duckdb (with models/) is no earlier copy, and the
    # installed package's own folder would be deleted before being copied onto itself
    project = tmp_path / "mine"
    (project / "models").mkdir(parents=True)
    (project / "dbt_project.yml").write_text("name: ad_duckdb\n")
    proc = ad_duckdb_cli("dbt-package", "--copy-to", ".", cwd=project)
    assert proc.returncode == 2 and "holds other files and no earlier copy" in proc.stderr, proc.stdout + proc.stderr
    assert (project / "models").is_dir()
    installed = dbtpackage.package_dir()
    before = sorted(p.relative_to(installed) for p in installed.rglob("*"))
    proc = ad_duckdb_cli("dbt-package", "--copy-to", str(installed), cwd=tmp_path)
    assert proc.returncode == 2 and "is the installed package itself" in proc.stderr, proc.stdout + proc.stderr
    assert sorted(p.relative_to(installed) for p in installed.rglob("*")) == before


def test_dbt_package_copy_again_over_an_earlier_copy_with_more_files(tmp_path: Path) -> None:
    """Copying again after an upgrade, over an earlier copy that a file manager left a .DS_Store in, was refused as
    'a folder that holds other files and no earlier copy of the dbt package': it is one. Such litter goes with the
    copy; a file of the user's own there is named, and kept."""
    dest = tmp_path / "vendor" / "ad_duckdb"
    dbtpackage.copy_package(dest)
    (dest / ".DS_Store").write_bytes(b"\x00")
    dbtpackage.copy_package(dest)
    assert not (dest / ".DS_Store").exists() and (dest / "dbt_project.yml").is_file()
    (dest / "NOTES.md").write_text("ours\n")
    with pytest.raises(ad_duckdb.OptionError, match=r"as an earlier copy does, but other files too \(NOTES\.md\), "
                       r"which a new copy would delete"):
        dbtpackage.copy_package(dest)
    assert (dest / "NOTES.md").read_text() == "ours\n"
