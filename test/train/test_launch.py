"""chain.train.launch: rank and world size from torchrun's or srun's environment."""
import pytest

from chain.train.launch import Launch, first_node, from_environment, init_distributed

TORCHRUN = {"RANK": "3", "WORLD_SIZE": "4", "LOCAL_RANK": "1", "MASTER_ADDR": "n1", "MASTER_PORT": "29500"}
SRUN = {"SLURM_PROCID": "1", "SLURM_STEP_NUM_TASKS": "2", "SLURM_LOCALID": "1",
        "SLURM_STEP_NODELIST": "gpu7", "SLURM_JOB_ID": "123456", "SLURM_NTASKS": "2"}


def test_torchrun_variables():
    assert from_environment(TORCHRUN) == Launch(3, 4, 1, "n1", 29500)


def test_torchrun_wins_inside_a_slurm_step():
    assert from_environment({**SRUN, **TORCHRUN}) == Launch(3, 4, 1, "n1", 29500)


def test_srun_task_with_default_rendezvous():
    assert from_environment(SRUN) == Launch(1, 2, 1, "gpu7", 20000 + 123456 % 20000)
    assert from_environment({**SRUN, "MASTER_ADDR": "h", "MASTER_PORT": "999"}) == Launch(1, 2, 1, "h", 999)


def test_single_process_and_batch_script_without_srun():
    assert from_environment({}) is None
    batch = {k: v for k, v in SRUN.items() if k != "SLURM_STEP_NUM_TASKS"}  # SLURM_NTASKS=2 but no step
    assert from_environment(batch) is None


def test_incomplete_environment_names_what_is_missing():
    with pytest.raises(RuntimeError, match="WORLD_SIZE is set but not LOCAL_RANK, MASTER_PORT"):
        from_environment({"RANK": "0", "WORLD_SIZE": "2", "MASTER_ADDR": "x"})


def test_first_node_of_a_plain_name_needs_no_scontrol():
    assert first_node("localhost") == "localhost"


def test_init_distributed_single_process_and_bad_device(monkeypatch):
    for name in ("WORLD_SIZE", "SLURM_STEP_NUM_TASKS"):
        monkeypatch.delenv(name, raising=False)
    assert init_distributed("cpu") is None
    with pytest.raises(ValueError, match="one of cpu, cuda: got 'tpu'"):
        init_distributed("tpu")
