"""The platform's settings plus the example app: the one line a new app adds."""

from yiyang.settings import *  # noqa: F403
from yiyang.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.plugin_example"]
