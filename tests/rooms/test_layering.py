"""The domain of the rooms app never imports its transport (rooms.realtime).

The verbs queue their events (rooms.outbox) and build their frames (rooms.frames);
the transport registers how events leave. Only the adapters (socket handlers,
pages, views) and the transport itself may import rooms.realtime.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOMS = Path(__file__).resolve().parents[2] / "rooms"
TRANSPORT = "rooms.realtime"
ADAPTERS = ("handlers.py", "pages.py", "views.py", "card_views.py")


def domain_modules() -> list[Path]:
    """The lecture, the reception and the app's shared domain modules, without their adapters."""
    candidates = [*ROOMS.glob("lecture/*.py"), *ROOMS.glob("reception/*.py"),
                  *(ROOMS / name for name in ("participants.py", "profiles.py", "outbox.py", "frames.py",
                                              "refused.py", "models.py", "tasks.py"))]
    return sorted(p for p in candidates if not p.name.endswith(ADAPTERS))


def transport_imports(source: str, module: str) -> list[str]:
    """Every module of rooms.realtime that ``source`` (the text of module ``module``) imports, relative or not."""
    package = module.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        else:
            continue
        found += [n for n in names if n == TRANSPORT or n.startswith(TRANSPORT + ".")]
    return sorted(set(found))


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOMS.parent).with_suffix("").parts)


def test_no_module_of_the_domain_imports_the_transport() -> None:
    modules = domain_modules()
    assert len(modules) > 20  # the rule looks at the real tree, not at nothing
    offenders = {module_name(p): found for p in modules
                 if (found := transport_imports(p.read_text(encoding="utf-8"), module_name(p)))}
    assert offenders == {}


def test_the_rule_catches_an_import_of_the_transport_in_any_form() -> None:
    module = "rooms.lecture.chat"
    for line in ("from ..realtime.relay import get_relay", "from ..realtime import groups", "from .. import realtime",
                 "import rooms.realtime.consumer", "from rooms.realtime.delivery import run",
                 "def f():\n    from ..realtime import protocol"):
        assert transport_imports(line, module), line


def test_the_rule_lets_the_domain_import_the_domain() -> None:
    for line in ("from .. import frames", "from ..outbox import ToTalk", "from ..reception.opening import end_and_open",
                 "from .models import Stage", "import rooms.realtimes_elsewhere"):
        assert transport_imports(line, "rooms.lecture.chat") == [], line


def test_the_adapters_are_left_out_and_the_tasks_are_in() -> None:
    names = {module_name(p) for p in domain_modules()}
    assert "rooms.tasks" in names and "rooms.reception.opening" in names
    assert not {"rooms.lecture.chat_handlers", "rooms.reception.handlers", "rooms.lecture.pages"} & names
