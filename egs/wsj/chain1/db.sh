# Where the LDC corpora are: the directories that hold their discs (11-1.1 ... 11-13.1
# for WSJ0, 13-1.1 ... 13-34.1 for WSJ1), as LDC distributes them. local/data.sh reads
# these; --local-data-opts "--wsj0 DIR --wsj1 DIR" overrides them for one run.
WSJ0=/export/corpora/LDC/LDC93S6B   # CSR-I (WSJ0) Complete
WSJ1=/export/corpora/LDC/LDC94S13B  # CSR-II (WSJ1) Complete
# The SPHERE decoder for the shorten-compressed .wv1 files (README.md: how to build it):
# a program on PATH or a path.
SPH2PIPE=sph2pipe
