import logging

import pytest
import torch

from chain.train.device import all_ranks_true, check_amp, is_main, make_scaler, select_device, wrap_model
from chain.train.report import Meter, train_logging


def test_cpu_defaults_without_torch_distributed():
    device = select_device(0)
    assert device.type == "cpu"
    assert check_amp("fp16", device) == "none" and make_scaler(device, "none") is None
    model = torch.nn.Linear(2, 2)
    assert wrap_model(model, device) is model
    assert is_main() and all_ranks_true(True, False) == (True, False)


def test_bad_device_options_raise():
    with pytest.raises(ValueError, match="one process per GPU"):
        select_device(2)
    with pytest.raises(ValueError, match="none, bf16, fp16: got 'fp8'"):
        check_amp("fp8", torch.device("cpu"))
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="use --ngpu 0"):
            select_device(1)


def test_meter_weights_by_batch_size():
    meter = Meter()
    meter.add({"loss": 1.0}, weight=3)
    meter.add({"loss": 3.0, "cer": 0.5}, weight=1)
    assert meter.means() == {"loss": 1.5, "cer": 0.5}


def test_train_logging_writes_the_file_and_cleans_up(tmp_path):
    logger = logging.getLogger("chain")
    before = list(logger.handlers)
    with train_logging(tmp_path / "exp" / "train.log"):
        logging.getLogger("chain.data.dataset").info("kept 3 of 4 utterances")
    logging.getLogger("chain.train").info("after the run")
    assert logger.handlers == before
    text = (tmp_path / "exp" / "train.log").read_text()
    assert "kept 3 of 4 utterances" in text and "after the run" not in text
