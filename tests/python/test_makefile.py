"""The Makefile: `make deps` checks imports before installing, and covers Jupyter, nbconvert, dask and
cloudpickle; `make notebook` (dry run only: it would start a server) serves notebooks/."""
import os
import subprocess


def make(repo, *args):
    return subprocess.run(["make", "--no-print-directory", *args], cwd=repo, capture_output=True, text=True,
                          timeout=600)


def variable(repo, name) -> str:
    out = make(repo, "--eval", f"print-var: ; @echo '$({name})'", "print-var")
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_deps_covers_jupyter_nbconvert_dask_cloudpickle_and_pip(repo):
    imports = {m.strip() for m in variable(repo, "PY_IMPORTS").split(",")}
    assert {"notebook", "nbconvert", "distributed", "cloudpickle"} <= imports
    assert {"pip", "setuptools", "ensurepip.__main__"} <= set(variable(repo, "PY_TOOLS").split())
    packages = set(variable(repo, "DEB_PACKAGES").split())
    assert {"jupyter-notebook", "python3-nbconvert", "python3-distributed", "python3-cloudpickle",
            "python3-pip", "python3-setuptools", "python3-venv"} <= packages


def test_deps_installs_nothing_when_nothing_is_missing(repo):
    out = make(repo, "-s", "deps")   # this suite runs after `make deps`: every module is there
    assert out.returncode == 0, out.stderr
    assert out.stdout == "" and "installing" not in out.stderr


def test_notebook_serves_the_notebooks_folder_and_prints_the_url(repo):
    out = make(repo, "-n", "notebook", "NOTEBOOK_PORT=8123")
    assert out.returncode == 0, out.stderr
    assert "http://127.0.0.1:8123/" in out.stdout
    command = out.stdout[out.stdout.index("-m notebook"):]
    assert "--notebook-dir=notebooks" in command and "--port=8123" in command
    assert ("--allow-root" in command) == (os.geteuid() == 0)
