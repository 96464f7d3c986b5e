# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
CONF   ?= conf/ecelerity.conf

.PHONY: run test lint bench clean

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
