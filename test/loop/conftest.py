"""Fresh tiny chain models for each test."""
import copy

import pytest
import torch

from fixtures.chain_models import fitted_asr, tiny_asr, tiny_tts


@pytest.fixture
def models():
    torch.set_num_threads(1)
    return tiny_asr().train(), tiny_tts().train()


@pytest.fixture(scope="module")
def _fitted():
    torch.set_num_threads(1)
    return fitted_asr()


@pytest.fixture
def fitted(_fitted):
    """(ASR overfit on speech_batch(), fresh TTS), both in training mode."""
    return copy.deepcopy(_fitted).train(), tiny_tts().train()
