"""Every command in README.md and docs/*.md runs (issue 10).

The fenced shell commands (```bash blocks, and `$ python ...` / `python -m ...` lines of
untagged blocks) are extracted and run as written, in a scratch folder, with only what a
test needs added: ``tracking=none`` (or a scratch MLflow store for the commands that are
about tracking), a scratch output/sweep folder, the carbon data folder where the command
names ``../shared/data/carbon``, and a scratch store for ``http://`` tracking URIs. A
command that needs something the test machine lacks (torch, a GPU, RAPL/NVML, a Ray or
Slurm cluster) is skipped with the reason; the experiment sweeps are marked slow. Python
blocks marked ``<!-- example:... -->`` in docs/api.md run too.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
CARBON_DIR = Path(os.environ.get("LAYERPLAN_CARBON_DIR", ROOT.parent / "shared" / "data" / "carbon"))
DYNASPLIT_DIR = Path(os.environ.get("LAYERPLAN_DYNASPLIT_DIR", ROOT.parent / "shared" / "data" / "dynasplit"))
DAG_DIR = Path(os.environ.get("LAYERPLAN_DAG_WORKLOADS_DIR", ROOT.parent / "shared" / "data" / "dag_workloads"))


def extract_commands(path: Path) -> list[str]:
    """Shell commands of the fenced blocks of one Markdown file, continuation lines joined."""
    out = []
    for m in re.finditer(r"^```(\w*)[^\n]*\n(.*?)^```", path.read_text(encoding="utf-8"), re.S | re.M):
        lang, body = m.group(1), m.group(2)
        if lang not in ("bash", "sh", "shell", "console", ""):
            continue
        for line in body.replace("\\\n", " ").splitlines():
            s = line.strip()
            if lang == "" and not s.startswith(("$ ", "python ", "python3 ")):
                continue
            s = s[2:] if s.startswith("$ ") else s
            if s.startswith(("python ", "python3 ", ".venv/bin/", "layerplan ")):
                out.append(re.sub(r"\s+#.*$", "", s).strip())
    return out


def _has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


SWEEP = r"experiment=|experiments\.(reproduce|report|mlflow_report|pareto)"  # sweeps and reports: slow

# (pattern, action, reason): the first matching rule decides; no rule: run it, fast.
RULES = [
    (r"pip install|-m venv|-m pytest", "skip", "installs layerplan / runs the whole suite: what CI itself does"),
    (r"--cuda|--power (rapl|nvml)|nvpmodel|cpufreq", "skip", "needs a GPU or power/frequency counters of real hardware"),
    (r"import_model mypkg", "skip", "mypkg.nets:build stands for the reader's own package"),
    (r"import_model \S+\.onnx", "onnx", "needs the onnx extra (pip install 'layerplan[onnx]') and a model file"),
    (r"import_model ultralytics:", "ultralytics", "needs torch and ultralytics"),
    (r"-m layerplan\.(profiling|tools\.layer_tables|tools\.import_model)|my_tables/", "torch",
     "needs the torch extra (pip install 'layerplan[torch]'), or the table its import writes"),
    (r"dag_workloads", "dag", "needs the DAG workloads (../shared/data/dag_workloads or LAYERPLAN_DAG_WORKLOADS_DIR)"),
    (r"hydra/launcher=ray_local", "ray", "needs the ray extra (pip install 'layerplan[ray]') and, with address=auto, a cluster"),
    (r"hydra/launcher=slurm .*--cfg hydra", "fast", ""),  # a dry run: prints the launcher config
    (r"hydra/launcher=slurm", "skip", "submits to a Slurm cluster"),
    (r"2024_hourly", "carbon2024", "needs the 2024 CAISO trace in the carbon data folder"),
    (r"carbon=traces_2022|shared/data/carbon", "carbon", "needs the carbon traces (../shared/data/carbon or LAYERPLAN_CARBON_DIR)"),
    (r"dynasplit", "dynasplit", "needs the DynaSplit data (../shared/data/dynasplit or LAYERPLAN_DYNASPLIT_DIR)"),
    (SWEEP, "slow", ""),
    # CADI variants: the shortest +method=cadi run stays in the fast tier, the rest are slow
    (r"\+method=cadi \S", "slow", ""),
    (r"objective=throughput objective\.", "slow", ""),  # variants of the throughput front: the plain one stays fast
]


def classify(cmd: str) -> tuple[str, str]:
    for pattern, action, reason in RULES:
        if re.search(pattern, cmd):
            return action, reason
    return "fast", ""


def _cases():
    seen, fast, slow = set(), [], []
    for doc in DOCS:
        for cmd in extract_commands(doc):
            if cmd in seen:
                continue
            seen.add(cmd)
            action, reason = classify(cmd)
            marks = []
            if action == "skip":
                marks.append(pytest.mark.skip(reason=reason))
            elif action == "torch" and not _has("torch"):
                marks.append(pytest.mark.skip(reason=reason))
            elif action == "ray" and (not _has("ray") or "address=auto" in cmd):
                marks.append(pytest.mark.skip(reason=reason))
            elif action == "onnx" and not _has("onnx"):
                marks.append(pytest.mark.skip(reason=reason))
            elif action == "ultralytics" and not (_has("torch") and _has("ultralytics")):
                marks.append(pytest.mark.skip(reason=reason))
            elif action == "dag" and not DAG_DIR.is_dir():
                marks.append(pytest.mark.skip(reason=reason))
            elif action == "dynasplit" and not DYNASPLIT_DIR.is_dir():
                marks.append(pytest.mark.skip(reason=reason))
            elif action in ("carbon", "carbon2024") and not CARBON_DIR.is_dir():
                marks.append(pytest.mark.skip(reason=reason))
            elif action == "carbon2024" and not (CARBON_DIR / "electricitymaps_US-CAL-CISO_2024_hourly.csv").is_file():
                marks.append(pytest.mark.skip(reason=reason))
            if action in ("slow", "torch", "ray", "dag", "ultralytics") or re.search(SWEEP, cmd):  # sweeps are slow whatever they need
                marks.append(pytest.mark.slow)
            param = pytest.param(doc.name, cmd, id=f"{doc.name}:{cmd[:90]}", marks=marks)
            (slow if pytest.mark.slow in marks else fast).append(param)
    return fast + slow


def prepare(cmd: str, work: Path) -> list[str]:
    """The command as argv, with the scratch folders and data paths a test needs."""
    cmd = cmd.replace("../shared/data/carbon", str(CARBON_DIR))
    store = f"sqlite:///{work / 'mlflow.db'}"
    cmd = re.sub(r"http://[\w.\-]+:\d+", store, cmd).replace("sqlite:///mlflow.db", store)
    if "<stamp>" in cmd:  # the sweep an earlier command of the same page made
        m = re.search(r"multirun/(\w+)/<stamp>", cmd)
        found = sorted((work / "multirun" / m.group(1)).glob("*")) if m else []
        if not found:
            pytest.skip("needs the sweep of an earlier command (run the slow tier in order)")
        cmd = cmd.replace(f"multirun/{m.group(1)}/<stamp>", str(found[-1]))
    argv = shlex.split(cmd)
    if argv[0] in ("python", "python3") or argv[0].endswith("/python"):
        argv[0] = sys.executable
    if argv[0] == "layerplan":
        argv = [sys.executable, "-m", "layerplan.cli", *argv[1:]]
    is_run = len(argv) > 1 and argv[1].endswith("run.py")
    if is_run:
        argv[1] = str(ROOT / "run.py")
        extra = []  # inserted right after run.py: overrides must precede Hydra's --flags
        if not any(a.startswith("tracking") for a in argv) and "--cfg" not in argv:
            extra.append("tracking=none")
        if any(a.startswith("experiment=") for a in argv):
            if not any(a.startswith("hydra.sweep.dir=") for a in argv):
                name = next(a.split("=", 1)[1] for a in argv if a.startswith("experiment="))
                extra.append(f"hydra.sweep.dir={work / 'multirun' / name / 'sweep'}")
        if "experiment=dag_workloads" in argv and not any(a.startswith("solver.time_limit_s") for a in argv):
            extra.append("solver.time_limit_s=10")  # a short limit: 8 ILPs of up to 120 s otherwise
        argv[2:2] = extra
    if "layerplan.experiments.reproduce" in cmd and "tracking" not in cmd:
        argv += (["--"] if "--" not in argv else []) + ["tracking=none"]
    return argv


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("docs_commands")


RECORDED: set[str] = set()  # experiments recorded in the scratch MLflow store by earlier commands


@pytest.mark.parametrize("doc,cmd", _cases())
def test_documented_command_runs(doc, cmd, work):
    argv = prepare(cmd, work)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LAYERPLAN_CARBON_DIR": str(CARBON_DIR),
           "LAYERPLAN_DYNASPLIT_DIR": str(DYNASPLIT_DIR), "LAYERPLAN_DAG_WORKLOADS_DIR": str(DAG_DIR)}
    m = re.search(r"experiments\.mlflow_report (\w+)", cmd)
    if m and m.group(1) not in RECORDED:  # the page assumes the experiment was run with tracking on
        name = m.group(1)
        pre = [sys.executable, str(ROOT / "run.py"), f"experiment={name}", f"tracking.uri=sqlite:///{work / 'mlflow.db'}",
               f"hydra.sweep.dir={work / 'multirun' / name / 'recorded'}"]
        done = subprocess.run(pre, cwd=work, capture_output=True, text=True, env=env, timeout=1800)
        assert done.returncode == 0, done.stderr[-2000:]
        RECORDED.add(name)
    proc = subprocess.run(argv, cwd=work, capture_output=True, text=True, env=env, timeout=1800)
    assert proc.returncode == 0, f"{doc}: `{cmd}` exited {proc.returncode}:\n{proc.stderr[-2000:]}"
    assert "Traceback" not in proc.stderr
    if any(a.startswith("tracking.uri=") for a in argv):
        RECORDED.update(a.split("=", 1)[1] for a in argv if a.startswith("experiment="))


def test_the_extraction_finds_the_commands():
    cmds = [c for d in DOCS for c in extract_commands(d)]
    assert any(c.startswith("python run.py +method=cadi") for c in cmds)
    assert any("layerplan.experiments.pareto" in c and "--out pareto" in c for c in cmds)  # continuation joined
    assert all("\\" not in c for c in cmds)
    assert classify("python run.py experiment=table6_2")[0] == "slow"
    assert classify("python -m layerplan.profiling --model alexnet --cuda")[0] == "skip"


def python_examples(path: Path) -> list[tuple[str, str]]:
    text = path.read_text(encoding="utf-8")
    return re.findall(r"<!-- example:([\w\-]+) -->\s*```python\n(.*?)```", text, re.S)


API_DOC = ROOT / "docs" / "api.md"


@pytest.mark.parametrize("name,code", python_examples(API_DOC) if API_DOC.is_file() else [])
def test_api_doc_example_runs(name, code, tmp_path):
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, f"docs/api.md example {name}:\n{proc.stderr[-2000:]}"


def test_api_doc_has_an_example():
    assert API_DOC.is_file() and python_examples(API_DOC)
