"""Line breaking for the typography layer: greedy, by words in Latin scripts and between
characters in Chinese and Japanese, with kinsoku (line-start and line-end punctuation) rules.

An emoji, and closing punctuation, never start a line: a token that begins with one comes
down together with the word or character before it (across a space between them), so
"限时特惠 🔥" breaks as "…限时" / "特惠 🔥", never leaving "🔥" alone on the last line."""

from __future__ import annotations

import re

# Kinsoku: characters that may not start a line, and ones that may not end it.
NO_LINE_START = set("、。，．・：；？！ー」』）】》〉〕］｝〗〙〟'\"ゝゞぁぃぅぇぉっゃゅょゎ"
                    "ァィゥェォッャュョヮヵヶ%％,.:;?!)]}…‥々〻")
NO_LINE_END = set("「『（【《〈〔［｛〖〘〝([{$¥￥£€＄")
_CJK = re.compile(r"[\u2e80-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
                  r"\uff00-\uffef]")
# Pictographs, dingbats and misc symbols (and what attaches to them: variation selector 16,
# the zero-width joiner, skin tones): an emoji belongs to the word it follows.
_EMOJI = re.compile(r"[\u2600-\u27bf\u2b00-\u2bff\u2300-\u23ff\U0001f000-\U0001faff"
                    r"\ufe0f\u200d\u20e3]")


def _tokens(text: str) -> list[str]:
    """Break opportunities: CJK characters one by one, other runs by word; spaces kept as
    their own tokens so they can vanish at a line break."""
    return re.findall(rf"\s+|{_CJK.pattern}|[^\s\u2e80-\u303f\u3040-\u30ff\u3400-\u4dbf"
                      r"\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]+", text)


def _clings(token: str) -> bool:
    """A token that may not start a line: it stays with what precedes it."""
    return bool(token) and (token[0] in NO_LINE_START or bool(_EMOJI.match(token)))


def _head(tokens: list[str]) -> str:
    return next((t for t in tokens if not t.isspace()), "")


def wrap(text: str, fits) -> list[str] | None:
    """Greedy line breaking where ``fits(line)`` says whether a line fits its box; keeps
    kinsoku punctuation and emoji off line starts and opening brackets and currency signs
    off line ends. None when one token alone (or a clinging pair) is too wide."""
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
        carry: list[str] = []
        # A line-start-forbidden token pulls the previous one down with it (oidashi), over a
        # space between them, and a line may not end on an opening bracket or currency sign.
        # A clinging token takes its word along even when that empties the line (the pair
        # then has to fit the next line: never a lone emoji).
        while current and (_clings(_head(carry + [token]))
                           or (len(current) > 1 and current[-1][-1] in NO_LINE_END)):
            carry.insert(0, current.pop())
        while carry and carry[0].isspace():
            carry.pop(0)
        if not current:
            lines.pop()
        lines.append(carry + [token])
        if not fits("".join(lines[-1]).strip()):
            return None
    return [line for line in ("".join(t).strip() for t in lines) if line]
