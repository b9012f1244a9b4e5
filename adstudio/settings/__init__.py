"""AdStudio settings, read from the environment (see README "Configuration").

Every integration is switched by an environment variable, so tests run the same code as
production: unset means the embedded default (SQLite, local files, in-process tasks, the tiny
random-weight model); set means the real service.

Django reads this package (DJANGO_SETTINGS_MODULE=adstudio.settings); each module holds the
settings of one concern and imports from the others the ones it builds on.
"""

from adstudio.settings.api import *  # noqa: F403
from adstudio.settings.base import *  # noqa: F403
from adstudio.settings.mail import *  # noqa: F403
from adstudio.settings.rendering import *  # noqa: F403
from adstudio.settings.security import *  # noqa: F403
from adstudio.settings.storage import *  # noqa: F403
from adstudio.settings.tasks import *  # noqa: F403
