"""Generate the bilingual preference pairs of Lab-1.7 (DPO) and Lab-1.8 (ORPO).

Run from the repository root (deterministic: the same files every time):

    python content/data/preference/make_pairs.py

Writes
  content/data/preference/train.jsonl          the pairs a learner trains on
  graders/labs/data/lab-1.7/heldout.jsonl      the grader's held-out pairs (never in a workspace)

Every line is ``{"prompt": str, "chosen": str, "rejected": str, "family": str, "lang": "en"|"zh-TW"}``.
The pairs come from templates written for this course, so a byte-level model of two layers can
learn the preference: the chosen answer is correct (a sum, the larger of two numbers, the word that
was asked for, the polite reply), the rejected one is fluent and of the same form but wrong.
Held-out pairs use number pairs and words that no training pair uses, so a model that scores them
has learnt the rule, not the strings.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
"""The repository root (this file is content/data/preference/make_pairs.py)."""
TRAIN = ROOT / "content" / "data" / "preference" / "train.jsonl"
HELDOUT = ROOT / "graders" / "labs" / "data" / "lab-1.7" / "heldout.jsonl"
SEED = 20240517
"""Fixed seed: the files are reproducible byte for byte."""

# (English, 繁體中文) word pairs for the copy family; the last six are held out.
WORDS = [
    ("apple", "蘋果"), ("river", "河流"), ("window", "窗戶"), ("tiger", "老虎"), ("cloud", "雲朵"),
    ("bread", "麵包"), ("music", "音樂"), ("garden", "花園"), ("pencil", "鉛筆"), ("mountain", "山脈"),
    ("coffee", "咖啡"), ("rabbit", "兔子"), ("summer", "夏天"), ("island", "島嶼"), ("bridge", "橋樑"),
    ("flower", "花朵"), ("candle", "蠟燭"), ("forest", "森林"), ("orange", "橘子"), ("planet", "行星"),
    ("silver", "白銀"), ("winter", "冬天"), ("doctor", "醫生"), ("letter", "信件"),
    ("market", "市場"), ("rocket", "火箭"), ("spring", "春天"), ("mirror", "鏡子"), ("button", "鈕扣"),
    ("jacket", "夾克"),
]
HELDOUT_WORDS = 6

# (request, polite reply, rude reply) in English and in 繁體中文.
TONE_EN = [
    ("Can you help me?", "Of course, happy to help.", "No. Figure it out."),
    ("Where is the station?", "It is two streets ahead, on the left.", "Not my problem."),
    ("I made a mistake.", "That is fine, let us fix it together.", "Typical. Again?"),
    ("Thank you!", "You are welcome.", "Whatever."),
    ("Could you explain LoRA?", "Sure: it trains a low-rank update.", "Read the paper."),
    ("Is this correct?", "Almost; check the second step.", "Obviously not."),
    ("I am late, sorry.", "No worries, we just started.", "As usual."),
    ("May I ask a question?", "Please do.", "If you must."),
]
TONE_ZH = [
    ("你可以幫我嗎？", "當然，很樂意幫忙。", "不要，自己想辦法。"),
    ("車站在哪裡？", "往前兩條街，在左手邊。", "關我什麼事。"),
    ("我犯了一個錯。", "沒關係，我們一起修正。", "又來了？"),
    ("謝謝你！", "不客氣。", "隨便。"),
    ("可以解釋 LoRA 嗎？", "好的：它訓練一個低秩更新。", "自己去讀論文。"),
    ("這樣對嗎？", "差不多，請檢查第二步。", "當然不對。"),
    ("抱歉，我遲到了。", "沒關係，我們剛開始。", "老樣子。"),
    ("我可以問個問題嗎？", "請說。", "非問不可嗎？"),
]
HELDOUT_TONE = 2


def pair(prompt: str, chosen: str, rejected: str, family: str, lang: str) -> dict[str, str]:
    """One preference pair."""
    return {"prompt": prompt, "chosen": chosen, "rejected": rejected, "family": family, "lang": lang}


def addition(a: int, b: int, lang: str, rng: random.Random) -> dict[str, str]:
    """a + b: the correct sum against a sum off by 1 to 3 (never negative)."""
    right = a + b
    wrong = right + rng.choice([d for d in (-3, -2, -1, 1, 2, 3) if right + d >= 0])
    if lang == "en":
        return pair(f"Q: What is {a}+{b}?\nA: ", f"{right}.", f"{wrong}.", "add", lang)
    return pair(f"問：{a}+{b} 等於多少？\n答：", f"{right}。", f"{wrong}。", "add", lang)


def larger(a: int, b: int, lang: str) -> dict[str, str]:
    """Which of a, b is larger: the larger against the smaller."""
    hi, lo = max(a, b), min(a, b)
    if lang == "en":
        return pair(f"Q: Which is larger, {a} or {b}?\nA: ", f"{hi}.", f"{lo}.", "larger", lang)
    return pair(f"問：{a} 和 {b} 哪個比較大？\n答：", f"{hi}。", f"{lo}。", "larger", lang)


def copy(word: str, other: str, lang: str) -> dict[str, str]:
    """Repeat a word: the word against another (fluent, but not what was asked)."""
    if lang == "en":
        return pair(f"Q: Repeat the word: {word}\nA: ", f"{word}.", f"{other}.", "copy", lang)
    return pair(f"問：請重複這個詞：{word}\n答：", f"{word}。", f"{other}。", "copy", lang)


def tone(request: str, polite: str, rude: str, lang: str) -> dict[str, str]:
    """A request: the polite reply against the rude one."""
    if lang == "en":
        return pair(f"Q: {request}\nA: ", polite, rude, "tone", lang)
    return pair(f"問：{request}\n答：", polite, rude, "tone", lang)


def build() -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """(train, held-out) pairs."""
    rng = random.Random(SEED)
    digits = [(a, b) for a in range(10) for b in range(10)]
    rng.shuffle(digits)
    held_digits, train_digits = digits[:20], digits[20:]
    train: list[dict[str, str]] = []
    held: list[dict[str, str]] = []
    for i, (a, b) in enumerate(train_digits):
        lang = "en" if i % 2 == 0 else "zh-TW"
        train.append(addition(a, b, lang, rng))
        if a != b:
            train.append(larger(a, b, "zh-TW" if lang == "en" else "en"))
    for i, (a, b) in enumerate(held_digits):
        lang = "en" if i % 2 == 0 else "zh-TW"
        held.append(addition(a, b, lang, rng))
        if a != b:
            held.append(larger(a, b, "zh-TW" if lang == "en" else "en"))

    train_words, held_words = WORDS[:-HELDOUT_WORDS], WORDS[-HELDOUT_WORDS:]
    for words, out, reps in ((train_words, train, 2), (held_words, held, 2)):
        for en, zh in words:
            for _ in range(reps):
                other = rng.choice([w for w in words if w[0] != en])
                out.append(copy(en, other[0], "en"))
                out.append(copy(zh, other[1], "zh-TW"))

    for table, lang in ((TONE_EN, "en"), (TONE_ZH, "zh-TW")):
        for i, row in enumerate(table):
            (held if i >= len(table) - HELDOUT_TONE else train).append(tone(*row, lang=lang))
    rng.shuffle(train)
    rng.shuffle(held)
    return train, held


def write(path: Path, rows: list[dict[str, str]]) -> None:
    """JSON lines, UTF-8, one pair a line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def main() -> None:
    train, held = build()
    write(TRAIN, train)
    write(HELDOUT, held)
    print(f"{len(train)} training pairs -> {TRAIN.relative_to(ROOT)}")
    print(f"{len(held)} held-out pairs -> {HELDOUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
