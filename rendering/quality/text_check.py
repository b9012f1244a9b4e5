"""The text check: read an asset's words back with PP-OCR and compare them with its copy.

PP-OCRv4 runs through RapidOCR on ONNX Runtime (CPU); its models ship inside the
``rapidocr-onnxruntime`` wheel, so nothing is downloaded, and they load once per process.
Copy the model drew is found with detection plus recognition and an order-tolerant match. Copy
the typography layer set is verified against a reference rendering instead
(rendering/quality/overlay_check.py); reading it on the boxes the layer recorded
(recognition alone on each line's crop reads far more exactly than detection, which merges
and reorders boxes) stays for layouts recorded before the layer kept its fonts, and for
bench/copy_fidelity.py.
Both sides are normalized (NFKC, so full and half width agree; quotes, dashes and whitespace)
and each required string is scored by character error rate, case included. What OCR cannot
tell is never a pass: copy with characters outside the recognizer's set, or whose only
difference is the case of a letter that looks the same in both cases (c, o, s, u, v, w, x, z),
is "not verified"; a currency sign the recognizer reads as another one is wrong.
"""

from __future__ import annotations

import difflib
import re
import threading
import unicodedata
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from PIL import Image

ROLE_LABELS = {"headline": "The headline", "subline": "The subline", "price": "The price",
               "cta": "The button", "disclaimer": "The disclaimer"}
_PUNCTUATION = str.maketrans({
    "‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-", "−": "-", "。": ".",
    "、": ",", "・": "·",
})

_engine = None
_engine_lock = threading.Lock()


def ocr_engine():
    """This process's RapidOCR engine (PP-OCRv4 detection and recognition), loaded once."""
    global _engine
    with _engine_lock:
        if _engine is None:
            from rapidocr_onnxruntime import RapidOCR

            threads = settings.ADSTUDIO_OCR_THREADS or -1
            _engine = RapidOCR(intra_op_num_threads=threads, inter_op_num_threads=threads)
    return _engine


def normalize(text: str) -> str:
    """The form copy is compared in: NFKC (full width -> half width), one kind of quote and
    dash, and no whitespace (OCR neither keeps nor invents spacing reliably). Case is kept:
    ``iphone`` is not ``iPhone``."""
    text = unicodedata.normalize("NFKC", text).translate(_PUNCTUATION)
    return re.sub(r"\s+", "", text)


# Stands in the expected text for a character the recognizer cannot read: it matches any one
# character (PP-OCR reads € as E) or none, at no cost, except a currency sign the recognizer
# does read (a € price read as $ is wrong). The line is then "not verified", never exact.
UNREADABLE = "\x00"
# Currency signs PP-OCRv4 reads (its set has no €, £, ₩ or ₹): one read where an unreadable
# sign was expected means the model drew another currency.
CURRENCY_SIGNS = frozenset("$¥")
# Letters whose capital and small forms differ only in size: the recognizer confuses them.
LOOKALIKE_CASE = frozenset("cosuvwxz")


def _cost(expected: str, read: str, loose_case: bool = True) -> int:
    if expected == read:
        return 0
    if expected == UNREADABLE:
        return int(read in CURRENCY_SIGNS)
    return int(not (loose_case and expected.lower() == read.lower()
                    and expected.lower() in LOOKALIKE_CASE))


def edit_distance(a: str, b: str, *, loose_case: bool = True) -> int:
    """Levenshtein distance of ``b`` from ``a`` (``a`` may hold UNREADABLE marks); with
    ``loose_case`` a look-alike letter in the other case costs nothing."""
    prev = [0]
    for ca in a:
        prev.append(prev[-1] + (ca != UNREADABLE))
    for j, cb in enumerate(b, 1):
        cur = [j]
        for i, ca in enumerate(a, 1):
            cur.append(min(prev[i] + 1, cur[i - 1] + (ca != UNREADABLE),
                           prev[i - 1] + _cost(ca, cb, loose_case)))
        prev = cur
    return prev[-1]


def cer(expected: str, read: str) -> float:
    """Character error rate of ``read`` against ``expected`` (both normalized)."""
    expected, read = normalize(expected), normalize(read)
    return edit_distance(expected, read) / max(1, len(expected))


def reading_status(expected: str, read: str, unverified: str) -> str:
    """"wrong" when OCR found a real difference, "not_verified" when it cannot tell (a
    character outside its set, only the case of look-alike letters differs, or nothing it
    can read), "exact" otherwise. ``expected`` holds UNREADABLE marks, both normalized."""
    if edit_distance(expected, read) > 0:
        return "wrong"
    if (unverified or edit_distance(expected, read, loose_case=False) > 0
            or not expected.replace(UNREADABLE, "")):
        return "not_verified"
    return "exact"


def best_substring(needle: str, haystack: str) -> tuple[int, str]:
    """The substring of ``haystack`` closest to ``needle`` and its edit distance (the copy
    may sit inside a longer line the model drew)."""
    n = len(needle)
    prev, prev_start = [0], [0] * (n + 1)
    for ch in needle:
        prev.append(prev[-1] + (ch != UNREADABLE))
    best = (n, 0, 0)
    for i, ch in enumerate(haystack, 1):
        cur, cur_start = [0] * (n + 1), [i] * (n + 1)
        for j in range(1, n + 1):
            cur[j], cur_start[j] = min(
                (prev[j - 1] + _cost(needle[j - 1], ch), prev_start[j - 1]),
                (prev[j] + 1, prev_start[j]),
                (cur[j - 1] + (needle[j - 1] != UNREADABLE), cur_start[j - 1]),
            )
        if cur[n] < best[0]:
            best = (cur[n], cur_start[n], i)
        prev, prev_start = cur, cur_start
    return best[0], haystack[best[1]:best[2]]


def differences(expected: str, read: str) -> list[dict]:
    """What differs, for the review screen: [{"op": "replace", "expected": "1", "read": "7"}]."""
    matcher = difflib.SequenceMatcher(None, expected, read, autojunk=False)
    return [{"op": op, "expected": expected[i1:i2], "read": read[j1:j2]}
            for op, i1, i2, j1, j2 in matcher.get_opcodes() if op != "equal"]


def _bgr(image: Image.Image) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1])


def read_line(image: Image.Image, box, *, frame: float = 0.5) -> tuple[str, float]:
    """Recognition alone on one line's crop (the box the layer recorded), framed with its own
    edge pixels the way detection frames a box (the recognizer misreads tight crops)."""
    import cv2

    x0, y0, x1, y1 = box
    height = y1 - y0
    margin = max(1, height // 7)  # inside the scrim, clear of the glyphs' edges
    crop = _bgr(image.crop((max(0, x0 - margin), max(0, y0), min(image.width, x1 + margin),
                            min(image.height, y1))))
    side, top = round(frame * height), round(frame * height / 2)
    framed = cv2.copyMakeBorder(crop, top, top, side, side, cv2.BORDER_REPLICATE)
    result, _ = ocr_engine()(framed, use_det=False, use_cls=False, use_rec=True)
    if not result:
        return "", 0.0
    text, score = result[0]
    return text.strip(), float(score)


def alphabet() -> frozenset[str]:
    """The characters the recognizer can output (PP-OCRv4's has no €, £, ₩, ₹ or ©)."""
    return frozenset(ocr_engine().text_rec.postprocess_op.character)


def verifiable(text: str) -> tuple[str, str]:
    """The normalized copy with UNREADABLE marks for the characters OCR cannot read at all,
    and those characters (reported, never counted as errors)."""
    known = alphabet()
    text = normalize(text)
    return ("".join(c if c in known else UNREADABLE for c in text),
            "".join(c for c in text if c not in known))


def detect_text(image: Image.Image) -> list[dict]:
    """Detection plus recognition on the whole image: [{"text", "score", "box"}], where box
    is (x0, y0, x1, y1) in the image's pixels, in reading order."""
    result, _ = ocr_engine()(_bgr(image), use_cls=False)
    found = []
    for points, text, score in result or []:
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        found.append({"text": text.strip(), "score": round(float(score), 3),
                      "box": [round(min(xs)), round(min(ys)), round(max(xs)), round(max(ys))]})
    return sorted(found, key=lambda d: (d["box"][1], d["box"][0]))


@dataclass
class RoleReading:
    role: str
    expected: str
    read: str
    cer: float
    boxes: list = field(default_factory=list)
    source: str = "overlay"  # "overlay": set by the layer; "native": drawn by the model
    unverified: str = ""  # characters of the copy the recognizer cannot read at all
    method: str = "ocr"  # "ocr", or "reference": compared with a reference rendering
    status: str = ""  # "exact", "wrong" or "not_verified" (from the reading when empty)
    note: str = ""  # why it is wrong or not verified, when OCR is not the reason
    lines: list = field(default_factory=list)  # per line, for the reference method

    def __post_init__(self):
        if not self.status:
            self.status = reading_status(verifiable(self.expected)[0], normalize(self.read),
                                         self.unverified)

    @property
    def exact(self) -> bool:
        return self.status == "exact"

    @property
    def wrong(self) -> bool:
        return self.status == "wrong"

    def as_dict(self) -> dict:
        diff = ([] if self.exact or self.method != "ocr"
                else differences(normalize(self.expected), normalize(self.read)))
        return {"role": self.role, "expected": self.expected, "read": self.read,
                "cer": round(self.cer, 4), "exact": self.exact, "status": self.status,
                "source": self.source, "method": self.method, "note": self.note,
                "boxes": self.boxes, "unverified": self.unverified, "diff": diff,
                "lines": self.lines}


def _score(expected: str, read: str) -> float:
    target = verifiable(expected)[0]
    return edit_distance(target, normalize(read)) / max(1, len(target))


# Recognition is retried with other framings before a line counts as misread: a false alarm
# on copy the layer set costs a reviewer's time; a wrong glyph never reads exactly in any.
FRAMES = (0.5, 1.0, 0.25)


def read_overlay(image: Image.Image, layout: dict) -> list[RoleReading]:
    """Read every role the layer set, line by line on its recorded boxes."""
    by_role: dict[str, list[dict]] = {}
    for line in layout.get("lines", []):
        by_role.setdefault(line["role"], []).append(line)
    readings = []
    for role, lines in by_role.items():
        reads = []
        for line in lines:
            best = None
            for frame in FRAMES:
                text = read_line(image, line["box"], frame=frame)[0]
                if best is None or _score(line["text"], text) < _score(line["text"], best):
                    best = text
                if _score(line["text"], best) == 0:
                    break
            reads.append(best)
        expected, read = " ".join(line["text"] for line in lines), " ".join(reads)
        readings.append(RoleReading(role, expected, read, _score(expected, read),
                                    [line["box"] for line in lines],
                                    unverified=verifiable(expected)[1]))
    return readings


def read_native(detections: list[dict], copy: dict, roles) -> list[RoleReading]:
    """Find each required string among the detected text, whatever order the boxes came in:
    the best of every single box and the whole text in reading order."""
    joined = normalize("".join(d["text"] for d in detections))
    readings = []
    for role in roles:
        if not copy.get(role):
            continue
        expected, unreadable = verifiable(copy[role])
        candidates = [(d, normalize(d["text"])) for d in detections] + [(None, joined)]
        best = None
        for detection, text in candidates:
            distance, matched = best_substring(expected, text)
            if best is None or distance < best[0]:
                best = (distance, matched, detection)
        distance, matched, detection = best or (len(expected), "", None)
        boxes = [detection["box"]] if detection else [d["box"] for d in detections]
        readings.append(RoleReading(role, copy[role], matched,
                                    distance / max(1, len(expected)), boxes, "native",
                                    unreadable))
    return readings


def reading_problem(reading: RoleReading) -> str:
    """One sentence a marketer understands."""
    label = ROLE_LABELS.get(reading.role, reading.role)
    if reading.method == "reference":
        return f"{label} “{reading.expected}” {reading.note}."
    if not reading.read:
        return f"{label} “{reading.expected}” could not be found on the image."
    return f"{label} reads “{reading.read}” instead of “{reading.expected}”."


def reading_doubt(reading: RoleReading) -> str:
    """Why a line is not verified, for the reviewer who has to look at it."""
    label = ROLE_LABELS.get(reading.role, reading.role)
    if reading.method == "reference":
        return f"{label} “{reading.expected}” {reading.note}: check it by eye."
    if reading.unverified:
        signs = " ".join(dict.fromkeys(reading.unverified))
        return f"{label} “{reading.expected}”: the OCR model cannot read {signs}; check it by eye."
    if not verifiable(reading.expected)[0].replace(UNREADABLE, ""):
        return f"{label} “{reading.expected}” has nothing the OCR model can read; check it by eye."
    return (f"{label} reads “{reading.read}”: only the case of letters that look alike in both "
            f"cases differs from “{reading.expected}”; check it by eye.")
