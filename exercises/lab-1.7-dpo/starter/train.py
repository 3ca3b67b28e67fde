"""Lab-1.7, your part of the run: trl's DPO configuration (the loss is in dpo_loss.py).

Run:  python -I train.py --out OUTDIR --data DATADIR --seed 0   (dpo_run.py does the rest)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # python -I drops the script dir

import dpo_run  # noqa: E402 - shared: SFT, the DPO runs and the evaluation, calling your parts
from dpo_run import DPO_BATCH, DPO_LR  # noqa: E402


def make_dpo_config(output_dir: Path, beta: float, steps: int, seed: int) -> Any:
    """trl's DPOConfig: the sigmoid (DPO) loss with ``beta``, ``steps`` optimizer steps of
    DPO_BATCH pairs at a constant learning rate DPO_LR, no checkpoints, no logging integrations,
    no progress bar, sequences up to 128 bytes, on the GPU only when there is one."""
    import torch  # noqa: F401
    from trl import DPOConfig  # noqa: F401

    # TODO: a DPOConfig with output_dir, beta, the "sigmoid" loss, max_steps=steps,
    # per_device_train_batch_size=DPO_BATCH, learning_rate=DPO_LR, a constant schedule without
    # warm-up or weight decay, seed, max_length=128, save_strategy="no", report_to="none",
    # logging_steps=5, disable_tqdm=True, dataloader_num_workers=0, and use_cpu when there is
    # no CUDA GPU.
    raise NotImplementedError("make_dpo_config")


if __name__ == "__main__":
    sys.exit(dpo_run.main(sys.modules[__name__]))
