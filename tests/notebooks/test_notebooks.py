"""Execute every notebooks/*.ipynb headless (nbclient), in a kernel running this same Python, and check that what each
cell prints is what the notebook has saved."""
import json
import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
KERNEL = "balloonscript-python3"
# `python -m ipykernel_launcher` (its folder first on sys.path, as -m puts it), with debugpy unimportable: ipykernel then
# starts without its debugger, as where debugpy is not installed.
LAUNCH_WITHOUT_DEBUGGER = ("import os, sys; sys.path[0] = os.getcwd(); sys.modules['debugpy'] = None; "
                           "from ipykernel import kernelapp; kernelapp.launch_new_instance()")


@pytest.fixture(scope="module")
def kernel_spec_manager(tmp_path_factory):
    """A kernel spec for sys.executable (e.g. /usr/bin/python3), whatever 'python3' means elsewhere. It starts the
    kernel as ipykernel_launcher does, without the debugger: nbclient runs cells and never debugs, and importing
    debugpy cost a quarter of each kernel's start (0.41-0.46 against 0.31 CPU-s, three kernels each way)."""
    from jupyter_client.kernelspec import KernelSpecManager
    kernels = tmp_path_factory.mktemp("kernels")
    (kernels / KERNEL).mkdir()
    (kernels / KERNEL / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-c", LAUNCH_WITHOUT_DEBUGGER, "-f", "{connection_file}"],
        "display_name": f"Python ({sys.executable})", "language": "python"}))
    return KernelSpecManager(kernel_dirs=[str(kernels)], ensure_native_kernel=False)


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks/*.ipynb"


def text_outputs(cell):
    """What a reader sees as text among a code cell's outputs: the lines it printed and its results' plain text (not
    a figure's), unless the cell is tagged "timing" (it prints how long something took on this machine)."""
    if "timing" in cell.metadata.get("tags", []):
        return None
    printed = "".join(o.text for o in cell.outputs if o.output_type == "stream" and o.name == "stdout")  # however chunked
    results = [o.data.get("text/plain", "") for o in cell.outputs
               if o.output_type in ("execute_result", "display_data") and "image/png" not in o.data]
    return printed, results


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_executes(path, kernel_spec_manager, monkeypatch):
    import nbformat
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(REPO / "python"),
                                                                     os.environ.get("PYTHONPATH")])))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    nb = nbformat.read(path, as_version=4)
    saved = {i: text_outputs(c) for i, c in enumerate(nb.cells) if c.cell_type == "code"}
    km = KernelManager(kernel_name=KERNEL, kernel_spec_manager=kernel_spec_manager)
    client = NotebookClient(nb, km=km, timeout=600, kernel_name=KERNEL,
                            resources={"metadata": {"path": str(path.parent)}})
    try:
        client.execute()
    finally:   # nbclient stops only the kernels of a manager it made itself; this one (km=) is ours to stop
        if km.has_kernel:
            km.shutdown_kernel(now=True)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.execution_count for c in code)
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, errors
    images = [o for c in code for o in c.outputs if "image/png" in o.get("data", {})]
    assert images, "the notebook drew no figure"
    # The saved outputs are what a reader sees without running anything (and what the text beside them quotes).
    stale = [i for i, texts in saved.items() if texts != text_outputs(nb.cells[i])]
    assert not stale, (f"cells {stale} (from 0) print something else than the notebook has saved: re-run it "
                       "(make notebooks-outputs) and check the text that quotes its numbers")
