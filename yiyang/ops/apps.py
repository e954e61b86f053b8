"""The operations layer: the serving, demo and seeding commands (``yiyang serve``,
``yiyang demo``, ``yiyang seed``), above every domain app.

The commands start the server and its supervised children, set up the demo and load
synthetic data, so they reach into the domain apps and ``yiyang.seed``; nothing below
imports them.
"""

from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "yiyang.ops"
    label = "ops"
    default_auto_field = "django.db.models.BigAutoField"
