from __future__ import annotations

from typing import Any

from yiyang.common import registry
from yiyang.residents.pages import shell

from .permissions import ExamplePerm


def _may_see(user: Any, resident: Any) -> bool:
    return bool(user.has_perm_code(ExamplePerm.VIEW))


registry.register_pages("example/", "tests.plugin_example.urls")
registry.register_api_router("/example", "tests.plugin_example.api.router")
registry.register_nav("Example notes", "plugin_example:index", ExamplePerm.VIEW, order=500)
shell.register_tab("plugin_example:resident", "Example tab", _may_see, order=95)
