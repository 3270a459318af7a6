# One command per job; each sets up .venv from scratch when it is missing or stale.
PYVER ?= 3.11
PYTHON_FOR = $(or $(shell pyenv prefix $(1) 2>/dev/null | sed 's|$$|/bin/python|'),$(shell command -v python$(1)))
VENV ?= .venv
VPY = $(VENV)/bin/python

.PHONY: test test-all test-extras demo bench clean fuzz cpython-suite cpython-suite-one

$(VENV)/.installed: pyproject.toml
	rm -rf $(VENV)
	$(call PYTHON_FOR,$(PYVER)) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip
	$(VPY) -m pip install -q -e '.[dev]'
	touch $@

test: $(VENV)/.installed
	$(VPY) -m pytest tests

# The codegen backend with the optional 'fast' extra (numexpr, numba): its fused forms.
.venv-extras/.installed: pyproject.toml
	rm -rf .venv-extras
	$(call PYTHON_FOR,$(PYVER)) -m venv .venv-extras
	.venv-extras/bin/python -m pip install -q --upgrade pip
	.venv-extras/bin/python -m pip install -q -e '.[dev,fast]'
	touch $@

test-extras: .venv-extras/.installed
	.venv-extras/bin/python -m pytest tests/backends/test_codegen.py

# The suite on every supported Python, each in its own venv.
test-all:
	$(MAKE) test PYVER=3.11 VENV=.venv
	$(MAKE) test PYVER=3.12 VENV=.venv-3.12
	$(MAKE) test PYVER=3.13 VENV=.venv-3.13

# Differential fuzzing for a chosen time: make fuzz FUZZ_SECONDS=600 [FUZZ_ARGS=--start=0]
FUZZ_SECONDS ?= 60
fuzz: $(VENV)/.installed
	$(VPY) -m tests.fuzz --seconds $(FUZZ_SECONDS) $(FUZZ_ARGS)

# CPython's own test modules (tests/cpython/modules.py), each test plainly and under
# md.compile, on every supported Python: a table of ok / wrong / crash / hang per module.
# make cpython-suite [CPYTHON_ARGS="test_list test_dict --timeout 30"]
cpython-suite:
	@status=0; \
	$(MAKE) --no-print-directory cpython-suite-one PYVER=3.11 VENV=.venv || status=1; \
	$(MAKE) --no-print-directory cpython-suite-one PYVER=3.12 VENV=.venv-3.12 || status=1; \
	$(MAKE) --no-print-directory cpython-suite-one PYVER=3.13 VENV=.venv-3.13 || status=1; \
	exit $$status

cpython-suite-one: $(VENV)/.installed
	$(VPY) -m tests.cpython.runner $(CPYTHON_ARGS)

demo: $(VENV)/.installed
	$(VPY) -m minidynamo demo

bench: $(VENV)/.installed
	@for f in benchmarks/*.py; do echo "== $$f"; $(VPY) $$f || exit 1; done

clean:
	rm -rf .venv .venv-3.12 .venv-3.13 .venv-extras build *.egg-info
