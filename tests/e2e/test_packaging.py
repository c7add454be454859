"""Installing Lading puts one top-level package, `lading`, and never touches another distribution.

Real virtual environments and a real wheel: PyPI's `entrypoints` and `domain` distributions are
installed first, then Lading, then Lading is uninstalled; both keep importing and working at every
step. Lading's own dependencies are borrowed from the running environment through a path file, so
the test installs only what it checks.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
PACKAGE_FOLDERS = ("domain", "application", "adapters", "entrypoints", "lading")


def _run(*args: str | Path, cwd: Path | None = None) -> str:
    done = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True,
                          timeout=600, env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    assert done.returncode == 0, f"{args}\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    # Build from a copy of the tracked files: setuptools writes build/ beside the sources.
    source = tmp_path_factory.mktemp("source")
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    for name in filter(None, tracked.decode().split("\0")):
        if (REPO / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, source / name)
    out = tmp_path_factory.mktemp("wheel")
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", out, source)
    (built,) = out.glob("lading-*.whl")
    return built


def _new_venv(path: Path) -> Path:
    venv.EnvBuilder(with_pip=True).create(path)
    python = path / "bin" / "python"
    purelib = _run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").strip()
    # Lading's dependencies (pyarrow, litestar, ...) come from the running environment.
    (Path(purelib) / "borrowed-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


def _others_work(python: Path) -> None:
    # Run outside the repository: its own domain/ and entrypoints/ folders would shadow PyPI's.
    _run(python, "-c", "import entrypoints, domain; assert callable(entrypoints.get_group_all); "
                       "assert entrypoints.get_group_all('console_scripts') is not None",
         cwd=python.parents[2])


def test_the_wheel_holds_one_top_level_package_and_every_sub_package(wheel):
    import zipfile

    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert top_level == {"lading"}
    assert "lading/py.typed" in names
    for folder in PACKAGE_FOLDERS[:-1]:
        for init in (REPO / folder).rglob("__init__.py"):
            relative = init.relative_to(REPO).as_posix()
            assert f"lading/{relative}" in names, f"{relative} is not in the wheel: list it in pyproject.toml"


def test_the_wheel_ships_the_consoles_templates_and_assets(wheel):
    import zipfile

    names = set(zipfile.ZipFile(wheel).namelist())
    console = REPO / "entrypoints" / "http" / "console"
    shipped = [p for d in ("templates", "static") for p in (console / d).iterdir() if p.is_file()]
    assert shipped
    for path in shipped:
        relative = path.relative_to(REPO).as_posix()
        assert f"lading/{relative}" in names, f"{relative} is not in the wheel: see package-data"


def test_installing_and_uninstalling_lading_leaves_other_distributions_working(wheel, tmp_path):
    python = _new_venv(tmp_path / "venv")
    _run(python, "-m", "pip", "install", "--quiet", "entrypoints", "domain")
    _others_work(python)

    _run(python, "-m", "pip", "install", "--quiet", "--no-deps", wheel)
    _others_work(python)
    version = _run(python, "-m", "lading.entrypoints.cli", "--version", cwd=tmp_path)
    assert "lading" in version
    _run(python, "-c", "from lading.domain.table_schema import TableSchema; "
                       "TableSchema.from_dict({'fields': [{'name': 'id', 'type': 'integer'}], 'primaryKey': ['id']})", cwd=tmp_path)

    _run(python, "-m", "pip", "uninstall", "--yes", "--quiet", "lading")
    _others_work(python)
