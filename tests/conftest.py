import pytest


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Every test writes files to its own temporary MEDIA_ROOT."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    """The tiny random-weight Qwen-Image pipeline, built once per test session."""
    from rendering.tiny_model import build_tiny_qwen_image

    return build_tiny_qwen_image(tmp_path_factory.mktemp("models") / "tiny-qwen-image")


@pytest.fixture
def tiny_model(settings, tiny_model_dir):
    """Point the renderer at the tiny model, exactly as an operator points it at real weights."""
    settings.ADSTUDIO_QWEN_IMAGE_MODEL = str(tiny_model_dir)
    settings.ADSTUDIO_RENDER_SCALE = 0.0625
    settings.ADSTUDIO_DEFAULT_STEPS = 2
    return tiny_model_dir
