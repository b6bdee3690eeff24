"""Load .NET into the running Python process and reference BalloonScript.Bindings.

Two ways in, tried in this order:

1. the official ``pythonnet`` package, when it is importable (``pip install pythonnet``);
2. a small ctypes host: ``libhostfxr.so`` -> ``load_assembly_and_get_function_pointer`` ->
   ``Python.Runtime.Loader.Initialize("")`` (pythonnet then uses the libpython already in this
   process). No ``Loader.Shutdown("full_shutdown")`` at exit: it takes about 2 s and the process is ending
   anyway (the runtime stays up while Python finalises, so wrappers of .NET objects can still be released).

Either way ``import clr`` works afterwards. The CLR is loaded at most once per process: it cannot be
re-initialised after shutdown, and a rebuilt engine needs a fresh process (or notebook kernel).

Environment:
  BALLOONSCRIPT_BIN  folder holding BalloonScript.Bindings.dll (default: <repo>/bindings/bin/Release/net10.0)
  DOTNET_ROOT        .NET install root (default: found from the ``dotnet`` on PATH, then usual places)
"""
from __future__ import annotations

import contextlib
import ctypes
import os
import re
import shutil
import sys
import types
from pathlib import Path

BINDINGS_ASSEMBLY = "BalloonScript.Bindings"
_REPO_ROOT = Path(__file__).resolve().parents[2]
_DEFAULT_BIN = _REPO_ROOT / "bindings" / "bin" / "Release" / "net10.0"

_loaded = False
_host_keepalive: list = []   # ctypes objects that must outlive the call that made them


def bin_dir() -> Path:
    """The folder holding the bindings build output."""
    return Path(os.environ.get("BALLOONSCRIPT_BIN") or _DEFAULT_BIN).resolve()


def _bindings_paths() -> tuple[Path, Path]:
    folder = bin_dir()
    dll = folder / f"{BINDINGS_ASSEMBLY}.dll"
    config = folder / f"{BINDINGS_ASSEMBLY}.runtimeconfig.json"
    missing = [p.name for p in (dll, config, folder / "Python.Runtime.dll") if not p.is_file()]
    if missing:
        raise ImportError(
            f"balloonscript: the .NET bindings are not built ({', '.join(missing)} missing in {folder}). "
            f"Run `make build` in {_REPO_ROOT} (or set BALLOONSCRIPT_BIN to the bindings build output)."
        )
    return dll, config


def _version_key(name: str) -> tuple:
    return tuple(int(x) if x.isdigit() else -1 for x in re.split(r"[.\-+]", name))


def dotnet_root() -> Path:
    """Returns the first .NET install with a host/fxr folder: $DOTNET_ROOT, the dotnet on PATH, the usual places."""
    candidates = []
    if os.environ.get("DOTNET_ROOT"):
        candidates.append(Path(os.environ["DOTNET_ROOT"]))
    exe = shutil.which("dotnet")
    if exe:
        candidates.append(Path(os.path.realpath(exe)).parent)
    candidates += [Path("/usr/share/dotnet"), Path("/usr/lib/dotnet"), Path("/usr/local/share/dotnet"),
                   Path.home() / ".dotnet"]
    for root in candidates:
        if (root / "host" / "fxr").is_dir():
            return root
    raise ImportError("balloonscript: no .NET runtime found (looked for host/fxr under "
                      + ", ".join(map(str, candidates)) + "); install the .NET 10 SDK or set DOTNET_ROOT")


def _hostfxr_path(root: Path) -> Path:
    versions = sorted((d for d in (root / "host" / "fxr").iterdir() if (d / "libhostfxr.so").is_file()),
                      key=lambda d: _version_key(d.name))
    if not versions:
        raise ImportError(f"balloonscript: no libhostfxr.so under {root / 'host' / 'fxr'}")
    return versions[-1] / "libhostfxr.so"


class _InitParams(ctypes.Structure):   # hostfxr_initialize_parameters
    _fields_ = [("size", ctypes.c_size_t), ("host_path", ctypes.c_char_p), ("dotnet_root", ctypes.c_char_p)]


_ENTRY = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_int)   # component_entry_point_fn


def _load_with_hostfxr(dll: Path, config: Path) -> None:
    root = dotnet_root()
    fxr = ctypes.CDLL(str(_hostfxr_path(root)))
    fxr.hostfxr_initialize_for_runtime_config.argtypes = [ctypes.c_char_p, ctypes.POINTER(_InitParams),
                                                          ctypes.POINTER(ctypes.c_void_p)]
    fxr.hostfxr_get_runtime_delegate.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.POINTER(ctypes.c_void_p)]
    for f in (fxr.hostfxr_initialize_for_runtime_config, fxr.hostfxr_get_runtime_delegate):
        f.restype = ctypes.c_int32

    params = _InitParams(ctypes.sizeof(_InitParams), None, str(root).encode())
    handle = ctypes.c_void_p()
    rc = fxr.hostfxr_initialize_for_runtime_config(str(config).encode(), ctypes.byref(params), ctypes.byref(handle))
    if rc not in (0, 1, 2) or not handle:   # Success, Success_HostAlreadyInitialized, ..._DifferentRuntimeProperties
        raise ImportError(f"balloonscript: hostfxr_initialize_for_runtime_config({config}) failed: 0x{rc & 0xffffffff:08x}")

    fn = ctypes.c_void_p()
    rc = fxr.hostfxr_get_runtime_delegate(handle, 5, ctypes.byref(fn))   # hdt_load_assembly_and_get_function_pointer
    if rc != 0 or not fn:
        raise ImportError(f"balloonscript: hostfxr_get_runtime_delegate failed: 0x{rc & 0xffffffff:08x}")
    load_fn = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p,
                               ctypes.c_void_p, ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p))(fn.value)

    def entry(method: str):
        # The bindings assembly is the component, so Python.Runtime resolves inside its load context
        # (through its deps.json): the same Python.Runtime.dll the bindings were compiled against.
        ptr = ctypes.c_void_p()
        rc = load_fn(str(dll).encode(), b"Python.Runtime.Loader, Python.Runtime", method.encode(),
                     None, None, ctypes.byref(ptr))
        if rc != 0 or not ptr:
            raise ImportError(f"balloonscript: cannot get Python.Runtime.Loader.{method}: 0x{rc & 0xffffffff:08x}")
        return _ENTRY(ptr.value)

    initialize = entry("Initialize")
    _host_keepalive.extend([fxr, handle, load_fn, initialize])
    empty = ctypes.create_string_buffer(b"")   # "": use the libpython already in this process
    if initialize(ctypes.cast(empty, ctypes.c_void_p), 0) != 0:
        raise ImportError("balloonscript: Python.Runtime.Loader.Initialize failed")


def load():
    """Load the CLR (once) and reference the bindings; returns the ``clr`` module."""
    global _loaded
    if _loaded:
        import clr
        return clr
    dll, config = _bindings_paths()
    reference = str(dll)
    if "clr" not in sys.modules or not hasattr(sys.modules["clr"], "AddReference"):
        try:
            import pythonnet
        except ImportError:
            pythonnet = None
        if pythonnet is not None:
            pythonnet.load("coreclr", runtime_config=str(config))
        else:
            _load_with_hostfxr(dll, config)
            # By name: it then resolves in the load context that already holds Python.Runtime (no second copy).
            reference = BINDINGS_ASSEMBLY
    import clr
    clr.AddReference(reference)
    _loaded = True
    return clr


@contextlib.contextmanager
def _unshadowed(*names: str):
    """Hide sys.path entries (such as the cwd) holding a folder or module named like a .NET namespace:
    Python's path finder runs before pythonnet's and would import that folder instead."""
    def shadows(entry: str) -> bool:
        base = entry or os.getcwd()
        return any(os.path.isdir(os.path.join(base, n)) or os.path.isfile(os.path.join(base, n + ".py"))
                   for n in names)
    saved = sys.path[:]
    sys.path[:] = [p for p in saved if not shadows(p)]
    for n in names:   # a shadowing plain-Python package imported earlier (pythonnet's modules are not ModuleType)
        if type(sys.modules.get(n)) is types.ModuleType:
            del sys.modules[n]
    try:
        yield
    finally:
        sys.path[:] = saved


def import_bindings():
    """Return (the BalloonScript.Bindings namespace, System) after load()."""
    load()
    with _unshadowed("BalloonScript", "System"):
        import System
        import BalloonScript.Bindings as bindings
    return bindings, System
