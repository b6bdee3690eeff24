"""Installing the package: pyproject.toml, an editable install into a fresh virtual environment, the version,
the licence and the citation."""
import os
import re
import subprocess
import sys
import tomllib

VENV_SNIPPET = """
import balloonscript as bs
sim = bs.Simulation(memory_mib=64, design="redesign", seed=1)
print(bs.__version__, bs.__file__, sim.page_map().size)
"""


def cited_version(repo) -> str:
    return re.search(r"^version: (\S+)$", (repo / "CITATION.cff").read_text(), re.M).group(1)


def test_pyproject_reads_the_version_from_the_package(repo):
    project = tomllib.loads((repo / "pyproject.toml").read_text())
    assert project["project"]["dynamic"] == ["version"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "balloonscript.__version__"}
    assert project["tool"]["setuptools"]["package-dir"] == {"": "python"}


def test_version_is_a_release_number_and_the_citation_cites_it(bs, repo):
    assert re.fullmatch(r"\d+\.\d+\.\d+", bs.__version__)
    assert cited_version(repo) == bs.__version__
    cff = (repo / "CITATION.cff").read_text()
    assert re.search(r"^title: BalloonScript$", cff, re.M)
    assert re.search(r"^date-released: 2026-12-01$", cff, re.M)
    abstract = re.search(r"^abstract: (.+)$", cff, re.M).group(1)
    assert "d6d86c0" in abstract and "balloon" in abstract


def test_license_is_mit_and_the_package_is_typed(repo):
    licence = (repo / "LICENSE").read_text()
    assert licence.startswith("MIT License") and "Copyright (c) 2026 The BalloonScript developers" in licence
    assert (repo / "python" / "balloonscript" / "py.typed").is_file()


def test_editable_install_into_a_fresh_venv_imports_from_any_folder(repo, tmp_path):
    venv = tmp_path / "venv"
    # As the README has it: Debian's pip, seen through the system site-packages, installs into the environment.
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)], check=True,
                   timeout=120)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(PIP_NO_INDEX="1", PIP_NO_CACHE_DIR="1", PIP_DISABLE_PIP_VERSION_CHECK="1")   # offline, as here
    python = str(venv / "bin" / "python")
    pip = subprocess.run([python, "-m", "pip", "install", "-e", str(repo), "--no-build-isolation"],
                         env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert pip.returncode == 0, pip.stdout + pip.stderr

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = subprocess.run([python, "-c", VENV_SNIPPET], env=env, cwd=elsewhere, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    version, module, pages = out.stdout.split()
    assert version == cited_version(repo)
    assert module == str(repo / "python" / "balloonscript" / "__init__.py")   # editable: the .NET build beside it
    assert pages == str(64 * 256)

    cli = subprocess.run([str(venv / "bin" / "balloonscript"), "scenarios"], env=env, cwd=elsewhere,
                         capture_output=True, text=True, timeout=300)
    assert cli.returncode == 0 and "deflate-vs-isolate" in cli.stdout.split(), cli.stderr
