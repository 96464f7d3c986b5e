# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
CONF   ?= conf/ecelerity.conf

.PHONY: run test lint bench clean thrlua-suite

# pip stays quiet; these lines say what the minute of installing is spent on.
# lupa comes from vm/build_lupa.py: its Lua 5.1 with thrLua's number conversions (README,
# "The Lua VM"), compiled once (gcc, Python headers) and cached in build/vm.
$(BIN)/momentum-httpsrv: pyproject.toml vm/build_lupa.py
	@echo "make: creating $(VENV) with $(PYTHON)"
	@$(PYTHON) -m venv $(VENV)
	@echo "make: upgrading pip, setuptools and wheel"
	@$(BIN)/pip install --quiet --upgrade pip setuptools wheel
	@echo "make: lupa's Lua 5.1 with thrLua's number conversions (built once, about 15 s, kept in build/vm)"
	@$(BIN)/python vm/build_lupa.py build/vm > $(VENV)/lupa-wheel
	@echo "make: installing momentum-httpsrv and its dependencies (about a minute)"
	@# setuptools' editable-install notice is a UserWarning meant for package authors, not users.
	@PYTHONWARNINGS=ignore::UserWarning $(BIN)/pip install --quiet "$$(cat $(VENV)/lupa-wheel)" -e '.[test]'
	@echo "make: installed; $(BIN)/momentum-httpsrv is ready"
	@touch $@

run: $(BIN)/momentum-httpsrv
	$(BIN)/momentum-httpsrv serve -c $(CONF)

test: $(BIN)/momentum-httpsrv
	bash .ci/ensure-postgresql
	$(BIN)/ruff check momentum_httpsrv tests bench
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

lint: $(BIN)/momentum-httpsrv
	$(BIN)/ruff check momentum_httpsrv tests bench
	$(BIN)/mypy

bench: $(BIN)/momentum-httpsrv
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache

# thrLua's own t/ suite under `momentum-httpsrv lua` (and rclua, when the tree has it built).
THRLUA ?=
thrlua-suite: $(BIN)/momentum-httpsrv
	@test -n "$(THRLUA)" || { echo "usage: make thrlua-suite THRLUA=/path/to/thrlua"; exit 2; }
	$(BIN)/python bench/thrlua_suite.py $(THRLUA) $(if $(wildcard $(THRLUA)/.libs/rclua),--rclua $(THRLUA)/.libs/rclua)
