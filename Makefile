# Top-level entry points. `make demo` and `make test` install what they need first.
VENV := tools/venv
PY := $(VENV)/bin/python

.PHONY: install demo test bench-feats clean

install:
	$(MAKE) -C tools

demo: install
	cd egs/mini_espeak/chain1 && ./run.sh && ../../../$(PY) -m chain.bin.data_summary .

test: install
	$(PY) -m pytest -q test

bench-feats: install
	$(PY) bench/feats.py

clean:
	$(MAKE) -C tools clean
