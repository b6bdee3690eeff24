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


def test_readme_job_file_is_a_valid_sweep(bs, repo, tmp_path):
    from balloonscript import jobs
    toml = re.findall(r"```toml\n(.*?)```", (repo / "README.md").read_text(), re.S)
    assert toml, "README.md has no job file"
    (tmp_path / "job.toml").write_text(toml[0])
    job = jobs.load(tmp_path / "job.toml", grid=True)
    assert job.experiment == "canonical" and job.grid["design"] == list(bs.DESIGNS)
