import pytest
import torch

from chain.train.options import LoopOptions, TrainOptions
from chain.vq.code2spec import Code2Spec
from chain.vq.discriminator import SpectrogramDiscriminator, discriminator_loss, generator_loss
from chain.vq.tasks import Code2SpecTask, GanOptions


@pytest.mark.parametrize("stride", [1, 2, 4, 8])
def test_code2spec_output_shape_at_every_stride(stride):
    model = Code2Spec(unit_dim=6, out_dim=33, stride=stride, channels=16, conv_layers=1)
    frames = 21
    units = torch.randn(2, -(-frames // stride), 6)
    out = model(units, frames)
    assert out.shape == (2, frames, 33)
    up = model.upsample(units, frames)
    assert torch.equal(up[:, :stride], units[:, :1].expand(-1, stride, -1))  # e1 copied r times


def test_gan_losses_by_hand():
    mask = torch.tensor([[True, True, False]])
    fake, real = torch.tensor([[0.5, 1.0, 9.0]]), torch.tensor([[1.0, 0.0, 9.0]])
    assert generator_loss(fake, mask, "lsgan").item() == pytest.approx((0.25 + 0) / 2)
    assert discriminator_loss(fake, real, mask, "lsgan").item() == pytest.approx((0.25 + 1) / 2 + (0 + 1) / 2)
    assert generator_loss(fake, mask, "wgan").item() == pytest.approx(-0.75)
    assert discriminator_loss(fake, real, mask, "wgan").item() == pytest.approx(0.75 - 0.5)
    with pytest.raises(ValueError, match="lsgan, wgan"):
        generator_loss(fake, mask, "hinge")


@pytest.mark.parametrize("gan_type", ["lsgan", "wgan"])
def test_one_backward_trains_each_model_on_its_own_loss(gan_type, tmp_path):
    torch.manual_seed(0)
    gen = Code2Spec(unit_dim=4, out_dim=9, stride=2, channels=8, conv_layers=0)
    disc = SpectrogramDiscriminator(in_dim=9, channels=8, layers=1)
    batch = {"units": torch.randn(2, 4, 4), "linear": torch.randn(2, 8, 9), "linear_lengths": torch.tensor([8, 5])}
    task = Code2SpecTask(gen, disc, lambda e: [batch], [batch], TrainOptions(loop=LoopOptions(epochs=1)),
                         GanOptions(gan_type=gan_type, mse_weight=0.0), tmp_path)
    loss, stats = task.step(batch)
    # with alpha 0 the loss is beta L_G + L_D: the generator's gradient is that of L_G alone
    loss.backward()
    g_total = [p.grad.clone() for p in gen.parameters()]
    d_total = [p.grad.clone() for p in disc.parameters()]
    for module in (gen, disc):
        module.zero_grad(set_to_none=True)
    fake = gen(batch["units"], 8)
    mask = torch.tensor([[True] * 8, [True] * 5 + [False] * 3])
    generator_loss(disc(fake), mask, gan_type).backward()
    for got, p in zip(g_total, gen.parameters()):
        torch.testing.assert_close(got, p.grad)
    disc.zero_grad(set_to_none=True)
    discriminator_loss(disc(fake.detach()), disc(batch["linear"]), mask, gan_type).backward()
    for got, p in zip(d_total, disc.parameters()):
        torch.testing.assert_close(got, p.grad)
    assert set(stats) == {"mse", "loss_g", "loss_d"}
    if gan_type == "wgan":
        assert all(p.abs().max() <= 0.01 for p in disc.parameters())


def test_bad_gan_type(tmp_path):
    gen = Code2Spec(unit_dim=4, out_dim=9, stride=2, channels=8)
    with pytest.raises(ValueError, match="--gan-type must be one of lsgan, wgan, none: got 'hinge'"):
        Code2SpecTask(gen, None, lambda e: [], [], TrainOptions(), GanOptions(gan_type="hinge"), tmp_path)
