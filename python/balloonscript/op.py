"""Operations a simulated CPU runs in a race, as data:

    race = sim.race(cpu0=[bs.op.deflate(pages=16)], cpu1=[bs.op.compact(mode="async")])

Each function here returns an ``Op`` (kind and arguments); the engine checks and binds it when the race is built, and
runs it as one kernel path on its CPU without calling back into Python. The functions, their parameters, defaults and
help are built from the engine's table (``PyExplore.OpKinds``), so the two sides cannot drift apart: ``kinds()`` lists
them. A parameter whose engine default is "-1" or "" (meaning "worked out from the prepared state") is None here.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass

from ._convert import as_int, as_real, as_str, bindings, net_errors, strs

_PyExplore = bindings.PyExplore
_CHECK = {"int": as_int, "real": as_real, "text": as_str}


@dataclass(frozen=True)
class Op:
    """One operation: ``kind`` (one of ``kinds()``) and its arguments, as given (name -> value)."""
    kind: str
    args: tuple = ()   # (name, value) pairs, in the order of the parameters

    def __repr__(self) -> str:
        return f"{self.kind}({', '.join(f'{k}={v!r}' for k, v in self.args)})"

    def _net_args(self) -> list[tuple[str, str]]:
        """The arguments as the engine takes them: text (ints as digits, reals by repr)."""
        return [(k, repr(float(v)) if isinstance(v, float) else str(v)) for k, v in self.args]


def _default(param):
    if param.Default is None:
        return inspect.Parameter.empty
    text = str(param.Default)
    if text in ("-1", ""):
        return None
    return {"int": int, "real": float, "text": str}[str(param.Type)](text)


def _make(kind: str):
    with net_errors():
        params = list(_PyExplore.OpParams(kind))
        help_text = str(_PyExplore.OpHelp(kind))
    names = [str(p.Name) for p in params]
    checks = {str(p.Name): _CHECK[str(p.Type)] for p in params}
    signature = inspect.Signature([inspect.Parameter(str(p.Name), inspect.Parameter.KEYWORD_ONLY, default=_default(p))
                                   for p in params])

    def make_op(**kwargs) -> Op:
        try:
            bound = signature.bind(**kwargs)
        except TypeError as e:
            raise ValueError(f"{kind}: {e}") from None
        args = tuple((name, checks[name](f"{kind}: {name}", bound.arguments[name]))
                     for name in names if bound.arguments.get(name) is not None)
        return Op(kind, args)

    make_op.__name__ = make_op.__qualname__ = kind
    make_op.__signature__ = signature
    make_op.__doc__ = help_text + ".\n\n" + "\n".join(f"{p.Name}: {p.Help}" for p in params)
    return make_op


with net_errors():
    _KINDS = tuple(strs(_PyExplore.OpKinds()))

for _kind in _KINDS:
    globals()[_kind] = _make(_kind)


def kinds() -> list[str]:
    """The operations races can use, in the engine's order."""
    return list(_KINDS)


__all__ = ["Op", "kinds", *_KINDS]
