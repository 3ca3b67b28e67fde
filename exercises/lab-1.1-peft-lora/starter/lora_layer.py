"""A LoRA linear layer written by hand (Lab-1.1, part 1).

    h = W0 x + b + (alpha / r) * B (A x)

W0 (d x k) and b are frozen; A (r x k) starts small and random, B (d x r) starts at zero, so the
layer starts exactly as the frozen one. Trainable parameters: r * (d + k).
"""

from __future__ import annotations

import math

import torch
from torch import nn


def lora_param_count(d: int, k: int, r: int) -> int:
    """Trainable parameters LoRA adds to one d x k matrix at rank r."""
    # TODO: return the number of parameters in A and B
    raise NotImplementedError("lora_param_count")


class LoRALinear(nn.Module):
    """Wraps a frozen ``nn.Linear`` with a trainable low-rank update."""

    def __init__(self, base: nn.Linear, r: int, alpha: float) -> None:
        super().__init__()
        if r <= 0:
            raise ValueError("rank r must be positive")
        self.base = base
        for p in self.base.parameters():
            p.requires_grad_(False)
        d, k = base.out_features, base.in_features
        self.r = r
        self.alpha = alpha
        # TODO: the scaling factor of the update
        self.scaling = 1.0
        self.lora_A = nn.Parameter(torch.empty(r, k))
        self.lora_B = nn.Parameter(torch.empty(d, r))
        # TODO: initialise A like peft does (Kaiming-uniform with a=sqrt(5)) and B so that the
        # layer starts exactly as the frozen one
        nn.init.kaiming_uniform_(self.lora_B, a=math.sqrt(5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # TODO: add the scaled low-rank update to the frozen layer's output
        raise NotImplementedError("LoRALinear.forward")

    def delta_weight(self) -> torch.Tensor:
        """The update (alpha / r) * B A, shaped like W0."""
        # TODO
        raise NotImplementedError("LoRALinear.delta_weight")

    def merged_weight(self) -> torch.Tensor:
        """W0 + (alpha / r) * B A: the weight of an equivalent plain linear layer."""
        # TODO
        raise NotImplementedError("LoRALinear.merged_weight")
