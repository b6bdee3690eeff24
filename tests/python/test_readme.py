"""The Python examples in README.md run as written and print what the README says they print."""
import contextlib
import io
import re


def _blocks(repo):
    text = (repo / "README.md").read_text()
    return re.findall(r"```python\n(.*?)```", text, re.S), re.findall(r"```python\n.*?```\n\nprints\n\n```text\n(.*?)```", text, re.S)


def test_readme_comparison_prints_what_the_readme_shows(bs, repo, monkeypatch):
    code, printed = _blocks(repo)
    assert code and printed, "README.md has no example with its output"
    monkeypatch.chdir(repo)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code[0], "README.md", "exec"), {})
    assert out.getvalue() == printed[0]
    rows = {line.split()[0]: line.split()[1:] for line in printed[0].splitlines()[1:]}
    assert rows["legacy"] != rows["redesign"], "the example shows the designs differ"


def test_readme_one_guest_example_runs(bs, repo, monkeypatch):
    import matplotlib
    matplotlib.use("Agg")
    code, _ = _blocks(repo)
    monkeypatch.chdir(repo)
    scope = {}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(code[1], "README.md", "exec"), scope)
    assert scope["pm"].size == scope["sim"].memory_mib * 256 == scope["flags"].size
    assert len(scope["df"]) >= 1
