# Top-level entry points. `make demo` and `make test` install what they need first.
VENV := tools/venv
PY := $(VENV)/bin/python

.PHONY: install demo test bench bench-feats clean

install:
	$(MAKE) -C tools

demo: install
	cd egs/mini_espeak/chain1 && ./run.sh --asr-train-set train_full --tts-train-set train_full \
		&& ../../../$(PY) -m chain.bin.data_summary . && utils/show_results.sh exp

test: install
	$(PY) -m pytest -q test

bench-feats: install
	$(PY) bench/feats.py

bench: bench-feats
	$(MAKE) -C tools bench-venv
	tools/venv_bench/bin/python bench/models.py

clean:
	$(MAKE) -C tools clean
