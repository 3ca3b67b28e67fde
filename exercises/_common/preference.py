"""Preference-pair helpers shared by Lab-1.7 (DPO) and Lab-1.8 (ORPO) (do not edit: the grader
recomputes every number with its own copy of these definitions).

A lab.yaml lists this file under ``common:`` next to labcommon.py. What is here:
- ``load_pairs``: the shipped pairs (JSON lines of prompt / chosen / rejected) and their split into
  training and validation pairs (every 10th pair validates, as labcommon splits a corpus);
- ``byte_tokenizer``: a transformers tokenizer whose ids are the UTF-8 bytes (labcommon.encode),
  built in memory from the 256 byte values (nothing downloaded); trl's trainers need one. Byte 0
  (never in the data) is the end-of-sequence and padding token;
- ``response_logps``: log π(y|x) of every chosen and rejected response, summed over the response's
  bytes (DPO) or averaged (ORPO), the same definition the grader uses on its held-out pairs;
- ``sft``: supervised fine-tuning on the chosen responses (prompt bytes masked out of the loss);
- ``state_bytes``: the bytes the training holds in model states (weights, gradients, optimizer
  moments, the frozen reference), counted tensor by tensor;
- ``PROFILES`` (the tiny model of both labs) and ``progress_callback`` for trl's trainers.

Heavy imports (torch, transformers, tokenizers) happen inside the functions that need them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

VAL_EVERY = 10
"""Pair i with i % 10 == 9 is a validation pair; the others train."""
EOS_ID = 0
"""Byte 0 ends every response and pads batches (it never occurs in UTF-8 text of the data)."""
PROFILES: dict[str, dict[str, Any]] = {
    "cpu": {"vocab_size": 256, "hidden_size": 64, "intermediate_size": 128,
            "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 4,
            "max_position_embeddings": 128, "initializer_range": 0.2,
            "tie_word_embeddings": False},
    "cuda": {"vocab_size": 256, "hidden_size": 256, "intermediate_size": 512,
             "num_hidden_layers": 4, "num_attention_heads": 8, "num_key_value_heads": 8,
             "max_position_embeddings": 128, "initializer_range": 0.2,
             "tie_word_embeddings": False},
}
"""The tiny model per profile for both labs (their lab.yaml params.profiles hold the same: the
grader rebuilds it; `tutor dev check` compares them)."""


def load_pairs(data_dir: str | Path, name: str = "train.jsonl",
               val_every: int = VAL_EVERY) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """(training pairs, validation pairs) of ``<data_dir>/<name>``; each pair is a dict with the
    string fields ``prompt``, ``chosen`` and ``rejected``."""
    rows: list[dict[str, str]] = []
    for number, line in enumerate(Path(data_dir, name).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        obj = json.loads(line)
        if not all(isinstance(obj.get(k), str) for k in ("prompt", "chosen", "rejected")):
            raise ValueError(f"{name}:{number}: a pair needs string fields prompt, chosen, rejected")
        rows.append({k: obj[k] for k in ("prompt", "chosen", "rejected")})
    train = [r for i, r in enumerate(rows) if i % val_every != val_every - 1]
    val = [r for i, r in enumerate(rows) if i % val_every == val_every - 1]
    return train, val


def byte_tokenizer() -> Any:
    """A ``PreTrainedTokenizerFast`` with ids = UTF-8 bytes (vocabulary 256), EOS = PAD = byte 0.

    A BPE model with the 256 byte symbols and no merges behind a byte-level pre-tokenizer: the ids
    of any text equal ``labcommon.encode(text)``, so trl tokenises exactly as the grader does.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    symbol = bytes_to_unicode()  # byte value -> the printable character byte-level BPE uses for it
    tok = Tokenizer(models.BPE(vocab={symbol[b]: b for b in range(256)}, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    tok.decoder = decoders.ByteLevel()
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token=symbol[EOS_ID],
                                   pad_token=symbol[EOS_ID])


def encode_pair(pair: dict[str, str], which: str) -> tuple[list[int], list[int]]:
    """(prompt ids, response ids) of ``pair[which]`` (``chosen`` or ``rejected``), byte-level."""
    return list(pair["prompt"].encode("utf-8")), list(pair[which].encode("utf-8"))


def response_logps(model: Any, pairs: list[dict[str, str]], average: bool = False,
                   batch_size: int = 64, grad: bool = False) -> tuple[Any, Any]:
    """(chosen, rejected): log π(y|x) of each response, summed over its bytes (``average=True``:
    divided by the number of bytes, ORPO's length-normalised log-likelihood). The end-of-sequence
    byte is not part of the response here. Without ``grad`` this runs under ``torch.no_grad``."""
    import torch

    device = next(model.parameters()).device
    out: dict[str, list[Any]] = {"chosen": [], "rejected": []}
    for which in ("chosen", "rejected"):
        for i in range(0, len(pairs), batch_size):
            chunk = [encode_pair(p, which) for p in pairs[i : i + batch_size]]
            width = max(len(a) + len(b) for a, b in chunk)
            ids = torch.full((len(chunk), width), EOS_ID, dtype=torch.long)
            mask = torch.zeros(len(chunk), width)
            attn = torch.zeros(len(chunk), width, dtype=torch.long)
            for j, (a, b) in enumerate(chunk):
                ids[j, : len(a) + len(b)] = torch.tensor(a + b)
                mask[j, len(a) : len(a) + len(b)] = 1.0
                attn[j, : len(a) + len(b)] = 1
            ids, mask, attn = ids.to(device), mask.to(device), attn.to(device)
            with torch.set_grad_enabled(grad):
                logits = model(input_ids=ids, attention_mask=attn).logits.float()
                logp = torch.log_softmax(logits[:, :-1], dim=-1)
                picked = logp.gather(2, ids[:, 1:].unsqueeze(2)).squeeze(2) * mask[:, 1:]
                total = picked.sum(dim=1)
                if average:
                    total = total / mask[:, 1:].sum(dim=1).clamp(min=1.0)
            out[which].append(total if grad else total.detach().cpu())
    return torch.cat(out["chosen"]), torch.cat(out["rejected"])


def token_kl(policy: Any, reference: Any, pairs: list[dict[str, str]],
             batch_size: int = 64) -> float:
    """Mean per-token KL(πθ ‖ π_ref) = Σ_v πθ(v) (log πθ(v) − log π_ref(v)) over the positions that
    predict a chosen response's bytes (teacher-forced on prompt + chosen): how far the policy has
    moved from its reference, the quantity RLHF's KL penalty and DPO's β keep small."""
    import torch

    device = next(policy.parameters()).device
    total, count = 0.0, 0
    for i in range(0, len(pairs), batch_size):
        chunk = [encode_pair(p, "chosen") for p in pairs[i : i + batch_size]]
        width = max(len(a) + len(b) for a, b in chunk)
        ids = torch.full((len(chunk), width), EOS_ID, dtype=torch.long)
        mask = torch.zeros(len(chunk), width)
        attn = torch.zeros(len(chunk), width, dtype=torch.long)
        for j, (a, b) in enumerate(chunk):
            ids[j, : len(a) + len(b)] = torch.tensor(a + b)
            mask[j, len(a) - 1 : len(a) + len(b) - 1] = 1.0  # position t predicts byte t + 1
            attn[j, : len(a) + len(b)] = 1
        ids, mask, attn = ids.to(device), mask.to(device), attn.to(device)
        with torch.no_grad():
            lp = torch.log_softmax(policy(input_ids=ids, attention_mask=attn).logits.float(), -1)
            lr = torch.log_softmax(reference(input_ids=ids, attention_mask=attn).logits.float(), -1)
        kl = (lp.exp() * (lp - lr)).sum(-1)
        total += float((kl * mask).sum())
        count += int(mask.sum())
    return total / max(count, 1)


def sft(model: Any, pairs: list[dict[str, str]], steps: int, batch_size: int, lr: float,
        seed: int, on_step: Callable[[int, float], None] | None = None) -> list[float]:
    """Supervised fine-tuning on prompt + chosen (+ EOS), loss on the response bytes only
    (AdamW, constant learning rate, random batches from ``seed``). Returns the loss of every step."""
    import torch

    device = next(model.parameters()).device
    seqs = [encode_pair(p, "chosen") for p in pairs]
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr,
                            weight_decay=0.0)
    model.train()
    losses: list[float] = []
    for step in range(steps):
        idx = torch.randint(0, len(seqs), (batch_size,), generator=gen).tolist()
        width = max(len(seqs[i][0]) + len(seqs[i][1]) + 1 for i in idx)
        ids = torch.full((batch_size, width), EOS_ID, dtype=torch.long)
        labels = torch.full((batch_size, width), -100, dtype=torch.long)
        for j, i in enumerate(idx):
            prompt, response = seqs[i]
            full = prompt + response + [EOS_ID]
            ids[j, : len(full)] = torch.tensor(full)
            labels[j, len(prompt) : len(full)] = torch.tensor(response + [EOS_ID])
        loss = model(input_ids=ids.to(device), labels=labels.to(device)).loss
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        losses.append(float(loss.detach()))
        if on_step is not None:
            on_step(step, losses[-1])
    model.eval()
    return losses


def state_bytes(model: Any, optimizer: Any = None, reference: Any = None) -> dict[str, int]:
    """Bytes held in model states, counted tensor by tensor: the trained weights, their gradients
    (one per trainable weight: they exist at the optimizer step), the optimizer's state (AdamW:
    two moments per weight) and a frozen reference model's weights (DPO; ORPO has none)."""
    import torch

    weights = sum(p.numel() * p.element_size() for p in model.parameters())
    grads = sum(p.numel() * p.element_size() for p in model.parameters() if p.requires_grad)
    opt = 0
    if optimizer is not None:
        for state in optimizer.state.values():
            opt += sum(v.numel() * v.element_size() for v in state.values()
                       if isinstance(v, torch.Tensor) and v.dim() > 0)
    ref = sum(p.numel() * p.element_size() for p in reference.parameters()) if reference else 0
    return {"weights": weights, "grads": grads, "optimizer": opt, "reference": ref,
            "total": weights + grads + opt + ref}


def preference_stats(chosen: Any, rejected: Any) -> dict[str, float]:
    """Accuracy (fraction with chosen > rejected) and mean margin (chosen − rejected) of two score
    tensors: log-likelihoods, implicit rewards or log-odds."""
    diff = (chosen - rejected).float()
    return {"accuracy": float((diff > 0).float().mean()), "margin": float(diff.mean())}


def progress_callback(offset: int, total: int) -> Any:
    """A trl/transformers TrainerCallback that reports the logged training loss on stdout as
    step ``offset + global_step`` of ``total`` (labcommon.progress, next to this file in a run)."""
    from labcommon import progress
    from transformers import TrainerCallback

    class Progress(TrainerCallback):  # type: ignore[misc]
        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kw: Any) -> None:
            if logs and "loss" in logs:
                progress(offset + state.global_step, total, float(logs["loss"]))

    return Progress()


def save_weights(model: Any, path: str | Path) -> Path:
    """The model's weights as safetensors (float32, contiguous; nothing is pickled)."""
    from safetensors.torch import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.detach().float().cpu().contiguous() for k, v in model.state_dict().items()},
              str(path))
    return path
