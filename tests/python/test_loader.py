"""Loading .NET into Python: from a clean process, with only PYTHONPATH=python."""
import subprocess
import sys

from conftest import subprocess_env

SNIPPET = """
import balloonscript as bs
sim = bs.Simulation(memory_mib=64, design="legacy", seed=1)
pm = sim.page_map()
print(type(pm).__name__, pm.dtype, pm.size, bs.PageKind(0).name)
"""


def run(code, cwd, **env):
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=subprocess_env(**env),
                          capture_output=True, text=True, timeout=300)


def test_import_with_only_pythonpath(tmp_path):
    p = run(SNIPPET, tmp_path)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["ndarray", "uint8", str(64 * 256), "free"]


def test_namespace_named_folders_in_cwd_do_not_shadow_dotnet(tmp_path):
    # A folder named like a .NET namespace in the cwd would otherwise be imported instead of it.
    for name in ("BalloonScript", "System"):
        (tmp_path / name / "Bindings").mkdir(parents=True)
    p = run(SNIPPET, tmp_path)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split()[2] == str(64 * 256)


def test_missing_build_raises_importerror_saying_make_build(tmp_path):
    p = run("import balloonscript", tmp_path, BALLOONSCRIPT_BIN=str(tmp_path / "nowhere"))
    assert p.returncode != 0
    assert "ImportError" in p.stderr and "make build" in p.stderr, p.stderr


def test_clr_loads_once(bs):
    from balloonscript import _clr
    clr1 = _clr.load()
    clr2 = _clr.load()
    assert clr1 is clr2
    import System
    names = [a.GetName().Name for a in System.AppDomain.CurrentDomain.GetAssemblies()]
    assert names.count("Python.Runtime") == 1, names
    assert names.count("BalloonScript.Bindings") == 1, names
