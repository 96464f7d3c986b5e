# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
CONF   ?= conf/ecelerity.conf

.PHONY: run test lint bench clean thrlua-suite

$(BIN)/momentum-httpsrv: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

run: $(BIN)/momentum-httpsrv
	$(BIN)/momentum-httpsrv serve -c $(CONF)

test: $(BIN)/momentum-httpsrv
	bash .ci/ensure-postgresql
	$(BIN)/ruff check momentum_httpsrv tests bench
	$(BIN)/python -m pytest -q

lint: $(BIN)/momentum-httpsrv
	$(BIN)/ruff check momentum_httpsrv tests bench

bench: $(BIN)/momentum-httpsrv
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache

# thrLua's own t/ suite under `momentum-httpsrv lua` (and rclua, when the tree has it built).
THRLUA ?=
thrlua-suite: $(BIN)/momentum-httpsrv
	@test -n "$(THRLUA)" || { echo "usage: make thrlua-suite THRLUA=/path/to/thrlua"; exit 2; }
	$(BIN)/python bench/thrlua_suite.py $(THRLUA) $(if $(wildcard $(THRLUA)/.libs/rclua),--rclua $(THRLUA)/.libs/rclua)
