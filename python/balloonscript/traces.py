"""An explored schedule as a file to read or look at: Chrome trace-event JSON (opens in Perfetto,
https://ui.perfetto.dev, and chrome://tracing: one track per CPU, a slice per preemption point, each sanitizer report
an instant event) and plain text.

    run.to_chrome_trace("t.json")      # ScheduleRun methods call these
    print(run.to_text())

Time in the JSON is the scheduler's step: one step is shown as one microsecond.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def chrome_trace(run, title: str = "BalloonScript race") -> dict:
    """The trace-event document of ``run`` (a ScheduleRun): metadata naming the process and one thread per CPU,
    an "X" slice per preemption point on the CPU that reached it (from the previous point, of any CPU, to this one),
    and an "i" instant event per report, on the CPU it fired on; returns the dict ``json.dump`` writes."""
    trace = run.trace.sort_values("step")
    steps = trace["step"].to_numpy()
    starts = np.concatenate((steps[:1] - 1, steps[:-1]))
    tasks = trace.groupby("cpu")["task"].agg(lambda t: ", ".join(dict.fromkeys(t)))
    cpus = sorted(set(trace["cpu"].tolist()) | {r.cpu for r in run.reports})
    events = [{"name": "process_name", "ph": "M", "pid": 1, "tid": 0,
               "args": {"name": f"{title}, schedule {run.index}"}}]
    for cpu in cpus:
        events.append({"name": "thread_name", "ph": "M", "pid": 1, "tid": int(cpu),
                       "args": {"name": f"CPU{cpu}: {tasks.get(cpu, '')}".rstrip(": ")}})
        events.append({"name": "thread_sort_index", "ph": "M", "pid": 1, "tid": int(cpu), "args": {"sort_index": int(cpu)}})
    for (step, cpu, task, point), start in zip(trace[["step", "cpu", "task", "point"]].itertuples(index=False), starts):
        events.append({"name": point, "cat": "blocked" if point.startswith("blocked: ") else "point", "ph": "X",
                       "pid": 1, "tid": int(cpu), "ts": int(start), "dur": int(step - start),
                       "args": {"step": int(step), "task": task}})
    for r in run.reports:
        events.append({"name": r.kind, "cat": "report", "ph": "i", "s": "t", "pid": 1, "tid": int(r.cpu), "ts": int(r.step),
                       "args": {"pfn": int(r.pfn), "message": r.message, "call path": " <- ".join(reversed(r.trace))}})
    return {"traceEvents": events, "displayTimeUnit": "ns",
            "otherData": {"schedule": int(run.index), "choices": [int(c) for c in run.choices],
                          "preemptions": int(run.preemptions), "signature": run.signature}}


def write_chrome_trace(run, path, title: str = "BalloonScript race") -> Path:
    """Write ``chrome_trace(run)`` to ``path`` (creating its folder); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(chrome_trace(run, title), indent=1))
    return path


def text(run) -> str:
    """``run`` as text: a header, one line per preemption point (step, CPU, task, point) and the reports in full."""
    lines = [f"schedule {run.index}: {len(run.trace)} points, {run.preemptions} preemptions, "
             f"{len(run.reports)} reports" + (f" ({run.signature})" if run.signature else "")]
    if run.deadlock:
        lines.append(f"deadlock: {run.deadlock}")
    lines += [f"{step:>8}  cpu{cpu}  {task:<30}  {point}"
              for step, cpu, task, point in run.trace[["step", "cpu", "task", "point"]].itertuples(index=False)]
    lines += [str(r) for r in run.reports]
    return "\n".join(lines) + "\n"
