"""Line breaking for the typography layer: greedy, by words in Latin scripts and between
characters in Chinese and Japanese, with kinsoku (line-start and line-end punctuation) rules."""

from __future__ import annotations

import re

# Kinsoku: characters that may not start a line, and ones that may not end it.
NO_LINE_START = set("、。，．・：；？！ー」』）】》〉〕］｝〗〙〟'\"ゝゞぁぃぅぇぉっゃゅょゎ"
                    "ァィゥェォッャュョヮヵヶ%％,.:;?!)]}…‥々〻")
NO_LINE_END = set("「『（【《〈〔［｛〖〘〝([{$¥￥£€＄")
_CJK = re.compile(r"[\u2e80-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
                  r"\uff00-\uffef]")


def _tokens(text: str) -> list[str]:
    """Break opportunities: CJK characters one by one, other runs by word; spaces kept as
    their own tokens so they can vanish at a line break."""
    return re.findall(rf"\s+|{_CJK.pattern}|[^\s\u2e80-\u303f\u3040-\u30ff\u3400-\u4dbf"
                      r"\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]+", text)


def wrap(text: str, fits) -> list[str] | None:
    """Greedy line breaking where ``fits(line)`` says whether a line fits its box; keeps
    kinsoku punctuation off line starts and ends. None when one token alone is too wide."""
    lines: list[list[str]] = [[]]
    for token in _tokens(text):
        current = lines[-1]
        if fits("".join(current + [token]).strip()) or not "".join(current).strip():
            if not fits(token.strip()) and token.strip():
                return None
            current.append(token)
            continue
        if token.isspace():
            lines.append([])
            continue
        carry = []
        # A line-start-forbidden token pulls the previous one down with it (oidashi), and a
        # line may not end on an opening bracket or currency sign.
        while len(current) > 1 and ((carry or [token])[0][0] in NO_LINE_START
                                    or current[-1][-1] in NO_LINE_END):
            carry.insert(0, current.pop())
        lines.append(carry + [token])
        if not fits("".join(lines[-1]).strip()):
            return None
    return [line for line in ("".join(t).strip() for t in lines) if line]
