# Top-level entry points. `make demo` and `make test` install what they need first.
VENV := tools/venv
PY := $(VENV)/bin/python

.PHONY: install demo test bench bench-feats clean

install:
	$(MAKE) -C tools

# The embedded recipe: the baseline (ASR and TTS on train_paired), then the speech chain
# from it (stage 5; 6 epochs, not conf/chain.yaml's 8, to stay within 30 minutes on 2
# CPU cores), both evaluated by stages 6 and 7; the synthetic speech of both is scored by the
# baseline's ASR (exp/asr_asr_train_paired); egs/mini_espeak/chain1/RESULTS.md.
demo: install
	cd egs/mini_espeak/chain1 && ./run.sh --system baseline --asr-args "--epochs 40" --tts-args "--epochs 30" \
		&& ./run.sh --stage 5 --system chain --chain-args "--epochs 6" --scoring-asr-exp exp/asr_asr_train_paired \
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
