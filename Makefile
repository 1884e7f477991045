# Two commands do everything on a fresh machine (no GPU needed):
#   make reproduce   run every study in the quick profile and build report/quick/
#   make test        unit tests, the notebooks' regression tests (nbval) and the paper's build
#   make test-slurm  the cluster path against a real single-node SLURM (CI runs it too)
#   make test-fast   the unit tests alone, for the edit loop (no notebooks, nothing marked slow)
#   make paper       paper/main.pdf from the record (TeX Live needed)
# Paper scale: make reproduce PROFILE=full   (writes results/ and report/, the committed record)
# Seeds and cores: make reproduce SEEDS="0 1 2" CORES=2

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PROFILE ?= quick
CORES ?= 1
SEEDS ?=
# Data folder: $AELIB_DATA_DIR when set, else ../shared/data beside the checkout when it exists
# (how CI provides the official files offline), else the user cache, downloading what is missing.
export AELIB_DATA_DIR ?= $(wildcard $(abspath ../shared/data))

.PHONY: install lint test test-fast test-avx2 test-slurm reproduce report paper notebooks clean-quick quick-seeds

# Every notebook that the tests run, or that `make notebooks` stores, runs on one thread (the thread count
# changes float sums; the workflow gives each job one thread on 2 cores, as in results/quick-seeds/).
ONE_THREAD := OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
# A second instruction set for the notebooks' regression test: PyTorch's kernels, MKL and oneDNN held to
# AVX2 (the stored outputs were made with AVX-512 on an AMD EPYC); on a CPU without AVX-512 it changes nothing.
AVX2 := ATEN_CPU_CAPABILITY=avx2 MKL_ENABLE_INSTRUCTIONS=AVX2 ONEDNN_MAX_CPU_ISA=AVX2

install: $(VENV)/installed

$(VENV)/installed: pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $@

# ruff (pyflakes, bugbear, isort, pyupgrade; configured in pyproject.toml) on the library, tests and notebooks
lint: install
	$(PY) -m ruff check aelib tests benchmarks notebooks

test: install
	$(ONE_THREAD) $(PY) -m pytest -m "not slurm"

# The cluster path against a real single-node SLURM that the test starts (root, Debian's slurm-wlm slurmdbd munge
# mariadb-server; it skips, saying why, without them): about 2.5 minutes; CI runs it after make test.
test-slurm: install
	$(ONE_THREAD) $(PY) -m pytest tests/test_slurm.py -rs

# The edit loop: the unit tests, without the notebooks and the tests marked slow (whole workflow runs)
test-fast: install
	$(ONE_THREAD) $(PY) -m pytest tests -m "not slow and not slurm"

# The notebooks' regression test (nbval) again, under the second instruction set: CI runs it after make test.
test-avx2: install
	$(ONE_THREAD) $(AVX2) $(PY) -m pytest notebooks

# The studies as a workflow: only what changed reruns, a failed study stops no other (see README).
reproduce: install
	$(PY) -m aelib reproduce --profile $(PROFILE) --cores $(CORES) $(if $(SEEDS),--seeds $(SEEDS))

report: install
	$(PY) -m aelib report --profile $(PROFILE)

# The paper draft: paper/main.tex with every number, table and figure generated from results/ (the record),
# compiled to paper/main.pdf (needs TeX Live, latexmk and pdftotext: see the README)
paper: install
	$(PY) -m aelib paper

clean-quick:
	rm -rf results/quick report/quick

# The committed quick-profile record over seeds: every study's quick profile at QUICK_SEEDS, from a clean
# results/quick/, copied to results/quick-seeds/ (tracked) and its report built in report/quick-seeds/
QUICK_SEEDS ?= 0 1 2 3 4
quick-seeds: install clean-quick
	rm -rf .aelib/workflow/quick
	$(PY) -m aelib reproduce --profile quick --seeds $(QUICK_SEEDS) --cores $(CORES) --no-report
	$(PY) -m aelib snapshot --profile quick --to results/quick-seeds
	$(PY) -m aelib report --results-dir results/quick-seeds --report-dir report/quick-seeds

# Re-execute the notebooks in place with their quick defaults, storing the outputs that nbval
# compares, without per-run metadata (run after changing a notebook or aelib; review the diff).
notebooks: install
	TQDM_DISABLE=1 $(ONE_THREAD) $(PY) -m aelib notebooks
