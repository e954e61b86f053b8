"""Load the shipped definitions (``instruments.DEFINITIONS``) into ``InstrumentVersion``.

Called by the data migrations (with the historical model) and usable from a shell. A
stored (code, version) whose definition differs from the shipped one is an error:
changing a definition must add a new version.
"""

from __future__ import annotations

from typing import Any

from yiyang.assessments.instruments import DEFINITIONS


class DefinitionChanged(Exception):
    pass


def sync_instruments(model: Any) -> int:
    """Create missing versions; return how many were created."""
    created = 0
    for d in DEFINITIONS:
        row = model.objects.filter(code=d["code"], version=d["version"]).first()
        if row is not None:
            if row.definition != d:
                raise DefinitionChanged(
                    f"{d['code']} v{d['version']} differs from the stored definition; "
                    "ship the change as a new version"
                )
            continue
        model.objects.create(
            code=d["code"],
            version=d["version"],
            name_zh=d["name"]["zh"],
            name_en=d["name"]["en"],
            source_document=d["source"]["document"],
            source_edition=d["source"]["edition"],
            definition=d,
            unverified=d.get("unverified", []),
        )
        created += 1
    return created
