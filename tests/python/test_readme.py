"""The Python example in README.md runs as written."""
import re


def test_readme_python_example_runs(bs, repo, monkeypatch):
    import matplotlib
    matplotlib.use("Agg")
    blocks = re.findall(r"```python\n(.*?)```", (repo / "README.md").read_text(), re.S)
    assert blocks, "README.md has no python example"
    monkeypatch.chdir(repo)
    scope = {}
    exec(compile(blocks[0], "README.md", "exec"), scope)
    assert scope["pm"].size == scope["sim"].memory_mib * 256
    assert len(scope["df"]) >= 1
