"""Tacotron with an end-of-speech output and speaker conditioning (the chain's TTS).

Section III-C (Fig. 4), III-D2 and IV-C (Fig. 10) of the machine speech chain paper.

Encoder: character embedding (hard ids, or soft token distributions multiplied with the
embedding table, the straight-through path of section V-B) -> FC layers + LeakyReLU
(``Prenet``) -> CBHG (K = 8 banks, BiGRU) -> encoder states h^e. The text gets ``</s>``
appended (``eos_id``), so the attention has an explicit end to reach.

Decoder, one step s per group of ``r`` frames (reduction factor, r = 4 in the paper):
  p_s = Prenet(x^M of the previous group's LAST frame; zeros at s = 0) [+ W_in z]
  h^d_s = LSTM_2(LSTM_1([p_s, c_{s-1}]))         two stacked LSTMs, 256 units
  c_s, a_s = Attention(h^d_s, h^e)                MLP with alignment history (mlp_ma)
  x^M_{s,1..r} = FC(LeakyReLU(FC([h^d_s, c_s, W_out z])))          output 1: mel
  b_{s,1..r} = FC([x^M_{s,1..r}, c_s])  one stop logit PER FRAME    output 3: end of speech
After the last step: x^R = FC([PostCBHG(x^M), W_out z])              output 2: linear
z is the speaker vector (``spk_dim > 0``): projected and added before the LSTMs,
projected and concatenated before both output regressions (section IV-C). A frozen
speaker encoder (``attach_speaker_encoder``, chain.spk) gives z = SPKEMB(x) of the
target speech when a batch brings no ``spk_vecs``, and the loss term gamma3 x
(1 - cos(z, SPKEMB(x^M predicted))) of Eq. (25); it is no submodule (not in the state
dict, no parameters to train), but moves with the model (``.to``).

Targets are grouped by padding the T frames to T_pad = r * ceil(T / r) and reading them
r at a time; step s predicts frames s*r .. s*r + r - 1. Frames at or beyond an item's
length are masked out of the L2 terms. The stop target is 1 from the last valid frame
on; stop frames count up to the end of the item's own last group (r * ceil(len / r)),
so the model learns to fire inside the group it will actually generate.
"""
from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from chain.nets.attention import build_attention
from chain.nets.cbhg import CBHG
from chain.nets.guided_attention import check_guided_attention, guided_attention_loss
from chain.nets.kernels import KernelChoice
from chain.nets.lstm_steps import LSTMSteps
from chain.nets.masks import make_non_pad_mask
from chain.nets.prenet import Prenet

LOSS_REDUCTIONS = ("mean", "sum")  # how the L2 terms of Eq. (14) treat the bins (Tacotron.forward)


class Tacotron(nn.Module, KernelChoice):
    """Tacotron TTS of the machine speech chain paper (sections III-C, III-D2, IV-C).

    Defaults are the paper's sizes: embedding 256, encoder FC 256-128, CBHG K = 8 with
    128 channels and a 128-unit BiGRU, prenet 256-128, 2 decoder LSTMs of 256, reduction
    factor 4, post-CBHG K = 8, 80 mel and 1025 linear bins (2048-point FFT).
    ``sos_id`` and ``pad_id`` are kept for the constructor signature the models share;
    the text input gets no ``<s>`` and padding is handled by the lengths, not by ids.
    ``kernels`` (chain.nets.kernels) picks the decoder LSTMs' implementation: ``LSTMSteps``'
    hand-written kernels (by default on CPU) or ``nn.LSTMCell`` (elsewhere).
    """

    def __init__(
        self,
        *,
        # structure: text encoder
        vocab_size: int,
        embed_dim: int = 256,
        encoder_fc_dims: Sequence[int] = (256, 128),
        encoder_bank_size: int = 8,
        encoder_channels: int = 128,
        encoder_highway_layers: int = 4,
        encoder_rnn_dim: int = 128,
        encoder_rnn_type: str = "gru",
        # structure: decoder and outputs
        mel_dim: int = 80,
        linear_dim: int = 1025,
        reduction_factor: int = 4,
        prenet_dims: Sequence[int] = (256, 128),
        decoder_dim: int = 256,
        decoder_layers: int = 2,
        attention: str = "mlp_ma",
        attention_dim: int = 256,
        attention_conf: dict | None = None,
        output_hidden_dim: int = 256,
        postnet_bank_size: int = 8,
        postnet_channels: int = 128,
        postnet_proj_dim: int = 256,
        postnet_highway_layers: int = 4,
        postnet_rnn_dim: int = 128,
        leaky_slope: float = 0.01,
        # structure: speaker conditioning (section IV-C); 0 disables it
        spk_dim: int = 0,
        spk_proj_dim: int = 128,
        spk_loss_weight: float = 0.25,
        # structure: token ids
        sos_id: int = 2,
        eos_id: int = 3,
        pad_id: int = 0,
        # training
        dropout: float = 0.5,
        stop_pos_weight: float = 5.0,
        loss_reduction: str = "mean",
        guided_attn_weight: float = 0.0,
        guided_attn_sigma: float = 0.2,
    ) -> None:
        super().__init__()
        if reduction_factor < 1:
            raise ValueError(f"reduction_factor must be >= 1: got {reduction_factor}")
        if decoder_layers < 1:
            raise ValueError(f"decoder_layers must be >= 1: got {decoder_layers}")
        if not 0 <= eos_id < vocab_size:
            raise ValueError(f"eos_id={eos_id} is outside the vocabulary of {vocab_size} tokens")
        if spk_dim < 0 or stop_pos_weight <= 0 or spk_loss_weight < 0:
            raise ValueError(f"spk_dim and spk_loss_weight must be >= 0 and stop_pos_weight > 0: got {spk_dim}, "
                             f"{spk_loss_weight}, {stop_pos_weight}")
        self.vocab_size, self.mel_dim, self.linear_dim = vocab_size, mel_dim, linear_dim
        self.r, self.spk_dim = reduction_factor, spk_dim
        self.sos_id, self.eos_id, self.pad_id = sos_id, eos_id, pad_id
        self.stop_pos_weight, self.spk_loss_weight = stop_pos_weight, spk_loss_weight
        self.__dict__["_spk_encoder"] = None  # frozen helper, not a submodule (attach_speaker_encoder)
        if loss_reduction not in LOSS_REDUCTIONS:
            raise ValueError(f"loss_reduction must be one of {', '.join(LOSS_REDUCTIONS)}: got {loss_reduction!r}")
        self.loss_reduction = loss_reduction
        check_guided_attention(guided_attn_weight, guided_attn_sigma)
        self.guided_attn_weight, self.guided_attn_sigma = guided_attn_weight, guided_attn_sigma
        act = nn.LeakyReLU(leaky_slope)

        # text encoder
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.encoder_fc = Prenet(in_dim=embed_dim, sizes=encoder_fc_dims, leaky_slope=leaky_slope, dropout=dropout)
        fc_out = self.encoder_fc.out_dim
        self.encoder_cbhg = CBHG(
            in_dim=fc_out, bank_size=encoder_bank_size, bank_channels=encoder_channels,
            proj_channels=(encoder_channels, fc_out), highway_layers=encoder_highway_layers,
            highway_dim=encoder_channels, rnn_dim=encoder_rnn_dim, rnn_type=encoder_rnn_type,
            leaky_slope=leaky_slope)
        memory_dim = self.encoder_cbhg.out_dim

        # decoder
        self.prenet = Prenet(in_dim=mel_dim, sizes=prenet_dims, leaky_slope=leaky_slope, dropout=dropout)
        dims = [self.prenet.out_dim + memory_dim] + [decoder_dim] * decoder_layers
        self.lstms = nn.ModuleList(nn.LSTMCell(a, b) for a, b in zip(dims[:-1], dims[1:]))
        self.attention = build_attention(attention, query_dim=decoder_dim, memory_dim=memory_dim,
                                         attn_dim=attention_dim, **(attention_conf or {}))
        proj = spk_proj_dim if spk_dim else 0
        self.spk_in = nn.Linear(spk_dim, self.prenet.out_dim) if spk_dim else None
        self.spk_out = nn.Linear(spk_dim, spk_proj_dim) if spk_dim else None
        self.mel_out = nn.Sequential(nn.Linear(decoder_dim + memory_dim + proj, output_hidden_dim), act,
                                     nn.Linear(output_hidden_dim, reduction_factor * mel_dim))
        self.stop_out = nn.Linear(reduction_factor * mel_dim + memory_dim, reduction_factor)
        self.postnet = CBHG(
            in_dim=mel_dim, bank_size=postnet_bank_size, bank_channels=postnet_channels,
            proj_channels=(postnet_proj_dim, mel_dim), highway_layers=postnet_highway_layers,
            highway_dim=postnet_channels, rnn_dim=postnet_rnn_dim, leaky_slope=leaky_slope)
        self.linear_out = nn.Linear(self.postnet.out_dim + proj, linear_dim)

    # ---------------------------------------------------------------- speaker encoder
    def attach_speaker_encoder(self, encoder: nn.Module) -> "Tacotron":
        """Use the frozen ``encoder`` (with ``embed(feats, lengths) -> z (B, spk_dim)``) for
        z = SPKEMB(x) and the speaker term of Eq. (25); it is put in eval mode without gradients."""
        if self.spk_dim == 0:
            raise ValueError("a speaker encoder attached to a Tacotron built with spk_dim=0")
        if getattr(encoder, "embed_dim", self.spk_dim) != self.spk_dim:
            raise ValueError(f"the speaker encoder gives {encoder.embed_dim}-dim vectors, this Tacotron "
                             f"takes spk_dim={self.spk_dim}")
        param = next(self.parameters())
        self.__dict__["_spk_encoder"] = encoder.eval().requires_grad_(False).to(param.device)
        return self

    @property
    def speaker_encoder(self) -> nn.Module | None:
        return self._spk_encoder

    def _apply(self, fn, recurse=True):
        super()._apply(fn, recurse)
        if self._spk_encoder is not None:
            self._spk_encoder._apply(fn)
        return self

    def speaker_vectors(self, feats: torch.Tensor, feat_lengths: torch.Tensor) -> torch.Tensor:
        """z = SPKEMB(x) by the attached encoder: feats (B, T, D_mel), lengths (B,) -> (B, spk_dim)."""
        if self._spk_encoder is None:
            raise ValueError(f"this Tacotron needs spk_vecs of shape ({feats.size(0)}, {self.spk_dim}): got None "
                             "(give speaker vectors or attach a speaker encoder: tts_train --spk-exp-dir)")
        with torch.no_grad():
            return self._spk_encoder.embed(feats, feat_lengths)

    # ---------------------------------------------------------------- encoder
    def encode(self, tokens_or_probs: torch.Tensor, token_lengths: torch.Tensor
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """Hard ids (B, L) int or soft distributions (B, L, V) float, lengths (B,)
        -> (h^e (B, L + 1, M) zero on padding, lengths + 1 (B,)); ``</s>`` is appended."""
        x = tokens_or_probs
        if x.dim() == 2 and not x.is_floating_point():
            emb = self.embed(x)  # (B, L, E)
        elif x.dim() == 3 and x.is_floating_point() and x.size(-1) == self.vocab_size:
            emb = x @ self.embed.weight  # (B, L, E): soft (e.g. straight-through) input
        else:
            raise ValueError(f"text input must be ids (B, L) int or probabilities (B, L, {self.vocab_size}) "
                             f"float: got shape {tuple(x.shape)} {x.dtype}")
        lengths = token_lengths.to(emb.device)
        emb = F.pad(emb, (0, 0, 0, 1))  # (B, L + 1, E)
        at_end = torch.arange(emb.size(1), device=emb.device)[None, :] == lengths[:, None]  # (B, L + 1)
        emb = torch.where(at_end[:, :, None], self.embed.weight[self.eos_id], emb)
        lengths = lengths + 1
        return self.encoder_cbhg(self.encoder_fc(emb), lengths), lengths

    # ---------------------------------------------------------------- decoder
    def _speaker(self, spk_vecs: torch.Tensor | None, batch: int) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """spk_vecs (B, S) -> (projection added to the prenet output (B, P), projection for the outputs (B, Z))."""
        if self.spk_dim == 0:
            if spk_vecs is not None:
                raise ValueError("spk_vecs given to a Tacotron built with spk_dim=0: build it with "
                                 "spk_dim=<speaker vector size> or pass spk_vecs=None")
            return None, None
        if spk_vecs is None or tuple(spk_vecs.shape) != (batch, self.spk_dim):
            got = None if spk_vecs is None else tuple(spk_vecs.shape)
            raise ValueError(f"this Tacotron needs spk_vecs of shape ({batch}, {self.spk_dim}): got {got}")
        return self.spk_in(spk_vecs), self.spk_out(spk_vecs)

    def _init_state(self, memory: torch.Tensor, mask: torch.Tensor) -> tuple:
        """Decoder state before step 0: LSTM (h, c) zeros, context zeros, attention state."""
        batch = memory.size(0)
        hc = [(memory.new_zeros(batch, cell.hidden_size), memory.new_zeros(batch, cell.hidden_size))
              for cell in self.lstms]
        return hc, memory.new_zeros(batch, memory.size(2)), self.attention.init_state(mask)

    def _step(self, lstms: LSTMSteps, projected: torch.Tensor, state: tuple, memory: torch.Tensor,
              memory_proj: torch.Tensor | None, mask: torch.Tensor
              ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, tuple]:
        """One decoder step: the LSTMs read [p_s, c_{s-1}] (input feeding), p_s given as
        ``lstms.project_inputs(p_s)`` (B, 4H) -> (h^d_s (B, H), c_s (B, M), a_s (B, L), state)."""
        hc, context, attn_state = state
        dec, hc = lstms(projected, context, hc)
        context, weights, attn_state = self.attention(dec, memory, memory_proj, mask, attn_state)
        return dec, context, weights, (hc, context, attn_state)

    def _outputs(self, dec: torch.Tensor, context: torch.Tensor, spk_out: torch.Tensor | None
                 ) -> tuple[torch.Tensor, torch.Tensor]:
        """dec (..., H), context (..., M), spk_out (B, Z) -> (mel (..., r * D_mel), stop logits (..., r))."""
        feats = [dec, context]
        if spk_out is not None:
            feats.append(spk_out.view(spk_out.size(0), *[1] * (dec.dim() - 2), -1).expand(*dec.shape[:-1], -1))
        mel = self.mel_out(torch.cat(feats, dim=-1))
        return mel, self.stop_out(torch.cat([mel, context], dim=-1))

    def _linear(self, mel: torch.Tensor, lengths: torch.Tensor, spk_out: torch.Tensor | None) -> torch.Tensor:
        """mel (B, T, D_mel), lengths (B,) -> linear (B, T, D_lin) through the post-CBHG."""
        post = self.postnet(mel, lengths)  # (B, T, 2 * rnn)
        if spk_out is not None:
            post = torch.cat([post, spk_out[:, None, :].expand(-1, post.size(1), -1)], dim=-1)
        return self.linear_out(post)

    def teacher_forced(self, tokens_or_probs: torch.Tensor, token_lengths: torch.Tensor, feats: torch.Tensor,
                       feat_lengths: torch.Tensor, spk_vecs: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Decode with the reference mel as the previous-frame input.

        tokens (B, L) or probs (B, L, V), token_lengths (B,), feats (B, T, D_mel),
        feat_lengths (B,), spk_vecs (B, S) -> dict of mel (B, T_pad, D_mel),
        linear (B, T_pad, D_lin), stop_logits (B, T_pad), attn (B, T_pad / r, L + 1),
        with T_pad = r * ceil(T / r). Without ``spk_vecs`` a speaker-conditioned model
        takes z = SPKEMB(feats) from its attached speaker encoder.
        """
        if self.spk_dim and spk_vecs is None:
            spk_vecs = self.speaker_vectors(feats, feat_lengths)
        memory, memory_lengths = self.encode(tokens_or_probs, token_lengths)  # (B, L + 1, M)
        mask = make_non_pad_mask(memory_lengths, memory.size(1))  # (B, L + 1)
        batch, steps = feats.size(0), math.ceil(feats.size(1) / self.r)
        spk_in, spk_out = self._speaker(spk_vecs, batch)
        targets = _pad_frames(feats, steps * self.r)  # (B, T_pad, D_mel)
        previous = torch.cat([feats.new_zeros(batch, 1, self.mel_dim),
                              targets[:, self.r - 1::self.r][:, :-1]], dim=1)  # (B, steps, D_mel)
        prenet_out = self.prenet(previous)  # (B, steps, P)
        if spk_in is not None:
            prenet_out = prenet_out + spk_in[:, None, :]
        memory_proj = self.attention.preprocess(memory)
        state = self._init_state(memory, mask)
        lstms = LSTMSteps(self.lstms, self.prenet.out_dim, hand=self.hand_kernels(memory))
        decs, contexts, attns = [], [], []
        # the prenet's share of the first LSTM's input projection, for all steps at once;
        # unbind: one gradient copy for all steps, not one per step
        for projected in lstms.project_inputs(prenet_out).unbind(1):  # (B, 4H) each
            dec, context, weights, state = self._step(lstms, projected, state, memory, memory_proj, mask)
            decs.append(dec)
            contexts.append(context)
            attns.append(weights)
        mel, stop = self._outputs(torch.stack(decs, 1), torch.stack(contexts, 1), spk_out)
        mel = mel.reshape(batch, steps * self.r, self.mel_dim)  # (B, T_pad, D_mel)
        linear = self._linear(mel, feat_lengths.to(mel.device), spk_out)
        return dict(mel=mel, linear=linear, stop_logits=stop.reshape(batch, steps * self.r),
                    attn=torch.stack(attns, 1))

    @torch.no_grad()
    def generate(self, tokens_or_probs: torch.Tensor, token_lengths: torch.Tensor,
                 spk_vecs: torch.Tensor | None = None, max_frames_per_token: float = 10.0,
                 stop_threshold: float = 0.5, with_linear: bool = True) -> dict[str, torch.Tensor]:
        """Batched greedy generation; each item stops at its own first frame whose stop
        probability exceeds ``stop_threshold``, or at its cap of
        max(r, ceil(max_frames_per_token * token_length)) frames (``hit_cap`` True).

        tokens (B, L) or probs (B, L, V), token_lengths (B,), spk_vecs (B, S) -> dict of
        mel (B, T, D_mel) and linear (B, T, D_lin) zero beyond each length, lengths (B,),
        hit_cap (B,) bool, attn (B, steps, L + 1); T = lengths.max(). No gradients flow
        (the chain uses generated speech as a fixed input); prenet dropout follows the
        module's mode, so call ``eval()`` for deterministic output. ``with_linear=False``
        skips the post-CBHG (no ``linear``): the chain's ASR reads the mel only.
        """
        memory, memory_lengths = self.encode(tokens_or_probs, token_lengths)
        mask = make_non_pad_mask(memory_lengths, memory.size(1))  # (B, L + 1)
        batch, device = memory.size(0), memory.device
        spk_in, spk_out = self._speaker(spk_vecs, batch)
        caps = torch.clamp((token_lengths.to(device).double() * max_frames_per_token).ceil().long(), min=self.r)
        lengths, hit_cap = caps.clone(), torch.zeros(batch, dtype=torch.bool, device=device)
        done = torch.zeros(batch, dtype=torch.bool, device=device)
        previous = memory.new_zeros(batch, self.mel_dim)
        memory_proj = self.attention.preprocess(memory)
        state = self._init_state(memory, mask)
        lstms = LSTMSteps(self.lstms, self.prenet.out_dim, hand=self.hand_kernels(memory))
        frame = torch.arange(self.r, device=device)  # (r,)
        mels, attns = [], []
        for s in range(math.ceil(int(caps.max()) / self.r)):
            prenet_out = self.prenet(previous)  # (B, P)
            if spk_in is not None:
                prenet_out = prenet_out + spk_in
            dec, context, weights, state = self._step(lstms, lstms.project_inputs(prenet_out), state, memory,
                                                      memory_proj, mask)
            mel, stop = self._outputs(dec, context, spk_out)  # (B, r * D_mel), (B, r)
            mels.append(mel)
            attns.append(weights)
            fired = torch.sigmoid(stop) > stop_threshold  # (B, r)
            first = torch.where(fired, frame, self.r).min(dim=1).values  # (B,), r when none fired
            stop_len = s * self.r + first + 1  # (B,)
            stopped = ~done & (first < self.r) & (stop_len <= caps)
            capped = ~done & ~stopped & ((s + 1) * self.r >= caps)
            lengths = torch.where(stopped, stop_len, lengths)
            hit_cap |= capped
            done |= stopped | capped
            if bool(done.all()):
                break
            previous = mel[:, -self.mel_dim:]  # last frame of the group
        mel = torch.stack(mels, 1).reshape(batch, -1, self.mel_dim)[:, :int(lengths.max())]  # (B, T, D_mel)
        mel = mel * make_non_pad_mask(lengths, mel.size(1))[:, :, None].to(mel.dtype)
        out = dict(mel=mel, lengths=lengths, hit_cap=hit_cap, attn=torch.stack(attns, 1))
        if with_linear:
            linear = self._linear(mel, lengths, spk_out)
            out["linear"] = linear * make_non_pad_mask(lengths, mel.size(1))[:, :, None].to(linear.dtype)
        return out

    # ---------------------------------------------------------------- loss
    def forward(self, batch: dict) -> tuple[torch.Tensor, dict[str, float]]:
        """Training loss, Eq. (14) of the machine speech chain paper (Eq. (25) with a speaker
        encoder attached: + spk_loss_weight x (1 - cos(z, SPKEMB(x^M predicted))), the
        gradient reaching the TTS through the frozen encoder; gamma1 = gamma2 = 1).

        batch: tokens (B, L), token_lengths (B,), feats (B, T, D_mel), feat_lengths (B,),
        linear (B, T, D_lin), optional spk_vecs (B, S) (read only when spk_dim > 0;
        default z = SPKEMB(feats)).
        mel_l2, linear_l2 = mean squared error over valid frames and bins. The loss is
        ``loss_reduction`` "mean": mel_l2 + linear_l2 + stop BCE (the squared norms of
        Eq. 14 divided by the bins, so the three terms have comparable scale), or "sum":
        D_mel * mel_l2 + D_lin * linear_l2 + stop BCE (Eq. 14 as written: squared norms
        summed over bins, averaged over frames). The stop BCE has positive weight
        ``stop_pos_weight`` (+ ``guided_attn_weight`` x the guided attention loss,
        chain.nets.guided_attention, when that weight is positive: a diagonal prior that
        speeds up alignment). The statistics report mel_l2 and linear_l2 per bin either way.
        """
        for key in ("tokens", "token_lengths", "feats", "feat_lengths", "linear"):
            if key not in batch:
                raise KeyError(f"Tacotron batch has no {key!r}: it needs tokens, token_lengths, feats, "
                               "feat_lengths and linear (the log-linear targets from linear.scp)")
        feats, linear, feat_lengths = batch["feats"], batch["linear"], batch["feat_lengths"]
        spk_vecs = None
        if self.spk_dim:
            spk_vecs = batch["spk_vecs"] if "spk_vecs" in batch else self.speaker_vectors(feats, feat_lengths)
        out = self.teacher_forced(batch["tokens"], batch["token_lengths"], feats, feat_lengths, spk_vecs)
        t_pad = out["mel"].size(1)
        feat_lengths = feat_lengths.to(feats.device)
        valid = make_non_pad_mask(feat_lengths, t_pad)  # (B, T_pad)
        mel_l2 = _masked_mse(out["mel"], _pad_frames(feats, t_pad), valid)
        linear_l2 = _masked_mse(out["linear"], _pad_frames(linear, t_pad), valid)
        group_end = torch.div(feat_lengths + self.r - 1, self.r, rounding_mode="floor") * self.r
        stop_mask = make_non_pad_mask(group_end, t_pad)  # (B, T_pad)
        stop_target = (torch.arange(t_pad, device=feats.device)[None, :] >= feat_lengths[:, None] - 1)
        logits = out["stop_logits"][stop_mask]
        target = stop_target[stop_mask].to(logits.dtype)
        stop_bce = F.binary_cross_entropy_with_logits(
            logits, target, pos_weight=logits.new_tensor(self.stop_pos_weight))
        if self.loss_reduction == "sum":
            loss = self.mel_dim * mel_l2 + self.linear_dim * linear_l2 + stop_bce
        else:
            loss = mel_l2 + linear_l2 + stop_bce
        stop_acc = ((logits > 0) == (target > 0.5)).float().mean()
        stats = dict(mel_l2=mel_l2.item(), linear_l2=linear_l2.item(),
                     stop_bce=stop_bce.item(), stop_acc=stop_acc.item())
        if self.guided_attn_weight > 0:
            steps = torch.div(feat_lengths + self.r - 1, self.r, rounding_mode="floor")
            guided = guided_attention_loss(out["attn"], batch["token_lengths"].to(feats.device) + 1,
                                           steps, self.guided_attn_sigma)
            loss = loss + self.guided_attn_weight * guided
            stats["guided_attn"] = guided.item()
        if self._spk_encoder is not None and self.spk_loss_weight > 0:
            spk_cos = self.speaker_similarity(out["mel"], feat_lengths, spk_vecs)
            loss = loss + self.spk_loss_weight * (1 - spk_cos)
            stats["spk_cos"] = spk_cos.item()
        return loss, dict(loss=loss.item(), **stats)

    def speaker_similarity(self, mel: torch.Tensor, lengths: torch.Tensor, spk_vecs: torch.Tensor) -> torch.Tensor:
        """Mean over the batch of cos(z, SPKEMB(mel)), the third line of Eq. (25); mel
        (B, T, D_mel) predicted, lengths (B,), z = spk_vecs (B, S). Gradients reach ``mel``
        only (the encoder is frozen)."""
        predicted = self._spk_encoder.embed(mel, lengths)  # (B, S)
        return F.cosine_similarity(predicted, spk_vecs.to(predicted.dtype), dim=-1).mean()


def _pad_frames(x: torch.Tensor, frames: int) -> torch.Tensor:
    """x (B, T, D) -> (B, frames, D), zeros appended; x itself when T == frames (F.pad would copy)."""
    return x if x.size(1) == frames else F.pad(x, (0, 0, 0, frames - x.size(1)))


def _masked_mse(pred: torch.Tensor, target: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Mean of (pred - target)^2 over valid frames (B, T) and all bins; the target's padding may
    hold anything: it is replaced by the prediction (zero error and zero gradient there)."""
    target = torch.where(valid[:, :, None], target, pred.detach())  # (B, T, D)
    return F.mse_loss(pred, target, reduction="sum") / (valid.sum() * pred.size(-1)).clamp_min(1)
