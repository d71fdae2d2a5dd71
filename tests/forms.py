"""Reading a rendered form's fields and their errors, as the shared field macros write them."""

from __future__ import annotations

import re


def field_block(page: str, name: str) -> str:
    """The <div class="field"> (or <fieldset>) that holds the input named ``name``."""
    blocks = re.split(r'(?=<(?:div|fieldset) class="field)', page)
    holding = [block for block in blocks if f'name="{name}"' in block]
    assert len(holding) == 1, f"no single field block for {name}"
    return holding[0]


def field_errors(page: str, name: str) -> list[str]:
    block = field_block(page, name)
    found = re.search(rf'<ul class="errors" id="id_{name}-errors" role="alert">(.*?)</ul>', block, re.S)
    if not found:
        return []
    assert "has-error" in block.split(">", 1)[0]
    return re.findall(r"<li>(.*?)</li>", found.group(1), re.S)
