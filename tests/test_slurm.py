"""The cluster path of the README (`--executor slurm --workflow-profile workflow/profiles/slurm`) against a real
SLURM: a single-node cluster that the fixture starts in a temporary folder (munged; mariadbd and slurmdbd, the
accounting whose `sacct` the executor plugin asks for each job's state; slurmctld and slurmd), then the committed
profile, unchanged, on a copy of the checkout: the fastest quick study (07) at two seeds, beside a study whose
data are missing, all four jobs side by side; then the same study and seeds without SLURM, whose verdicts the
SLURM jobs' records must equal. About 2.5 minutes on 2 cores. Skipped, with the reason, where SLURM is not installed
(.ci/run installs it) or cannot start, where the tests do not run as root, or where the machine has a SLURM
configuration of its own."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
import yaml

from aelib.pipeline import workflow

pytestmark = [pytest.mark.slow, pytest.mark.slurm]

REPOSITORY = Path(__file__).resolve().parents[1]
PROFILE = REPOSITORY / "workflow" / "profiles" / "slurm"
STUDY = "07_regularizer_comparison"  # the fastest quick study: about 20 s a seed on one thread, 30 s with its kernel
FAILING = "09_missing_data"
SEEDS = (0, 1)
PROGRAMS = ("munged", "mariadb-install-db", "mariadbd", "slurmdbd", "slurmctld", "slurmd", "sbatch", "sacct",
            "sacctmgr", "scancel", "scontrol", "sinfo")
INSTALL = "apt-get install slurm-wlm slurmdbd munge mariadb-server, as .ci/run does"
# Where srun looks for slurm.conf when $SLURM_CONF is unset: the default path, then a configless node's copy (kept
# there by its slurmd). The executor plugin's job step (snakemake-executor-plugin-slurm-jobstep) unsets every SLURM_*
# variable, $SLURM_CONF included, before its `srun` in the job; so the test links its slurm.conf to the second.
DEFAULT_CONFIGURATION = Path("/etc/slurm/slurm.conf")
NODE_CONFIGURATION = Path("/run/slurm/conf/slurm.conf")
# Snakemake reads workflow/profiles/default beside the Snakefile on top of the --profile given: in the test's copy
# only, it makes the plugin look at the jobs' states after 3 s and then every 13, 23, ... s instead of after 40 s and
# then every 40 s or more (over a minute of waiting here), and leaves the committed profile as it is
POLLING = "slurm-init-seconds-before-status-checks: 3\n"
MISSING_DATA = 'from aelib.data.datasets import load_dataset\nload_dataset("cifar10", "/nonexistent-folder", download=False)\n'


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Cluster:
    """A running single-node SLURM: its folder (configuration, state, logs) and the environment its commands need."""
    folder: Path
    environment: dict

    def command(self, *arguments: str) -> str:
        run = subprocess.run(arguments, capture_output=True, text=True, timeout=60, env=self.environment)
        assert run.returncode == 0, f"{' '.join(arguments)}: {run.stderr}"
        return run.stdout


def node_line(profile: dict) -> str:
    """This host as slurmd sees it (`slurmd -C`: its name, CPUs and memory), raised where the host is smaller to what
    the profile asks of the test's jobs all at once: the committed profile is accepted as it is, and the jobs run
    side by side rather than one after another."""
    detected = subprocess.run(["slurmd", "-C"], capture_output=True, text=True, timeout=30).stdout.splitlines()[0]
    fields = dict(field.split("=", 1) for field in detected.split())
    resources = profile["default-resources"]
    jobs = 2 * len(SEEDS)
    cpus = max(int(fields["CPUs"]), jobs * int(resources.get("cpus_per_task", 1)))
    memory = max(int(fields["RealMemory"]), jobs * int(resources.get("mem_mb", 1)))
    return f"NodeName={fields['NodeName']} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={memory} State=UNKNOWN"


def configuration(folder: Path, profile: dict, ports: dict) -> tuple[str, str]:
    """slurm.conf and slurmdbd.conf: every path in `folder`, every daemon on 127.0.0.1, root throughout, no cgroups."""
    munge = folder / "munge" / "munge.socket"
    node = node_line(profile)
    host = node.split()[0].split("=", 1)[1]
    slurm = f"""ClusterName=aelibtest
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={ports['slurmctld']}
SlurmdPort={ports['slurmd']}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={munge}
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort={ports['slurmdbd']}
AccountingStoragePass={munge}
AccountingStoreFlags=job_comment
JobAcctGatherType=jobacct_gather/linux
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SlurmdParameters=config_overrides
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
StateSaveLocation={folder / 'state'}
SlurmdSpoolDir={folder / 'spool'}
SlurmctldPidFile={folder / 'slurmctld.pid'}
SlurmdPidFile={folder / 'slurmd.pid'}
SlurmctldLogFile={folder / 'log' / 'slurmctld.log'}
SlurmdLogFile={folder / 'log' / 'slurmd.log'}
{node}
PartitionName={profile['default-resources']['slurm_partition']} Nodes={host} Default=YES MaxTime=INFINITE State=UP
"""
    slurmdbd = f"""AuthType=auth/munge
AuthInfo=socket={munge}
DbdAddr=127.0.0.1
DbdHost=localhost
DbdPort={ports['slurmdbd']}
SlurmUser=root
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort={ports['mariadb']}
StorageUser=root
StorageLoc=slurm_accounting
PidFile={folder / 'slurmdbd.pid'}
LogFile={folder / 'log' / 'slurmdbd.log'}
"""
    return slurm, slurmdbd


def start(name: str, command: list[str], folder: Path, environment: dict, daemons: dict) -> None:
    log = open(folder / "log" / f"{name}.out", "w")
    daemons[name] = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=environment,
                                     start_new_session=True)
    log.close()


def wait_for(ready, what: str, folder: Path, daemons: dict, timeout: float = 60) -> None:
    """Poll `ready()` until it holds; skip the test, with the daemons' last words, if a daemon died or time ran out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        dead = [name for name, process in daemons.items() if process.poll() is not None]
        if dead:
            break
        try:
            if ready():
                return
        except OSError:
            pass
        time.sleep(0.5)
    tails = "\n".join(f"--- {log.name}:\n" + "\n".join(log.read_text(errors="replace").splitlines()[-8:])
                      for log in sorted((folder / "log").glob("*")))
    pytest.skip(f"SLURM could not start here ({what} not ready; exited: {', '.join(dead) or 'none'}):\n{tails}")


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def succeeds(*command: str, environment: dict, output: str = "") -> bool:
    run = subprocess.run(command, capture_output=True, text=True, timeout=30, env=environment)
    return run.returncode == 0 and output in run.stdout


def stop(daemons: dict) -> None:
    """Stop the daemons, the last started first; kill any that does not stop within 20 s."""
    for process in reversed(list(daemons.values())):
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=20)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A single-node SLURM with accounting, started here and stopped (jobs cancelled first) whatever happened."""
    pytest.importorskip("snakemake_executor_plugin_slurm", reason="the SLURM executor plugin is not installed "
                        "(pip install -c constraints.txt -e '.[test]')")
    missing = [program for program in PROGRAMS if shutil.which(program) is None]
    if missing:
        pytest.skip(f"SLURM is not installed (no {', '.join(missing)}): {INSTALL}")
    if os.geteuid() != 0:
        pytest.skip("starting slurmd needs root (it runs the jobs as their user); run the tests as root, as CI does")
    if DEFAULT_CONFIGURATION.exists() or NODE_CONFIGURATION.parent.exists():
        pytest.skip(f"this machine has a SLURM configuration of its own ({DEFAULT_CONFIGURATION} or "
                    f"{NODE_CONFIGURATION.parent}), which the jobs' srun would read instead of the test's")
    folder = tmp_path_factory.mktemp("slurm")
    for part in ("munge", "state", "spool", "log", "database"):
        (folder / part).mkdir()
    (folder / "munge").chmod(0o755)
    key = folder / "munge" / "munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o400)
    ports = {name: free_port() for name in ("slurmctld", "slurmd", "slurmdbd", "mariadb")}
    slurm_conf, slurmdbd_conf = configuration(folder, yaml.safe_load((PROFILE / "config.yaml").read_text()), ports)
    (folder / "slurm.conf").write_text(slurm_conf)
    (folder / "slurmdbd.conf").write_text(slurmdbd_conf)  # found beside slurm.conf; slurmdbd wants it private
    (folder / "slurmdbd.conf").chmod(0o600)
    environment = {**os.environ, "SLURM_CONF": str(folder / "slurm.conf")}
    daemons: dict[str, subprocess.Popen] = {}
    running = Cluster(folder, environment)
    created = [path for path in (NODE_CONFIGURATION.parent.parent, NODE_CONFIGURATION.parent) if not path.exists()]
    try:
        NODE_CONFIGURATION.parent.mkdir(parents=True)
        NODE_CONFIGURATION.symlink_to(folder / "slurm.conf")
        start("munged", ["munged", "--foreground", "--force", f"--socket={folder / 'munge' / 'munge.socket'}",
                         f"--key-file={key}", f"--pid-file={folder / 'munged.pid'}", f"--log-file={folder / 'log' / 'munged.log'}",
                         f"--seed-file={folder / 'munge' / 'munged.seed'}"], folder, environment, daemons)
        wait_for(lambda: (folder / "munge" / "munge.socket").exists(), "munged", folder, daemons)
        installed = subprocess.run(["mariadb-install-db", "--no-defaults", f"--datadir={folder / 'database'}", "--user=root",
                                    "--auth-root-authentication-method=normal", "--skip-test-db"],
                                   capture_output=True, text=True, timeout=120)
        if installed.returncode != 0:
            pytest.skip(f"mariadb-install-db failed: {installed.stderr[-2000:]}")
        start("mariadbd", ["mariadbd", "--no-defaults", f"--datadir={folder / 'database'}", "--user=root",
                           f"--socket={folder / 'mariadb.socket'}", f"--port={ports['mariadb']}", "--bind-address=127.0.0.1",
                           f"--pid-file={folder / 'mariadb.pid'}", f"--log-error={folder / 'log' / 'mariadb.log'}",
                           "--innodb-buffer-pool-size=64M"], folder, environment, daemons)
        wait_for(lambda: listening(ports["mariadb"]), "mariadbd", folder, daemons)
        start("slurmdbd", ["slurmdbd", "-D"], folder, environment, daemons)
        wait_for(lambda: listening(ports["slurmdbd"]), "slurmdbd", folder, daemons)
        running.command("sacctmgr", "--immediate", "add", "cluster", "aelibtest")
        start("slurmctld", ["slurmctld", "-D", "-i"], folder, environment, daemons)
        wait_for(lambda: succeeds("scontrol", "ping", environment=environment, output="UP"), "slurmctld", folder, daemons)
        start("slurmd", ["slurmd", "-D"], folder, environment, daemons)
        wait_for(lambda: succeeds("sinfo", "--noheader", "--format=%t", environment=environment, output="idle"),
                 "slurmd (its node idle)", folder, daemons)
        yield running
    finally:
        if "slurmctld" in daemons and daemons["slurmctld"].poll() is None:
            subprocess.run(["scancel", "--user=root", "--full"], env=environment, capture_output=True, timeout=30)
            time.sleep(2)
        stop(daemons)
        NODE_CONFIGURATION.unlink(missing_ok=True)
        for path in reversed(created):
            path.rmdir()


def checkout(folder: Path, *, failing: bool) -> Path:
    """A copy of the checkout with the real Snakefile and profiles, study 07 (with the full profile it is judged
    against) and, if `failing`, a study whose data are missing."""
    (folder / "notebooks").mkdir(parents=True)
    shutil.copy(REPOSITORY / "pyproject.toml", folder)
    shutil.copytree(REPOSITORY / "workflow", folder / "workflow")
    for name in (f"{STUDY}.ipynb", f"{STUDY}.full.yaml"):
        shutil.copy(REPOSITORY / "notebooks" / name, folder / "notebooks")
    if failing:  # the copy run on SLURM
        (folder / "workflow" / "profiles" / "default").mkdir()
        (folder / "workflow" / "profiles" / "default" / "config.yaml").write_text(POLLING)
        cells = [nbformat.v4.new_code_cell('profile = "quick"\nseed = 0\noutput_dir = None', metadata={"tags": ["parameters"]}),
                 nbformat.v4.new_code_cell(MISSING_DATA)]
        book = nbformat.v4.new_notebook(cells=cells)
        book.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
        nbformat.write(book, folder / "notebooks" / f"{FAILING}.ipynb")
    return folder


def reproduce(folder: Path, environment: dict, *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "aelib", "reproduce", *arguments, "--profile", "quick", "--seeds",
                           *map(str, SEEDS), "--cores", "2", "--no-report"], cwd=folder, capture_output=True, text=True,
                          timeout=900, env={**environment, "TQDM_DISABLE": "1"})


def records(folder: Path) -> dict[int, dict]:
    """Study 07's metrics.json at each seed, after checking that the record is whole: its notebook and figures."""
    default = workflow.default_seed(folder / "notebooks" / f"{STUDY}.ipynb")
    found = {}
    for seed in SEEDS:
        record = workflow.seed_record_dir(STUDY, "quick", seed, default, folder)
        metrics = json.loads((record / "metrics.json").read_text())
        assert metrics["params"]["seed"] == seed and metrics["claims"]
        assert (record / f"{STUDY}.ipynb").exists()
        figures = [record / figure[kind] for figure in metrics["figures"] for kind in ("file", "pdf") if kind in figure]
        assert figures and all(figure.exists() for figure in figures), metrics["figures"]
        found[seed] = metrics
    return found


def test_the_slurm_profile_runs_the_studies_as_slurm_jobs_and_reports_a_failed_one(cluster, tmp_path):
    on_slurm = checkout(tmp_path / "on-slurm", failing=True)
    run = reproduce(on_slurm, cluster.environment, STUDY, FAILING, "--executor", "slurm",
                    "--workflow-profile", "workflow/profiles/slurm")
    output = run.stdout + run.stderr
    assert run.returncode == 1, output[-6000:]

    # Every job went through SLURM: the ids Snakemake was given are in SLURM's accounting, with each job's state
    submitted = re.findall(r"has been submitted with SLURM jobid (\d+)", output)
    assert len(submitted) == 2 * len(SEEDS), output[-6000:]
    accounting = cluster.command("sacct", "--allocations", "--parsable2", "--noheader", "--jobs", ",".join(submitted),
                                 "--format=JobIDRaw,State,Comment%200")
    states = {}
    for line in accounting.splitlines():
        job, state, comment = line.split("|")
        study, seed = re.fullmatch(r"rule_study_wildcards_(\w+)_(\d+)", comment).groups()
        states[study, int(seed)] = state
    assert states == {**{(STUDY, seed): "COMPLETED" for seed in SEEDS}, **{(FAILING, seed): "FAILED" for seed in SEEDS}}

    # The failed study is reported, with its reason and its log, and stopped nothing
    summary = run.stderr[run.stderr.index("run(s) failed"):]
    assert f"{len(SEEDS)} of {2 * len(SEEDS)} run(s) failed" in run.stderr
    for seed in SEEDS:
        assert f"{FAILING} (seed {seed}): DataNotFoundError" in summary
    assert STUDY not in summary
    assert not (on_slurm / "results" / "quick" / FAILING).exists()
    assert len(list((on_slurm / ".snakemake" / "slurm_logs").rglob("*.log"))) == len(SEEDS)  # kept for failed jobs

    # Whole records, whose claims (verdict and value) are those of the same run on this machine without SLURM
    local = checkout(tmp_path / "local", failing=False)
    without_slurm = {name: value for name, value in cluster.environment.items() if not name.startswith("SLURM_")}
    by_hand = reproduce(local, without_slurm, STUDY)
    assert by_hand.returncode == 0, by_hand.stderr[-6000:]
    for seed, (remote, here) in enumerate(zip(records(on_slurm).values(), records(local).values())):
        assert remote["provenance"]["threads"] == here["provenance"]["threads"] == 1
        assert [(c["id"], c["holds"], c["ours"]) for c in remote["claims"]] == \
               [(c["id"], c["holds"], c["ours"]) for c in here["claims"]], f"seed {SEEDS[seed]}"
