"""Batched beam search for ``Seq2SeqASR`` (sections III-D2, V-C2 of the machine speech chain paper).

All B utterances x ``beam`` hypotheses advance together: one decoder call per step on a
(B * beam) batch, no loop over utterances inside a step. Per step and utterance:

1. every running hypothesis k is extended by every token v: score_k + log p(v);
2. the best 2 * beam candidates are taken (at most ``beam`` of them end in </s>);
3. candidates ending in </s> among the best ``beam`` are set aside as ended hypotheses;
4. the best ``beam`` candidates not ending in </s> become the running hypotheses.

The final score of a hypothesis is its log-likelihood divided by its length, the number of
decoder steps it took (its tokens plus the </s> step when it ended), "to prevent the
decoder from favoring the shorter transcriptions" (section III-D2); no language model.
An utterance is finished when it reaches its length cap ``ceil(max_len_ratio * encoder
length)`` steps (the running hypotheses are then kept as they are, without </s>), or when
``beam`` hypotheses have ended and no running hypothesis scores better, by the final score
taken now, than the ``beam``-th best ended one. Without length normalisation scores only
fall, so this stop loses nothing the beam would find; with it, it is a heuristic.
Finished utterances leave the batch. With ``beam=1`` this is exactly greedy decoding
(``Seq2SeqASR.greedy``).
"""
from __future__ import annotations

import torch

from chain.asr.seq2seq import Seq2SeqASR


class _EndedHypotheses:
    """Ended hypotheses of each utterance, their final scores and the beam-th best of them."""

    def __init__(self, batch: int, beam: int, length_normalize: bool) -> None:
        self.beam = beam
        self.length_normalize = length_normalize
        self.hyps: list[list[tuple[list[int], float]]] = [[] for _ in range(batch)]
        self.threshold = torch.full((batch,), float("-inf"), dtype=torch.float64)  # (B,)

    def final_score(self, raw, steps: int):
        """Log-likelihood divided by the number of steps (when length-normalising)."""
        return raw / steps if self.length_normalize else raw

    def add(self, utt: int, tokens: list[int], raw: float, steps: int) -> None:
        self.hyps[utt].append((tokens, self.final_score(raw, steps)))
        if len(self.hyps[utt]) >= self.beam:
            scores = sorted((score for _, score in self.hyps[utt]), reverse=True)
            self.threshold[utt] = scores[self.beam - 1]

    def nbest(self, n: int) -> list[list[tuple[list[int], float]]]:
        return [sorted(hyps, key=lambda item: -item[1])[:n] for hyps in self.hyps]


@torch.no_grad()
def beam_search(model: Seq2SeqASR, feats: torch.Tensor, feat_lengths: torch.Tensor, *,
                beam: int = 5, max_len_ratio: float = 2.0, length_normalize: bool = True,
                nbest: int | None = None) -> list[list[tuple[list[int], float]]]:
    """feats (B, T, idim), feat_lengths (B,) -> for each utterance its n-best list
    [(token ids without <s>/</s>, score), ...], best first, at most ``nbest`` (default ``beam``)
    entries. Call ``model.eval()`` first (dropout would make the search random).
    """
    if beam < 1:
        raise ValueError(f"beam must be >= 1: got {beam}")
    nbest = beam if nbest is None else nbest
    enc, enc_lengths = model.encode(feats, feat_lengths)
    batch, device = enc.size(0), enc.device
    max_lens = model.max_decode_lengths(enc_lengths, max_len_ratio)  # (B,)
    beams = torch.arange(beam, device=device)  # (K,)
    rows = torch.arange(batch, device=device).repeat_interleave(beam)  # (B * K,)
    memory = model.init_memory(enc, enc_lengths).select(rows)  # fields (B * K, ...)
    state = model.init_decoder_state(memory)
    scores = torch.full((batch, beam), float("-inf"), device=device)
    scores[:, 0] = 0.0  # one live hypothesis per utterance at the start: no duplicates
    prefixes = torch.zeros(batch * beam, 0, dtype=torch.long, device=device)  # (B * K, t)
    prev = torch.full((batch * beam,), model.sos_id, dtype=torch.long, device=device)
    active = torch.arange(batch, device=device)  # original index of each utterance in the batch
    ended = _EndedHypotheses(batch, beam, length_normalize)
    rank = torch.arange(2 * beam, device=device)[None, :]  # (1, 2K)

    step = 0
    while active.numel() > 0:
        n = active.numel()
        logits, _, state = model.decoder_step(model.embed_tokens(prev), state, memory)
        logp = torch.log_softmax(logits.float(), dim=-1)  # (n * K, V)
        vocab = logp.size(1)
        candidates = (scores.view(-1, 1) + logp).view(n, beam * vocab)  # (n, K * V)
        top_scores, top_index = candidates.topk(2 * beam, dim=1)  # (n, 2K)
        source = torch.div(top_index, vocab, rounding_mode="floor")  # (n, 2K) beam of origin
        token = top_index % vocab  # (n, 2K)
        is_eos = token == model.eos_id
        base = (torch.arange(n, device=device) * beam)[:, None]  # (n, 1) first row per utterance

        # 3. ended hypotheses: </s> among the best K candidates
        finish = is_eos & (rank < beam) & torch.isfinite(top_scores)  # (n, 2K)
        for i, j in finish.nonzero().tolist():
            row = int(base[i, 0] + source[i, j])
            ended.add(int(active[i]), prefixes[row].tolist(), float(top_scores[i, j]), step + 1)

        # 4. running hypotheses: the best K candidates not ending in </s>
        order = torch.where(is_eos, rank + 2 * beam, rank).argsort(dim=1)[:, :beam]  # (n, K)
        scores = top_scores.gather(1, order)  # (n, K)
        token = token.gather(1, order)  # (n, K)
        new_rows = (base + source.gather(1, order)).view(-1)  # (n * K,)
        prefixes = torch.cat([prefixes[new_rows], token.view(-1, 1)], dim=1)  # (n * K, t + 1)
        state = state.select(new_rows)
        prev = token.view(-1)

        # length cap: keep the running hypotheses as they are
        capped = step + 1 >= max_lens[active]  # (n,)
        for i, k in (capped[:, None] & torch.isfinite(scores)).nonzero().tolist():
            ended.add(int(active[i]), prefixes[i * beam + k].tolist(), float(scores[i, k]),
                      step + 1)

        # drop finished utterances from the batch
        best_running = ended.final_score(scores.max(dim=1).values.double().cpu(), step + 1)  # (n,)
        done = capped | (best_running <= ended.threshold[active.cpu()]).to(device)  # (n,)
        if bool(done.any()):
            keep = (~done).nonzero().view(-1)  # (n',)
            keep_rows = (keep[:, None] * beam + beams[None, :]).view(-1)  # (n' * K,)
            active, scores = active[keep], scores[keep]
            prefixes, prev = prefixes[keep_rows], prev[keep_rows]
            state, memory = state.select(keep_rows), memory.select(keep_rows)
        step += 1

    return ended.nbest(nbest)
