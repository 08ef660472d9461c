import pytest
import torch

from chain.asr.beam_search import beam_search

torch.set_num_threads(1)


def log_likelihood(model, feats, feat_lengths, tokens, ended):
    """Teacher-forced log p(tokens [+ </s>]) of one utterance and its number of steps."""
    with torch.no_grad():
        enc, enc_lengths = model.encode(feats, feat_lengths)
        prev = torch.tensor([[model.sos_id] + tokens])
        logits, _ = model.decode_teacher_forced(enc, enc_lengths, prev)
    targets = tokens + [model.eos_id]
    logp = logits[0].log_softmax(-1)[torch.arange(len(targets)), torch.tensor(targets)]
    steps = len(tokens) + 1 if ended else len(tokens)
    return float(logp[:steps].sum()), steps


@pytest.mark.parametrize("ratio", [0.75, 2.0])
def test_beam_one_equals_greedy(trained_asr, batch, ratio):
    with torch.no_grad():
        greedy = trained_asr.greedy(batch["feats"], batch["feat_lengths"], max_len_ratio=ratio)
    nbest = beam_search(trained_asr, batch["feats"], batch["feat_lengths"], beam=1,
                        max_len_ratio=ratio)
    assert [hyps[0][0] for hyps in nbest] == greedy
    assert all(len(hyps) == 1 for hyps in nbest)


@pytest.mark.parametrize("beam", [3, 5])
def test_batched_equals_one_utterance_at_a_time(trained_asr, batch, beam):
    batched = beam_search(trained_asr, batch["feats"], batch["feat_lengths"], beam=beam,
                          max_len_ratio=0.75)
    for b, nbest in enumerate(batched):
        n = int(batch["feat_lengths"][b])
        alone = beam_search(trained_asr, batch["feats"][b:b + 1, :n],
                            batch["feat_lengths"][b:b + 1], beam=beam, max_len_ratio=0.75)[0]
        assert [tokens for tokens, _ in nbest] == [tokens for tokens, _ in alone]
        for (_, score), (_, score_alone) in zip(nbest, alone):
            assert score == pytest.approx(score_alone, abs=1e-5)


@pytest.mark.parametrize("length_normalize", [True, False])
def test_nbest_lists_are_sorted_distinct_and_scored_by_likelihood(trained_asr, batch,
                                                                 length_normalize):
    ratio = 0.75
    caps = trained_asr.max_decode_lengths(torch.tensor([8, 7, 6, 5]), ratio).tolist()
    results = beam_search(trained_asr, batch["feats"], batch["feat_lengths"], beam=4,
                          max_len_ratio=ratio, length_normalize=length_normalize)
    assert len(results) == 4
    for b, nbest in enumerate(results):
        assert len(nbest) == 4
        scores = [score for _, score in nbest]
        assert scores == sorted(scores, reverse=True)
        assert len({tuple(tokens) for tokens, _ in nbest}) == len(nbest)
        for tokens, score in nbest:
            assert len(tokens) <= caps[b]
            ended = len(tokens) < caps[b]  # else it stopped at the cap, without </s>
            raw, steps = log_likelihood(trained_asr, batch["feats"][b:b + 1],
                                        batch["feat_lengths"][b:b + 1], tokens, ended)
            expected = raw / steps if length_normalize else raw
            assert score == pytest.approx(expected, abs=1e-4)


@pytest.mark.parametrize("length_normalize", [True, False])
def test_beam_wider_than_all_prefixes_is_exhaustive(trained_asr, batch, length_normalize):
    """With a cap of 2 steps and beam >= every prefix, the n-best list is the exact top of
    all 1 + 9 + 81 possible outputs, scored by teacher forcing."""
    model, eos = trained_asr, trained_asr.eos_id
    results = beam_search(model, batch["feats"], batch["feat_lengths"], beam=100,
                          max_len_ratio=0.25, length_normalize=length_normalize, nbest=5)
    symbols = [v for v in range(model.vocab_size) if v != eos]
    pairs = torch.tensor([[model.sos_id, a, b] for a in symbols for b in symbols])  # (81, 3)
    for utt, nbest in enumerate(results):
        n = int(batch["feat_lengths"][utt])
        with torch.no_grad():
            enc, enc_lengths = model.encode(batch["feats"][utt:utt + 1, :n],
                                            batch["feat_lengths"][utt:utt + 1])
            enc, enc_lengths = enc.expand(len(pairs), -1, -1), enc_lengths.expand(len(pairs))
            logp = model.decode_teacher_forced(enc, enc_lengths, pairs)[0].log_softmax(-1)
        first, second = logp[:, 0], logp[:, 1]  # (81, V) each
        norm = (lambda raw, steps: raw / steps) if length_normalize else (lambda raw, steps: raw)
        outputs = {(): norm(float(first[0, eos]), 1)}
        for row, (_, a, b) in enumerate(pairs.tolist()):
            outputs[(a,)] = norm(float(first[row, a] + second[row, eos]), 2)
            outputs[(a, b)] = norm(float(first[row, a] + second[row, b]), 2)
        assert len(outputs) == 91
        best = sorted(outputs.items(), key=lambda item: -item[1])[:5]
        assert [tuple(tokens) for tokens, _ in nbest] == [tokens for tokens, _ in best]
        for (_, score), (_, expected) in zip(nbest, best):
            assert score == pytest.approx(expected, abs=1e-5)


def test_nbest_option_and_bad_beam(trained_asr, batch):
    results = beam_search(trained_asr, batch["feats"], batch["feat_lengths"], beam=3, nbest=1)
    assert all(len(nbest) == 1 for nbest in results)
    with pytest.raises(ValueError, match="beam must be >= 1: got 0"):
        beam_search(trained_asr, batch["feats"], batch["feat_lengths"], beam=0)
