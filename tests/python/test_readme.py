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


def test_readme_exhaustive_search_counts_are_what_the_engine_gives(bs, repo):
    """The bounded-DFS counts README.md quotes for the presets (failing of explored schedules, the kinds found)."""
    text = " ".join((repo / "README.md").read_text().split())

    def dfs(scenario, design, depth):
        r = bs.preset(scenario, design, 0).explore("dfs", schedules=100_000, depth=depth, progress=False)
        assert r.exhausted
        return r.failing, f"{r.schedules:,}", set(r.failing_by_kind)

    def quoted(phrase):
        assert phrase in text, f"README.md should say {phrase!r}"

    failing, n, kinds = dfs("scan-vs-migrate", "legacy", 1)
    quoted(f"({failing} of {n} schedules;")
    failing, n, kinds = dfs("scan-vs-migrate", "legacy", 2)
    quoted(f"{failing} of {n} with two)")
    assert kinds == {"kasan"}
    redesign, fixed = (dfs("scan-vs-migrate", d, 2) for d in ("redesign", "fixed"))
    assert redesign == fixed and fixed[0] == 0
    quoted(f"none of the {fixed[1]} schedules of redesign or fixed")
    failing, n, kinds = dfs("deflate-vs-isolate", "legacy", 2)
    listed = re.search(rf"fails in {failing} of {n} legacy schedules \(([a-z_, ]+)\)", text)
    assert listed and set(listed.group(1).split(", ")) == kinds
    failing, n, kinds = dfs("deflate-vs-isolate", "redesign", 2)
    quoted(f"in {failing} of {n} redesign schedules (list_corruption only")
    assert kinds == {"list_corruption"}
    for scenario, depth_two_phrase in (("deflate-vs-isolate", "in none of fixed's {n};"), ("deflate-vs-migrate", "fails in none of fixed's {n}.")):
        failing, n, _ = dfs(scenario, "fixed", 2)
        assert failing == 0
        quoted(depth_two_phrase.format(n=n))
    failing, n, kinds = dfs("newpage-after-unlock", "redesign", 2)
    quoted(f"`redesign` fails in {failing} of its {n} schedules with two preemptions")
    assert kinds == {"bad_page", "accounting"}
    failing, n, _ = dfs("newpage-after-unlock", "fixed", 2)
    assert failing == 0
    quoted(f"`fixed` fails in none of {n}.")


def test_readme_memory_pressure_huge_pages_are_what_notebook_04_saved(repo):
    """README.md quotes notebook 04's huge-page counts (legacy, redesign and fixed); the notebook test keeps the saved
    outputs equal to a fresh run, and this keeps the README equal to the saved outputs."""
    import json
    quoted = re.search(r"transparent huge pages afterwards: (\d+) of\s+200 in `legacy`, (\d+) in `redesign` and `fixed`",
                       (repo / "README.md").read_text())
    assert quoted, "README.md no longer quotes notebook 04's huge pages"
    cells = json.loads((repo / "notebooks" / "04-memory-pressure.ipynb").read_text())["cells"]
    table = next("".join(o["data"]["text/plain"]) for c in cells if c["cell_type"] == "code"
                 for o in c.get("outputs", []) if "huge pages" in "".join(o.get("data", {}).get("text/plain", "")))
    saved = {}
    for row in table.splitlines():   # pandas wraps the wide frame: the first block has the "huge pages" column
        if row.split() and row.split()[0] in ("legacy", "redesign", "fixed"):
            saved.setdefault(row.split()[0], int(row.split()[1]))
    assert (saved["legacy"], saved["redesign"], saved["fixed"]) == (int(quoted[1]), int(quoted[2]), int(quoted[2]))
