"""The chain trainer distributed and preempted: gradients averaged over gloo ranks like one process
on both groups, and a SIGTERM mid-epoch resumed to the weights of an uninterrupted run."""
import pytest
import torch

from chain.loop.batches import ChainBatches
from chain.loop.steps import ChainOptions
from chain.loop.trainer import ModelOptions, ModelSlot, chain_forward_backward, train_chain
from chain.text import CharTokenizer
from chain.train.checkpoint import INTERRUPTED, load_checkpoint
from chain.train.launch import process_group
from chain.train.options import LoopOptions
from chain.train.preempt import Preempted
from fixtures.chain_models import speech_batch, text_batch, tiny_asr, tiny_tts
from fixtures.distributed import signal_at, spawn, torch_threads


@pytest.fixture(autouse=True)
def one_thread():
    """One torch thread, as in the rank processes (and fast on a busy machine)."""
    with torch_threads(1):
        yield


def slots(asr=None) -> dict[str, ModelSlot]:
    return {"asr": ModelSlot("asr", (asr or tiny_asr()).train(), ModelOptions(), epochs=1),
            "tts": ModelSlot("tts", tiny_tts().train(), ModelOptions(), epochs=1)}


def group(rank: int) -> dict[str, list[dict]]:
    """One update's batches of a rank: paired, speech-only and text-only."""
    return {"paired": [speech_batch(seed=rank)], "speech": [speech_batch(seed=10 + rank, with_text=False)],
            "text": [text_batch(seed=20 + rank)]}


def gradients(rank: int) -> dict[str, torch.Tensor | None]:
    """Gradients of ``chain_forward_backward`` on ``group(rank)`` (no clipping), seeded per group."""
    models = slots()
    torch.manual_seed(7 + rank)  # prenet dropout
    loss, _, _ = chain_forward_backward(models, group(rank), ChainOptions(), grad_clip=0)
    assert loss is not None
    return {f"{name}.{k}": p.grad for name, m in models.items() for k, p in m.module.named_parameters()}


def _chain_rank(rank: int, out):
    with process_group(0):
        torch.save(gradients(rank), out / f"rank{rank}.pt")


def test_two_ranks_average_the_gradients_of_their_groups(tmp_path):
    """Each rank's gradients after the all-reduce = the mean of one process's gradients on the
    two groups (atol 1e-7; a gradient missing in one group counts as zero)."""
    assert spawn(_chain_rank, 2, tmp_path) == [0, 0]
    ranks = [torch.load(tmp_path / f"rank{r}.pt") for r in (0, 1)]
    alone = [gradients(r) for r in (0, 1)]
    for name in alone[0]:
        present = [g for g in (alone[0][name], alone[1][name]) if g is not None]
        expected = sum(present) / 2 if present else None
        for rank in ranks:
            if expected is None:
                assert rank[name] is None, name
            else:
                torch.testing.assert_close(rank[name], expected, rtol=0, atol=1e-7)
    assert any(not torch.equal(alone[0][k], alone[1][k]) for k in alone[0] if alone[0][k] is not None)


def run_chain(exp, pretrained, asr=None):
    """Two epochs of the chain on 4 groups an epoch of tiny synthetic batches."""
    loaders = {"paired": lambda e: [speech_batch(seed=100 * e + i) for i in range(4)],
               "speech": lambda e: [speech_batch(seed=100 * e + 50 + i, with_text=False) for i in range(4)],
               "text": lambda e: [text_batch(seed=100 * e + 70 + i) for i in range(4)]}
    models = slots(asr)
    return models, train_chain(
        models["asr"].module, models["tts"].module, ChainBatches(loaders, {"paired": 1, "speech": 1, "text": 1}),
        [speech_batch(seed=99)], tokenizer=CharTokenizer(), chain=ChainOptions(), asr_opts=ModelOptions(),
        tts_opts=ModelOptions(), loop=LoopOptions(epochs=2, log_interval=1), exp_dir=exp, asr_exp_dir=pretrained,
        tts_exp_dir=pretrained, resume=True, tensorboard=False, plot=False)


def test_sigterm_mid_epoch_and_resume_end_like_an_uninterrupted_run(tmp_path):
    pretrained = tmp_path / "pretrained"
    pretrained.mkdir()
    (pretrained / "config.yaml").write_text("{}\n")
    straight, _ = run_chain(tmp_path / "straight", pretrained)
    with pytest.raises(Preempted):  # the ASR's 3rd training forward: update 2 or 3 of epoch 1
        run_chain(tmp_path / "split", pretrained, asr=signal_at(tiny_asr(), 3))
    ckpt = load_checkpoint(tmp_path / "split" / "checkpoints" / INTERRUPTED)
    assert ckpt["train_state"]["epoch"] == 0 and 0 < ckpt["train_state"]["epoch_batches"] < 4
    assert "SIGTERM: stopped after" in (tmp_path / "split" / "train.log").read_text()
    resumed, state = run_chain(tmp_path / "split", pretrained)
    assert state.epoch == 2
    for name in ("asr", "tts"):
        a, b = straight[name].module.state_dict(), resumed[name].module.state_dict()
        assert all(torch.equal(a[k], b[k]) for k in a), name
    assert not (tmp_path / "split" / "checkpoints" / INTERRUPTED).exists()
