"""Options of the VQ-VAE and of the Code2Spec inverter on the command line, and the models
built from them (or from an experiment's ``config.yaml``). Defaults: section 4.4 of the
ZeroSpeech 2019 VQ-VAE paper (stride 4, 256 codes of 64 dims, speaker embedding 32, gamma 0.25;
inverter kernels 1, 3, 5, 7 in its first four layers, LSGAN with beta 1)."""
from __future__ import annotations

from pathlib import Path

from chain.nets.vector_quantizer import CODEBOOK_INITS
from chain.train.checkpoint import load_weights
from chain.train.experiment import load_config
from chain.vq.code2spec import Code2Spec
from chain.vq.discriminator import GAN_TYPES, SpectrogramDiscriminator
from chain.vq.tasks import GanOptions
from chain.vq.vqvae import STRIDES, VQVAE


def add_vq_arguments(parser) -> None:
    g = parser.add_argument_group("VQ-VAE model (section 2, 4.4.1)")
    g.add_argument("--stride", type=int, default=4, choices=STRIDES, help="time reduction of the encoder (nT)")
    g.add_argument("--num-codes", type=int, default=256, help="codebook size K (the paper: 64-512)")
    g.add_argument("--code-dim", type=int, default=64, help="codebook vector size D_e")
    g.add_argument("--speaker-dim", type=int, default=32, help="speaker embedding size D_v")
    g.add_argument("--channels", type=int, default=256, help="channels of the hidden convolutions")
    g.add_argument("--codebook-init", default="data", choices=CODEBOOK_INITS,
                   help="data: the first training batch's encoder outputs become the codebook; uniform: "
                        "U(-1/K, 1/K) as in the VQ-VAE reference code")
    g.add_argument("--restart-threshold", type=float, default=0.0,
                   help="move a code whose running share of the training frames falls below this / K "
                        "to a random encoder output of the batch (0: never; against codebook collapse)")
    g.add_argument("--commitment-weight", type=float, default=0.25, help="gamma of Eq. (3)")
    g.add_argument("--jitter", type=float, default=0.0,
                   help="training only: probability that the decoder hears a code's left or right "
                        "neighbour instead (time jitter, Chorowski et al. 2019; 0: off, the paper)")
    g.add_argument("--speaker-adversary", type=float, default=0.0,
                   help="weight of a speaker classifier's cross-entropy on the encoder outputs, whose "
                        "gradient reaches the encoder reversed (0: none, the paper)")
    g.add_argument("--collapse-fraction", type=float, default=0.1,
                   help="warn of a codebook collapse when fewer than this share of the codes is used on dev")


def build_vq(args, input_dim: int, num_speakers: int) -> VQVAE:
    return VQVAE(input_dim=input_dim, num_speakers=num_speakers, stride=args.stride, num_codes=args.num_codes,
                 code_dim=args.code_dim, speaker_dim=args.speaker_dim, channels=args.channels,
                 commitment_weight=args.commitment_weight, jitter=args.jitter,
                 speaker_adversary=args.speaker_adversary, codebook_init=args.codebook_init,
                 restart_threshold=args.restart_threshold)


def add_code2spec_arguments(parser) -> None:
    g = parser.add_argument_group("Code2Spec inverter (section 3, 4.4.2)")
    g.add_argument("--c2s-channels", type=int, default=256, help="channels of every inverter layer")
    g.add_argument("--kernel-sizes", type=int, nargs="+", default=[1, 3, 5, 7],
                   help="kernel widths along time of the multi-scale layers")
    g.add_argument("--multiscale-layers", type=int, default=4, help="number of multi-scale layers")
    g.add_argument("--conv-layers", type=int, default=2, help="stride-1 convolutions after them")
    g.add_argument("--gan-type", default="lsgan", choices=GAN_TYPES + ("none",),
                   help="adversarial loss of Eq. (7), (8) (none: MSE only)")
    g.add_argument("--mse-weight", type=float, default=1.0, help="alpha of Eq. (9)")
    g.add_argument("--adv-weight", type=float, default=1.0, help="beta of Eq. (9)")
    g.add_argument("--wgan-clip", type=float, default=0.01, help="WGAN: clip the discriminator's weights to [-c, c]")
    g.add_argument("--disc-lr", type=float, default=1e-4, help="Adam learning rate of the discriminator")
    g.add_argument("--disc-channels", type=int, default=256, help="channels of the discriminator")
    g.add_argument("--disc-layers", type=int, default=3, help="convolutions of the discriminator")


def build_code2spec(args, unit_dim: int, out_dim: int, stride: int) -> Code2Spec:
    return Code2Spec(unit_dim=unit_dim, out_dim=out_dim, stride=stride, channels=args.c2s_channels,
                     kernel_sizes=tuple(args.kernel_sizes), multiscale_layers=args.multiscale_layers,
                     conv_layers=args.conv_layers)


def build_discriminator(args, out_dim: int) -> SpectrogramDiscriminator | None:
    if args.gan_type == "none":
        return None
    return SpectrogramDiscriminator(in_dim=out_dim, channels=args.disc_channels, layers=args.disc_layers)


def gan_options(args) -> GanOptions:
    return GanOptions(gan_type=args.gan_type, mse_weight=args.mse_weight, adv_weight=args.adv_weight,
                      wgan_clip=args.wgan_clip, disc_lr=args.disc_lr)


def load_vq(exp_dir: str | Path, checkpoint: str = "best.pt") -> tuple[VQVAE, object]:
    """The VQ-VAE of a ``vq_train`` run (eval mode) and its config."""
    config = load_config(exp_dir, add_vq_arguments)
    model = build_vq(config, config.input_dim, len(config.speakers))
    load_weights(model, Path(exp_dir) / checkpoint, target=f"the VQ-VAE of {exp_dir}/config.yaml")
    return model.eval(), config


def load_code2spec(exp_dir: str | Path, checkpoint: str = "best.pt") -> tuple[Code2Spec, object]:
    """The inverter of a ``code2spec_train`` run (eval mode) and its config."""
    config = load_config(exp_dir, add_code2spec_arguments)
    model = build_code2spec(config, config.unit_dim, config.out_dim, config.unit_stride)
    load_weights(model, Path(exp_dir) / checkpoint, target=f"the inverter of {exp_dir}/config.yaml")
    return model.eval(), config
