"""The dbt package ad_duckdb ships: the macros that go with the dbt-duckdb plugin (``ad_duckdb.dbt``).

It is a folder of this Python package (``dbt_package/``: a ``dbt_project.yml`` named ``ad_duckdb`` and ``macros/``),
so the macros a project installs come from the same release as the plugin that runs them. A project lists it in
``packages.yml`` as a ``local:`` package (no network), with the path ``ad-duckdb dbt-package`` prints, or with a copy
in the project's own folder (``--copy-to``) where that path differs between machines; ``dbt deps`` then installs it.

No dbt import here: the path is printed (and the folder copied) wherever ad_duckdb is installed.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
from pathlib import Path

from .exceptions import OptionError

# the dbt project name: a package's macros are called with it in front (ad_duckdb.set_threshold)
PACKAGE_NAME = "ad_duckdb"
# where `dbt deps` installs packages (packages-install-path's default): a copy must not be put inside it
INSTALL_FOLDER = "dbt_packages"


def package_dir() -> Path:
    """The folder of the dbt package, as installed with ad_duckdb (give it to ``local:`` in ``packages.yml``)."""
    return Path(__file__).resolve().parent / "dbt_package"


def package_version(folder: Path | None = None) -> str | None:
    """The ``version:`` in the dbt package's ``dbt_project.yml`` (``folder``, default: the installed one)."""
    text = ((folder or package_dir()) / "dbt_project.yml").read_text(encoding="utf-8")
    found = re.search(r'^version:\s*"?([^"\s]+)"?\s*$', text, re.M)
    return found.group(1) if found else None


# what file managers leave in a folder one opens: part of an earlier copy, replaced with it
_LITTER = frozenset((".DS_Store", "Thumbs.db", "desktop.ini"))


def _is_copy(folder: Path) -> bool:
    """Whether ``folder`` holds a copy of this dbt package (an earlier ``--copy-to``), which a new copy replaces:
    the package's files and nothing else, so a dbt project of the same name (models/, ...) is never taken for one."""
    return _is_named_copy(folder) and not _others(folder)


def _is_named_copy(folder: Path) -> bool:
    """Whether ``folder``'s dbt_project.yml is this dbt package's (whatever else the folder holds)."""
    project = folder / "dbt_project.yml"
    return (project.is_file() and (folder / "macros").is_dir()
            and re.search(rf"^name:\s*['\"]?{PACKAGE_NAME}['\"]?\s*$", project.read_text(encoding="utf-8"), re.M)
            is not None)


def _others(folder: Path) -> list[str]:
    """The names in ``folder`` that are not the dbt package's files (nor a file manager's litter)."""
    return sorted(p.name for p in folder.iterdir() if p.name not in {"dbt_project.yml", "macros", *_LITTER})


def copy_package(dest: str | Path) -> Path:
    """Copy the dbt package into ``dest`` (the folder ``local:`` then names), replacing an earlier copy there."""
    target = Path(dest)
    if INSTALL_FOLDER in target.resolve().parts:
        # `dbt deps` empties dbt_packages/ad_duckdb before linking the local: path there, and `dbt clean` removes
        # dbt_packages: a copy inside it would be deleted, or be the source dbt deps deletes
        raise OptionError(f"--copy-to {str(dest)!r} is inside a {INSTALL_FOLDER}/ folder, which `dbt deps` and "
                          f"`dbt clean` empty: copy the package to a folder of the project's own, e.g. "
                          f"--copy-to vendor/{PACKAGE_NAME}, and name that folder in packages.yml (local: vendor/{PACKAGE_NAME}).")
    if target.exists():
        if target.resolve() == package_dir():
            raise OptionError(f"--copy-to {str(dest)!r} is the installed package itself (what `ad-duckdb dbt-package` "
                              f"prints): name it in packages.yml as it is, or copy it to a folder of the project, e.g. "
                              f"--copy-to vendor/{PACKAGE_NAME}.")
        if not target.is_dir():
            raise OptionError(f"--copy-to {str(dest)!r} is a file: give a folder (created if missing), e.g. "
                              f"vendor/{PACKAGE_NAME}.")
        if any(target.iterdir()) and _is_named_copy(target) and (others := _others(target)):
            raise OptionError(f"--copy-to {str(dest)!r} holds the dbt package {PACKAGE_NAME}'s dbt_project.yml and "
                              f"macros/, as an earlier copy does, but other files too ({', '.join(others)}), which a "
                              f"new copy would delete: move them out of the folder and copy again, or copy to a new "
                              f"folder, e.g. vendor/{PACKAGE_NAME}.")
        if any(target.iterdir()) and not _is_copy(target):
            raise OptionError(f"--copy-to {str(dest)!r} is a folder that holds other files and no earlier copy of the "
                              f"dbt package {PACKAGE_NAME}: give a new or empty folder of the project's own, e.g. "
                              f"vendor/{PACKAGE_NAME}.")
        shutil.rmtree(target)  # an earlier copy: replaced whole, so a macro this release dropped is gone too
    shutil.copytree(package_dir(), target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def local_path(copied: Path) -> str:
    """What ``local:`` says for the copy at ``copied``: relative to the dbt project holding it (dbt reads ``local:``
    relative to the project's folder, not to where the copy was made from), else its absolute path."""
    where = copied.resolve()
    project = next((p for p in where.parents if (p / "dbt_project.yml").is_file()), None)
    return where.relative_to(project).as_posix() if project else str(where)


def missing_dbt_duckdb() -> bool:
    """Whether this Python lacks dbt-duckdb, which the macros' plugin (module: ad_duckdb.dbt) needs."""
    try:
        return importlib.util.find_spec("dbt.adapters.duckdb") is None
    except ModuleNotFoundError:  # no `dbt` at all
        return True
