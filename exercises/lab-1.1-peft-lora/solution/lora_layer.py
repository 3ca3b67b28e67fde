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
    return r * (d + k)


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
        self.scaling = alpha / r
        self.lora_A = nn.Parameter(torch.empty(r, k))
        self.lora_B = nn.Parameter(torch.zeros(d, r))
        # same initialisation as peft: Kaiming-uniform A, zero B
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + self.scaling * ((x @ self.lora_A.T) @ self.lora_B.T)

    def delta_weight(self) -> torch.Tensor:
        """The update (alpha / r) * B A, shaped like W0."""
        return self.scaling * (self.lora_B @ self.lora_A)

    def merged_weight(self) -> torch.Tensor:
        """W0 + (alpha / r) * B A: the weight of an equivalent plain linear layer."""
        return self.base.weight + self.delta_weight()
