import os
import shutil

import pytest

from rendering.models import AssetKind, Format
from rendering.templates import prompt_template_save
from tests.factories import BrandKitFactory, ProductFactory, WorkspaceFactory

# Tests hash passwords with MD5: PBKDF2 costs about half a second per user. The override is
# enabled for the whole session (before the test database is made, and for users made in
# fixtures and live-server/browser tests: same process); it sends setting_changed, which clears
# Django's cached hashers. A test of real hashing overrides PASSWORD_HASHERS back locally.
TEST_PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def pytest_configure(config):
    from django.test import override_settings

    override_settings(PASSWORD_HASHERS=TEST_PASSWORD_HASHERS).enable()


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Every test writes files to its own temporary MEDIA_ROOT."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def fresh_cache():
    """Sign-in throttling counts failures in the cache: every test starts with none."""
    from django.core.cache import caches
    from django.core.cache.backends.locmem import LocMemCache

    if isinstance(caches["default"], LocMemCache):  # never a shared one: on Redis, clear()
        caches["default"].clear()                   # would flush the broker's database too


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    """The tiny random-weight Qwen-Image pipeline, built once per test session."""
    from rendering.engine.tiny import build_tiny_qwen_image

    return build_tiny_qwen_image(tmp_path_factory.mktemp("models") / "tiny-qwen-image")


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory):
    """A real S3-compatible server that enforces signatures, for the whole session."""
    from tests.services import SeaweedFS

    server = SeaweedFS(tmp_path_factory.mktemp("seaweedfs")).start()
    yield server
    server.stop()


@pytest.fixture
def tiny_model(settings, tiny_model_dir):
    """Point the renderer at the tiny model, exactly as an operator points it at real weights."""
    settings.ADSTUDIO_QWEN_IMAGE_MODEL = str(tiny_model_dir)
    settings.ADSTUDIO_RENDER_SCALE = 0.0625
    settings.ADSTUDIO_DEFAULT_STEPS = 2
    settings.ADSTUDIO_TORCH_THREADS = 1
    return tiny_model_dir


@pytest.fixture(scope="session")
def tiny_edit_model_dir(tmp_path_factory):
    """The tiny random-weight Qwen-Image-Edit pipeline, built once per test session."""
    from rendering.engine.tiny import build_tiny_qwen_image_edit

    return build_tiny_qwen_image_edit(tmp_path_factory.mktemp("models") / "tiny-qwen-image-edit")


@pytest.fixture
def tiny_edit_model(settings, tiny_edit_model_dir):
    """Point the edit renderer at the tiny edit model, with small edit sizes (fast on a CPU)."""
    settings.ADSTUDIO_QWEN_IMAGE_EDIT_MODEL = str(tiny_edit_model_dir)
    settings.ADSTUDIO_EDIT_CONDITION_SIZE = 64
    settings.ADSTUDIO_EDIT_VAE_IMAGE_SIZE = 128
    settings.ADSTUDIO_EDIT_STEPS = 2
    settings.ADSTUDIO_TORCH_THREADS = 1
    return tiny_edit_model_dir
SAMPLE_FORMATS = ("responsive-landscape", "gdn-medium-rectangle", "meta-story", "print-a4")


@pytest.fixture
def catalog(db):
    """A workspace with a brand kit, two products and a template per kind."""
    workspace = WorkspaceFactory()
    brand = BrandKitFactory(workspace=workspace)
    products = [ProductFactory(workspace=workspace) for _ in range(2)]
    for kind in AssetKind.values:
        prompt_template_save(
            user=None, workspace=workspace, name=f"{kind} default", kind=kind,
            body=f"A {kind} for {{{{ product.name }}}} by {{{{ brand.name }}}}",
        )
    formats = list(Format.objects.filter(workspace=None, key__in=SAMPLE_FORMATS))
    return workspace, brand, products, formats


def use_broker(app, url: str, *, eager: bool) -> None:
    """Point the test process's Celery app at ``url``, dropping its cached connections (as
    Celery itself does after a fork)."""
    from kombu import pools

    pools.reset()  # closes and forgets every cached connection pool
    app._pool = None
    if "amqp" in app.__dict__:
        app.__dict__["amqp"]._producer_pool = None
    app.conf.broker_url = url
    app.conf.task_always_eager = eager


@pytest.fixture
def queued_broker():
    """Tasks go to Celery's in-process memory transport and wait there (no eager run), so a
    test sees the queue as a worker would find it."""
    from adstudio.celery import app

    use_broker(app, "memory://", eager=False)
    yield app
    use_broker(app, "memory://", eager=True)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(tmp_path_factory):
    """A file test database (not SQLite's in-memory one) that worker processes can open."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        database.setdefault("TEST", {})["NAME"] = str(
            tmp_path_factory.mktemp("db") / "test.sqlite3")


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Chromium must not try to reach the network; this machine has none but the registries.
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium is missing at {CHROMIUM}: ./dev test installs it (apt chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; our ORM calls are still sync.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()
