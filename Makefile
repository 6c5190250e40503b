# Two commands on a fresh clone: `make run` and `make test`. Everything they need is installed here.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# MediaPipe 0.10.21 is the newest wheel with the legacy `solutions.pose` API and the BlazePose full model
# inside it. Its metadata pins numpy<2, yet it runs on numpy 2.x, which the rest of the stack needs:
# install it without its declared dependencies; its real run-time needs are pinned in pyproject.toml.
MEDIAPIPE := mediapipe==0.10.21
# Pose2Sim ships the OpenSim model, BlazePose marker set and IK setup of the OpenSim cross-check; its own
# dependencies (a full vision stack) are not needed for those files.
POSE2SIM := pose2sim==0.10.49
SAMPLE := data/videos/sports2d-demo.mp4
# `make run` analyses the sample into a new run folder (named as `analyze` names it by default), then serves the
# platform with that run imported as the demo account's analysis. `:=` fixes the name once per make invocation.
SAMPLE_RUN := runs/sports2d-demo-$(shell date -u +%Y%m%d-%H%M%S)

.PHONY: install run test lint typecheck unit bench eval clean

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip==26.3
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m pip install --quiet --no-deps $(MEDIAPIPE) $(POSE2SIM)
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/spacecomputer analyze $(SAMPLE) --height 1.65 --calib data/videos/sports2d-demo.calib.toml \
		--out $(SAMPLE_RUN)
	$(VENV)/bin/spacecomputer serve --seed-run $(SAMPLE_RUN)

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(VENV)/bin/mypy

unit: $(STAMP)
	$(PY) -m pytest -n 2 -q

test: lint typecheck unit

bench: $(STAMP)
	$(PY) benchmarks/pose_throughput.py
	$(PY) benchmarks/biomechanics_speed.py
	$(PY) benchmarks/similarity_search.py

eval: $(STAMP)
	$(PY) benchmarks/opensim_agreement.py
	$(PY) benchmarks/qa_eval.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
