# One command per job; each sets up its venv when it is missing or stale.
# The Python is the first supported one found (pyenv, else pythonX.Y on PATH), unless PYVER
# names one: make test PYVER=3.12
SUPPORTED = 3.11 3.12 3.13
comma = ,
PYTHON_FOR = $(or $(shell pyenv prefix $(1) 2>/dev/null | sed 's|$$|/bin/python|'),$(shell command -v python$(1)))
PYVER ?= $(firstword $(foreach v,$(SUPPORTED),$(if $(call PYTHON_FOR,$(v)),$(v))))
VENV ?= .venv
VPY = $(VENV)/bin/python

.PHONY: test test-all test-extras demo bench clean fuzz cpython-suite cpython-suite-one which-python

# make_venv(dir, extras): a venv this Makefile made is rebuilt from scratch when stale; one
# the user made (the guide's recipe without make) is kept, and the project installed into it
define make_venv
	@py="$(call PYTHON_FOR,$(PYVER))"; \
	if [ -z "$$py" ]; then echo "make: no Python $(or $(PYVER),3.11, 3.12 or 3.13) found (pyenv or python$(or $(PYVER),3.X) on PATH); set PYVER=3.11, 3.12 or 3.13" >&2; exit 1; fi; \
	if [ -d $(1) ] && [ ! -f $(1)/.made-by-make ]; then echo "make: installing into $(1), a venv made without make (kept)"; \
	else rm -rf $(1) && $$py -m venv $(1) && touch $(1)/.made-by-make; fi
	$(1)/bin/python -m pip install -q --upgrade pip
	$(1)/bin/python -m pip install -q -e '.[$(2)]'
	touch $(1)/.installed
endef

$(VENV)/.installed: pyproject.toml
	$(call make_venv,$(VENV),dev)

which-python:
	@echo "$(PYVER) $(call PYTHON_FOR,$(PYVER))"

test: $(VENV)/.installed
	$(VPY) -m pytest tests

# The codegen backend with the optional 'fast' extra (numexpr, numba): its fused forms.
.venv-extras/.installed: pyproject.toml
	$(call make_venv,.venv-extras,dev$(comma)fast)

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
