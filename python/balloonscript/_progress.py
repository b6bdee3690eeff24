"""Progress bars for long runs: tqdm's notebook widget where ipywidgets is installed, its text bar elsewhere
(tqdm.auto would warn in a notebook without ipywidgets)."""
from __future__ import annotations


def progress(iterable=None, **kwargs):
    """Returns a tqdm bar over ``iterable`` (kwargs as tqdm's)."""
    try:
        import ipywidgets  # noqa: F401
        from tqdm.auto import tqdm
    except ImportError:
        from tqdm.std import tqdm
    return tqdm(iterable, **kwargs)
