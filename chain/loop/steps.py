"""The three steps of Algorithm 1 of the machine speech chain paper, and Eq. (5).

Each step takes a batch of one data dir (``chain.data.collate`` keys) and returns the
losses it computes plus statistics. Speech features are CMVN-normalised log-mel in the
domain both models were trained on (the recipe normalises ASR inputs and TTS targets with
the same ``data/cmvn.ark``; :class:`ChainModels` checks it).

- :func:`paired_step` (lines 3-8): both models teacher-forced on paired speech and text,
  Eqs. (1)-(2); with straight-through feedback from teacher-forced ASR outputs, also the
  TTS reconstruction from the ASR's one-hot outputs, added to the ASR loss (Eq. 38). The
  reconstruction loss is the TTS's whole loss (Eq. 14, whose mel term is Eq. 27).
- :func:`speech_only_step` (lines 14-18): the ASR transcribes unpaired speech (greedy or
  beam search), the TTS is teacher-forced on that speech from the transcription: Eq. (4).
  Without straight-through the transcription is a fixed input; with it (greedy source)
  the TTS loss reaches the ASR through one-hot inputs (section V).
- :func:`text_only_step` (lines 10-13): the TTS generates speech from unpaired text
  (greedy, each item stopped by its own stop token), the ASR is teacher-forced on the
  generated speech to the original text: Eq. (3). The generated speech is a fixed input.

Transcriptions that reach the ASR's length cap and generations that reach the TTS's are
dropped (counted in the statistics as ``dropped``): a run-on output is no training target.

Multi-speaker chain (section IV-A, Fig. 8, Eqs. 15-20): a TTS with a speaker encoder
attached takes z = SPKEMB(x) of the paired or speech-only utterance itself (inside
``Tacotron.forward``); the text-only step speaks in the voice of a reference drawn from
the paired and speech-only data (``chain.loop.speakers.SpeakerPool``).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from chain.asr.beam_search import beam_search
from chain.asr.recognize import MAX_LEN_RATIO
from chain.asr.seq2seq import Seq2SeqASR
from chain.loop.speakers import SpeakerPool
from chain.loop.straight_through import ST_MODES, straight_through
from chain.tts.tacotron import Tacotron

ST_SOURCES = ("greedy", "teacher_forced")


@dataclass
class ChainOptions:
    """How the chain computes its losses (the CLI of chain.bin.chain_train mirrors it)."""

    alpha: float = 1.0                  # weight of the paired losses, Eq. (5)
    beta: float = 1.0                   # weight of the unpaired losses, Eq. (5)
    asr_decode: str = "greedy"          # speech-only step: greedy or beam
    beam: int = 5                       # beam size of asr_decode beam
    max_len_ratio: float = MAX_LEN_RATIO  # ASR length cap: tokens per encoder frame
    max_frames_per_token: float = 10.0  # TTS length cap: frames per input token
    st: str = "none"                    # straight-through feedback: none, argmax, gumbel
    st_source: str = "greedy"           # ASR outputs fed through ST: greedy or teacher_forced
    tau: float = 1.0                    # temperature of the ST softmax (Eqs. 26, 33)

    def __post_init__(self):
        if self.asr_decode not in ("greedy", "beam"):
            raise ValueError(f"asr_decode must be greedy or beam: got {self.asr_decode!r}")
        if self.st not in ST_MODES:
            raise ValueError(f"st must be one of {', '.join(ST_MODES)}: got {self.st!r}")
        if self.st_source not in ST_SOURCES:
            raise ValueError(f"st_source must be one of {', '.join(ST_SOURCES)}: got {self.st_source!r}")
        if self.st != "none" and self.st_source == "greedy" and self.asr_decode != "greedy":
            raise ValueError("straight-through feedback from greedy outputs needs asr_decode greedy")
        if self.tau <= 0 or self.beam < 1 or min(self.alpha, self.beta) < 0:
            raise ValueError(f"need tau > 0, beam >= 1, alpha and beta >= 0: got tau {self.tau}, "
                             f"beam {self.beam}, alpha {self.alpha}, beta {self.beta}")

    @property
    def st_greedy(self) -> bool:
        return self.st != "none" and self.st_source == "greedy"

    @property
    def st_teacher_forced(self) -> bool:
        return self.st != "none" and self.st_source == "teacher_forced"


def paired_step(asr: Seq2SeqASR, tts: Tacotron, batch: dict, opts: ChainOptions
                ) -> tuple[torch.Tensor, torch.Tensor, dict[str, float]]:
    """Lines 3-8: ``(L_asr^P (+ L_rec_tts, Eq. 38), L_tts^P, stats)`` on a paired batch."""
    logits, target, guide = asr.teacher_forced_logits(batch)  # (B, L + 1, V), (B, L + 1)
    loss_asr, asr_stats = asr.loss(logits, target, guide)
    loss_tts, _ = tts(batch)
    stats = {"asr_p": asr_stats["loss"], "tts_p": float(loss_tts.detach())}
    if opts.st_teacher_forced:
        onehot = straight_through(logits[:, :-1], opts.st, opts.tau)  # (B, L, V): drop the </s> step
        rec, _ = tts({**batch, "tokens": onehot})
        loss_asr = loss_asr + rec
        stats["rec_tts"] = float(rec.detach())
    return loss_asr, loss_tts, stats


def speech_only_step(asr: Seq2SeqASR, tts: Tacotron, batch: dict, opts: ChainOptions
                     ) -> tuple[torch.Tensor | None, dict[str, float]]:
    """Lines 14-18: ``(L_tts^U or None when every transcription was dropped, stats)``.

    batch: feats, feat_lengths, linear of unpaired speech (no text is read).
    """
    feats, feat_lengths = batch["feats"], batch["feat_lengths"]
    logits = None
    if opts.st_greedy:  # the decoding keeps its graph: the TTS loss flows back into the ASR
        hyps, logits, _ = asr.greedy(feats, feat_lengths, max_len_ratio=opts.max_len_ratio,
                                     return_logits=True)
    else:
        hyps = _transcribe(asr, feats, feat_lengths, opts)
    caps = asr.max_decode_lengths(asr.encoded_lengths(feat_lengths), opts.max_len_ratio).tolist()
    keep = [b for b, hyp in enumerate(hyps) if 0 < len(hyp) < caps[b]]  # ended in </s>, not empty
    stats = {"dropped_asr": float(len(hyps) - len(keep))}
    if not keep:
        return None, stats
    index = torch.tensor(keep, device=feats.device)
    lengths = torch.tensor([len(hyps[b]) for b in keep], device=feats.device)
    if logits is not None:
        tokens = straight_through(logits[index, :int(lengths.max())], opts.st, opts.tau)  # (B', L, V)
    else:
        tokens = torch.full((len(keep), int(lengths.max())), asr.pad_id, dtype=torch.long, device=feats.device)
        for i, b in enumerate(keep):
            tokens[i, :len(hyps[b])] = torch.tensor(hyps[b], device=feats.device)
    sub = {"tokens": tokens, "token_lengths": lengths, "feats": feats[index],
           "feat_lengths": feat_lengths[index], "linear": batch["linear"][index]}
    loss, _ = tts(sub)
    stats["tts_u"] = float(loss.detach())
    return loss, stats


def text_only_step(asr: Seq2SeqASR, tts: Tacotron, batch: dict, opts: ChainOptions,
                   speakers: SpeakerPool | None = None) -> tuple[torch.Tensor | None, dict[str, float]]:
    """Lines 10-13: ``(L_asr^U or None when every generation hit the cap, stats)``.

    batch: tokens, token_lengths of unpaired text. The TTS generates in eval mode (no
    prenet dropout) without gradients; the ASR learns to read its speech back. A
    multi-speaker TTS speaks each text in the voice of a reference drawn from ``speakers``
    (Fig. 8(c): x~ from D^P u D^U, z~ = SPKEMB(x~)).
    """
    tokens, token_lengths = batch["tokens"], batch["token_lengths"]
    spk_vecs = None
    if tts.spk_dim:
        if speakers is None:
            raise ValueError("the text-only step of a multi-speaker TTS needs a SpeakerPool of references")
        spk_vecs = speakers.sample(len(token_lengths))[1].to(tokens.device)  # (B, Z)
    with torch.no_grad(), _eval_mode(tts):
        out = tts.generate(tokens, token_lengths, spk_vecs, max_frames_per_token=opts.max_frames_per_token,
                           with_linear=False)
    keep = (~out["hit_cap"]).nonzero().squeeze(1)  # (B',)
    stats = {"dropped_tts": float(len(token_lengths) - len(keep))}
    if len(keep) == 0:
        return None, stats
    lengths = out["lengths"][keep]
    sub = {"feats": out["mel"][keep, :int(lengths.max())], "feat_lengths": lengths,
           "tokens": tokens[keep], "token_lengths": token_lengths[keep]}
    loss, _ = asr(sub)
    stats["asr_u"] = float(loss.detach())
    return loss, stats


def chain_loss(paired: tuple[torch.Tensor, torch.Tensor] | None, unpaired: list[torch.Tensor | None],
               opts: ChainOptions) -> torch.Tensor | None:
    """Eq. (5): ``alpha * (L_tts^P + L_asr^P) + beta * (L_tts^U + L_asr^U)`` over the terms
    present (a switched-off branch or a fully dropped batch contributes nothing)."""
    terms = [opts.alpha * loss for loss in (paired or ())]
    terms += [opts.beta * loss for loss in unpaired if loss is not None]
    return torch.stack(terms).sum() if terms else None


class _eval_mode:
    """Context manager: ``module.eval()`` inside, its previous mode restored on exit."""

    def __init__(self, module: torch.nn.Module) -> None:
        self.module, self.was_training = module, module.training

    def __enter__(self) -> None:
        self.module.eval()

    def __exit__(self, *exc) -> None:
        self.module.train(self.was_training)


def _transcribe(asr: Seq2SeqASR, feats, feat_lengths, opts: ChainOptions) -> list[list[int]]:
    """Hypotheses (token ids without <s>/</s>) of greedy or beam search, eval mode, no graph."""
    with torch.no_grad(), _eval_mode(asr):
        if opts.asr_decode == "greedy":
            return asr.greedy(feats, feat_lengths, max_len_ratio=opts.max_len_ratio)
        nbest = beam_search(asr, feats, feat_lengths, beam=opts.beam, max_len_ratio=opts.max_len_ratio,
                            nbest=1)
        return [hyps[0][0] if hyps else [] for hyps in nbest]
