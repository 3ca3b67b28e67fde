"""Lab-1.8, your part of the run: trl's ORPO configuration (the loss is in orpo_loss.py).

Run:  python -I train.py --out OUTDIR --data DATADIR --seed 0   (orpo_run.py does the rest)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # python -I drops the script dir

import orpo_run  # noqa: E402 - shared: ORPO, SFT + DPO and the table, calling your parts
from orpo_run import BATCH, LAMBDA, ORPO_LR  # noqa: E402


def make_orpo_config(output_dir: Path, steps: int, seed: int) -> Any:
    """trl's ORPOConfig: λ = LAMBDA (trl's ``beta``), ``steps`` optimizer steps of BATCH pairs at
    a constant learning rate ORPO_LR, sequences up to 128 bytes, no checkpoints, no logging
    integrations, no progress bar, the text columns kept for trl's collator, on the GPU only when
    there is one."""
    import torch
    from trl.experimental.orpo import ORPOConfig

    return ORPOConfig(
        output_dir=str(output_dir), beta=LAMBDA, max_steps=steps, per_device_train_batch_size=BATCH,
        learning_rate=ORPO_LR, lr_scheduler_type="constant", warmup_steps=0, weight_decay=0.0,
        seed=seed, max_length=128, save_strategy="no", report_to="none",
        logging_steps=5, disable_tqdm=True, dataloader_num_workers=0,
        remove_unused_columns=False, use_cpu=not torch.cuda.is_available(),
    )


if __name__ == "__main__":
    sys.exit(orpo_run.main(sys.modules[__name__]))
