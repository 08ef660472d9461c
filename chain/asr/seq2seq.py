"""Attention-based sequence-to-sequence ASR of the machine speech chain paper."""
from __future__ import annotations

from typing import NamedTuple, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from chain.nets.attention import build_attention
from chain.nets.blstm import MaskedBLSTM
from chain.nets.guided_attention import check_guided_attention, guided_attention_loss
from chain.nets.masks import make_non_pad_mask, subsample_lengths


class EncoderMemory(NamedTuple):
    """What every decoder step reads: encoder output, its cached attention projection, mask."""

    enc: torch.Tensor  # (B, T', M)
    enc_proj: torch.Tensor | None  # scorer-specific projection of enc, or None
    mask: torch.Tensor  # (B, T') bool, True = valid

    def select(self, index: torch.Tensor) -> "EncoderMemory":
        """Rows ``index`` (N,) of every field (beam expansion, dropping finished utterances)."""
        return EncoderMemory(*(None if x is None else x.index_select(0, index) for x in self))


class DecoderState(NamedTuple):
    """Recurrent state carried from one decoder step to the next."""

    hidden: torch.Tensor  # (B, dec_hidden) LSTM output h^d_t
    cell: torch.Tensor  # (B, dec_hidden) LSTM cell
    context: torch.Tensor  # (B, M) previous context c_t, fed back with the next input
    attn_state: torch.Tensor  # (B, history, T') previous alignments

    def select(self, index: torch.Tensor) -> "DecoderState":
        """Rows ``index`` (N,) of every field (beam reordering)."""
        return DecoderState(*(x.index_select(0, index) for x in self))


class Seq2SeqASR(nn.Module):
    """Encoder-decoder ASR with attention (section III-B and III-D2 of the machine speech
    chain paper; Fig. 3; the section V-C2 variant uses ``attention="mlp_ma"``, ``dec_embed=256``).

    Encoder: log-mel (B, T, idim) -> Linear + LeakyReLU(0.01) -> ``enc_layers`` BiLSTM layers of
    ``enc_hidden`` units per direction, keeping every ``subsample[i]``-th frame after layer i
    (default 2, 2, 2: 1/8 of the frames) -> h^e (B, T', 2 * enc_hidden).
    Decoder, one step t: embedding of y_{t-1} (hard id, or soft probability vector times the
    embedding table) concatenated with the previous context c_{t-1} -> 1-layer LSTM
    (``dec_hidden``) -> h^d_t -> attention (Eqs. 10-12) -> c_t -> FC on [h^d_t, c_t] (optional
    tanh hidden layer of ``out_hidden`` units) -> logits over the vocabulary.
    Token ids follow chain.text: ``pad_id`` 0, ``sos_id`` 2, ``eos_id`` 3; batches carry tokens
    without <s>/</s>, which the model adds itself.

    Options: ``enc_proj`` size of the input Linear layer; ``attention`` scorer name (dot,
    bilinear, mlp, mlp_ma) with ``attn_dim`` and scorer-specific ``attn_options`` (mlp_ma:
    history, kernel_sizes, channels); ``out_hidden`` 0 for a single output FC; ``dropout``
    after the embedding, between BiLSTM layers and before the output layer;
    ``label_smoothing`` of the cross-entropy (0 = Eq. 13 exactly); ``guided_attn_weight`` x the
    guided attention loss of :mod:`chain.nets.guided_attention` (width ``guided_attn_sigma``)
    added to it, a diagonal prior that keeps the attention from collapsing onto the first
    frames while the decoder memorises a small training set (not in the paper; 0 = off).
    """

    def __init__(
        self,
        *,
        # structure
        vocab_size: int,
        idim: int = 80,
        enc_proj: int = 256,
        enc_hidden: int = 256,
        enc_layers: int = 3,
        subsample: Sequence[int] = (2, 2, 2),
        dec_embed: int = 128,
        dec_hidden: int = 512,
        attention: str = "mlp",
        attn_dim: int = 256,
        attn_options: dict | None = None,
        out_hidden: int = 0,
        sos_id: int = 2,
        eos_id: int = 3,
        pad_id: int = 0,
        # training
        dropout: float = 0.0,
        label_smoothing: float = 0.0,
        guided_attn_weight: float = 0.0,
        guided_attn_sigma: float = 0.2,
    ) -> None:
        super().__init__()
        if vocab_size <= max(sos_id, eos_id, pad_id):
            raise ValueError(f"vocab_size={vocab_size} must exceed the special ids "
                             f"(sos {sos_id}, eos {eos_id}, pad {pad_id})")
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1): got {label_smoothing}")
        check_guided_attention(guided_attn_weight, guided_attn_sigma)
        self.guided_attn_weight, self.guided_attn_sigma = guided_attn_weight, guided_attn_sigma
        self.vocab_size = vocab_size
        self.sos_id, self.eos_id, self.pad_id = sos_id, eos_id, pad_id
        self.label_smoothing = label_smoothing
        # encoder
        self.enc_input = nn.Sequential(nn.Linear(idim, enc_proj), nn.LeakyReLU(0.01))
        self.enc_rnn = MaskedBLSTM(input_dim=enc_proj, hidden=enc_hidden, layers=enc_layers,
                                   subsample=subsample, dropout=dropout)
        memory_dim = self.enc_rnn.output_dim
        # decoder
        self.embed = nn.Embedding(vocab_size, dec_embed, padding_idx=pad_id)
        self.dec_cell = nn.LSTMCell(dec_embed + memory_dim, dec_hidden)
        self.attention = build_attention(attention, query_dim=dec_hidden, memory_dim=memory_dim,
                                         attn_dim=attn_dim, **(attn_options or {}))
        if out_hidden > 0:
            self.output = nn.Sequential(nn.Linear(dec_hidden + memory_dim, out_hidden), nn.Tanh(),
                                        nn.Linear(out_hidden, vocab_size))
        else:
            self.output = nn.Linear(dec_hidden + memory_dim, vocab_size)
        self.dropout = nn.Dropout(dropout)

    # ---------------------------------------------------------------- encoder
    def encode(self, feats: torch.Tensor, feat_lengths: torch.Tensor
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """feats (B, T, idim), feat_lengths (B,)
        -> (enc (B, T', 2H), zero on padding; enc_lengths (B,))."""
        if feats.size(-1) != self.enc_input[0].in_features:
            raise ValueError(f"feats have {feats.size(-1)} dims per frame but the model was built "
                             f"with idim={self.enc_input[0].in_features}: check the features "
                             "or the model config")
        x = self.enc_input(feats)  # (B, T, enc_proj)
        return self.enc_rnn(x, feat_lengths)  # (B, T/8, 2H), (B,)

    def encoded_lengths(self, feat_lengths: torch.Tensor) -> torch.Tensor:
        """Encoder frames of inputs of ``feat_lengths`` (B,) frames, without running it."""
        for step in self.enc_rnn.subsample:
            feat_lengths = subsample_lengths(feat_lengths, step)
        return feat_lengths

    # ---------------------------------------------------------------- decoder pieces
    def embed_tokens(self, tokens: torch.Tensor) -> torch.Tensor:
        """Hard ids (...) int -> (..., E); soft inputs (..., V) float -> (..., E) by a matrix
        product with the embedding table, so a one-hot row equals its hard id."""
        if tokens.is_floating_point():
            if tokens.size(-1) != self.vocab_size:
                raise ValueError(f"soft token inputs must have {self.vocab_size} classes on the "
                                 f"last axis: got shape {tuple(tokens.shape)}")
            return tokens @ self.embed.weight  # (..., E)
        return self.embed(tokens)  # (..., E)

    def init_memory(self, enc: torch.Tensor, enc_lengths: torch.Tensor) -> EncoderMemory:
        """enc (B, T', M), enc_lengths (B,) -> EncoderMemory (attention projection cached)."""
        mask = make_non_pad_mask(enc_lengths, enc.size(1))  # (B, T')
        return EncoderMemory(enc, self.attention.preprocess(enc), mask)

    def init_decoder_state(self, memory: EncoderMemory) -> DecoderState:
        """Zero LSTM state and context, attention state from ``Attention.init_state``."""
        batch = memory.enc.size(0)
        zeros = memory.enc.new_zeros(batch, self.dec_cell.hidden_size)
        return DecoderState(zeros, zeros, memory.enc.new_zeros(batch, memory.enc.size(2)),
                            self.attention.init_state(memory.mask))

    def _recur(self, embedded: torch.Tensor, state: DecoderState, memory: EncoderMemory
               ) -> tuple[torch.Tensor, DecoderState]:
        """Decoder step without the output layer: embedded (B, E) -> (weights (B, T'), state)."""
        x = torch.cat([self.dropout(embedded), state.context], dim=-1)  # (B, E + M)
        hidden, cell = self.dec_cell(x, (state.hidden, state.cell))  # (B, H) each
        context, weights, attn_state = self.attention(hidden, memory.enc, memory.enc_proj,
                                                      memory.mask, state.attn_state)
        return weights, DecoderState(hidden, cell, context, attn_state)

    def _logits(self, hidden: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        """Output layer: [h^d_t, c_t] (..., H + M) -> logits (..., V)."""
        return self.output(self.dropout(torch.cat([hidden, context], dim=-1)))

    def decoder_step(self, embedded: torch.Tensor, state: DecoderState, memory: EncoderMemory
                     ) -> tuple[torch.Tensor, torch.Tensor, DecoderState]:
        """embedded y_{t-1} (B, E) -> (logits (B, V), attention weights (B, T'), new state)."""
        weights, state = self._recur(embedded, state, memory)
        return self._logits(state.hidden, state.context), weights, state

    # ---------------------------------------------------------------- teacher forcing
    def decode_teacher_forced(self, enc: torch.Tensor, enc_lengths: torch.Tensor,
                              prev_tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Decoder run on given previous tokens (teacher forcing).

        enc (B, T', M), enc_lengths (B,), prev_tokens either ids (B, L) starting with <s> or soft
        inputs (B, L, V) (probability vectors; a one-hot row gives the same result as its id)
        -> (logits (B, L, V), attention weights (B, L, T')).
        """
        memory = self.init_memory(enc, enc_lengths)
        state = self.init_decoder_state(memory)
        embedded = self.embed_tokens(prev_tokens)  # (B, L, E)
        hiddens, contexts, weights = [], [], []
        for t in range(embedded.size(1)):
            w, state = self._recur(embedded[:, t], state, memory)
            hiddens.append(state.hidden)
            contexts.append(state.context)
            weights.append(w)
        logits = self._logits(torch.stack(hiddens, 1), torch.stack(contexts, 1))  # (B, L, V)
        return logits, torch.stack(weights, 1)  # (B, L, V), (B, L, T')

    def add_sos_eos(self, tokens: torch.Tensor, token_lengths: torch.Tensor
                    ) -> tuple[torch.Tensor, torch.Tensor]:
        """tokens (B, L) padded with pad_id -> (decoder inputs [<s>, y] (B, L + 1),
        targets [y, </s>] (B, L + 1) padded with pad_id)."""
        batch = tokens.size(0)
        sos = tokens.new_full((batch, 1), self.sos_id)
        pad = tokens.new_full((batch, 1), self.pad_id)
        prev = torch.cat([sos, tokens], dim=1)  # (B, L + 1)
        mask = make_non_pad_mask(token_lengths, tokens.size(1))  # (B, L)
        target = torch.cat([tokens.masked_fill(~mask, self.pad_id), pad], dim=1)  # (B, L + 1)
        target[torch.arange(batch, device=tokens.device), token_lengths] = self.eos_id
        return prev, target

    def forward(self, batch: dict) -> tuple[torch.Tensor, dict[str, float]]:
        """Teacher-forced training loss, Eq. (13) of the machine speech chain paper.

        batch: feats (B, T, idim), feat_lengths (B,), tokens (B, L) without <s>/</s>,
        token_lengths (B,). Loss = cross-entropy averaged over all non-pad target tokens of
        the batch, the final </s> included (label smoothing when set), plus the weighted guided
        attention loss when ``guided_attn_weight`` > 0.
        Returns (loss, {"loss", "acc"[, "guided_attn"]}) with acc the token accuracy of the argmax.
        """
        return self.loss(*self.teacher_forced_logits(batch))

    def teacher_forced_logits(self, batch: dict
                              ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """batch (as :meth:`forward`) -> (logits (B, L + 1, V), targets [y, </s>] (B, L + 1),
        guided attention loss (scalar), or None when ``guided_attn_weight`` is 0)."""
        enc, enc_lengths = self.encode(batch["feats"], batch["feat_lengths"])
        prev, target = self.add_sos_eos(batch["tokens"], batch["token_lengths"])
        logits, weights = self.decode_teacher_forced(enc, enc_lengths, prev)  # (B, L + 1, V), (B, L + 1, T')
        guide = None
        if self.guided_attn_weight > 0:
            guide = guided_attention_loss(weights, enc_lengths, batch["token_lengths"] + 1,
                                          self.guided_attn_sigma)
        return logits, target, guide

    def loss(self, logits: torch.Tensor, target: torch.Tensor, guide: torch.Tensor | None = None
             ) -> tuple[torch.Tensor, dict[str, float]]:
        """Eq. (13) of :meth:`teacher_forced_logits`' output (+ ``guided_attn_weight`` x
        ``guide``) -> (loss, {"loss", "acc"[, "guided_attn": the unweighted guide]})."""
        loss = F.cross_entropy(logits.reshape(-1, self.vocab_size), target.reshape(-1),
                               ignore_index=self.pad_id, label_smoothing=self.label_smoothing)
        stats = {}
        if guide is not None:
            loss = loss + self.guided_attn_weight * guide
            stats["guided_attn"] = float(guide.detach())
        with torch.no_grad():
            valid = target != self.pad_id
            correct = (logits.argmax(-1) == target) & valid
            acc = float(correct.sum()) / max(int(valid.sum()), 1)
        return loss, {"loss": float(loss.detach()), "acc": acc, **stats}

    # ---------------------------------------------------------------- inference
    @staticmethod
    def max_decode_lengths(enc_lengths: torch.Tensor, max_len_ratio: float) -> torch.Tensor:
        """Most decoder steps (</s> included) per utterance: ceil(ratio * enc_length), >= 1."""
        if max_len_ratio <= 0:
            raise ValueError(f"max_len_ratio must be > 0: got {max_len_ratio}")
        return torch.ceil(enc_lengths.double() * max_len_ratio).long().clamp_min(1)

    def greedy(self, feats: torch.Tensor, feat_lengths: torch.Tensor, *,
               max_len_ratio: float = 2.0, return_logits: bool = False):
        """Batched greedy decoding: feats (B, T, idim), feat_lengths (B,) -> hyps list[list[int]]
        (token ids without <s>/</s>).

        Decoding of an utterance stops at </s> or after ``max_decode_lengths`` steps. Runs with
        gradients unless the caller disables them (the chain's straight-through path needs them).
        With ``return_logits`` returns (hyps, logits (B, L, V), lengths (B,)): lengths[b] counts
        the steps of utterance b (its tokens, plus the </s> step when it ended); logits beyond
        lengths[b] are zero.
        """
        enc, enc_lengths = self.encode(feats, feat_lengths)
        memory = self.init_memory(enc, enc_lengths)
        state = self.init_decoder_state(memory)
        max_lens = self.max_decode_lengths(enc_lengths, max_len_ratio)  # (B,)
        batch = enc.size(0)
        prev = enc_lengths.new_full((batch,), self.sos_id)
        running = torch.ones(batch, dtype=torch.bool, device=enc.device)
        lengths = torch.zeros_like(enc_lengths)
        tokens, step_logits = [], []
        for t in range(int(max_lens.max())):
            logits, _, state = self.decoder_step(self.embed_tokens(prev), state, memory)
            best = logits.argmax(-1)  # (B,)
            lengths = lengths + running.long()
            tokens.append(torch.where(running, best, self.pad_id))
            step_logits.append(logits * running[:, None].to(logits.dtype))
            running = running & (best != self.eos_id) & (t + 1 < max_lens)
            if not bool(running.any()):
                break
            prev = best
        ids = torch.stack(tokens, 1).tolist()  # (B, L)
        hyps = [row[:n - 1] if row[n - 1] == self.eos_id else row[:n]
                for row, n in zip(ids, lengths.tolist())]
        if return_logits:
            return hyps, torch.stack(step_logits, 1), lengths  # (B, L, V), (B,)
        return hyps
