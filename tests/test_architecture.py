"""The apps stay layered and the product code stands on its own, checked statically with `ast`.

Layers (an app may import itself and apps strictly lower, never a peer or anything higher):

    4  marketplace (also the project package: settings, urls, celery)
    3  approvals, payments
    2  careplans
    1  budgets, providers
    0  accounts

Every import counts: module-level or inside a function (or under `if TYPE_CHECKING:`), `import x.y`,
`from x import y`, relative imports resolved against the file's package, and calls of
`importlib.import_module`, `import_string`, `__import__` and `django.urls.include` with a string literal.
String model references such as `ForeignKey("careplans.CarePlan")` are not imports.
"""

import ast
import re
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

REPO = Path(__file__).resolve().parent.parent

LEVELS = {
    "accounts": 0,
    "budgets": 1,
    "providers": 1,
    "careplans": 2,
    "approvals": 3,
    "payments": 3,
    "marketplace": 4,
}

# The project package wires every app together; these files may import anything. Nothing else is exempt.
PROJECT_PACKAGE_DIRS = ("marketplace/settings/",)
PROJECT_PACKAGE_FILES = frozenset(
    {
        "marketplace/urls.py",
        "marketplace/api_urls.py",
        "marketplace/celery.py",
        "marketplace/wsgi.py",
        "marketplace/asgi.py",
    }
)

# Calls whose first argument, a string literal, names a module to import.
IMPORTING_CALLS = frozenset({"import_module", "import_string", "__import__", "include"})

# References to documents or trackers that live outside this repository.
OUTSIDE_REFERENCE = re.compile(r"\.\./shared|PRODUCT\.md|API\.md|STYLE\.md|STACK\.md|[Ii]ssue #?[0-9]+")


def product_files(pattern: str = "*.py") -> Iterator[PurePosixPath]:
    """Files matching `pattern` in each app that exists (payments may not yet), migrations excluded."""
    for app in LEVELS:
        root = REPO / app
        if not root.is_dir():
            continue
        for path in sorted(root.rglob(pattern)):
            relative = PurePosixPath(path.relative_to(REPO).as_posix())
            if "migrations" in relative.parts or "__pycache__" in relative.parts:
                continue
            yield relative


def _resolve_relative(package: list[str], level: int, module: str | None) -> str:
    """`from .x import y` at `level` dots in `package`; going past the top lands at the repository root."""
    base = package[: max(len(package) - (level - 1), 0)]
    return ".".join([*base, *([module] if module else [])])


def imported_modules(path: str, source: str) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) for every import in one file's source."""
    package = list(PurePosixPath(path).parent.parts)
    for node in ast.walk(ast.parse(source, filename=path)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                yield node.lineno, node.module or ""
                continue
            resolved = _resolve_relative(package, node.level, node.module)
            if resolved:
                yield node.lineno, resolved
            else:  # `from .. import careplans` from the top of an app: the names are the modules.
                for alias in node.names:
                    yield node.lineno, alias.name
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
            first = node.args[0]
            if name not in IMPORTING_CALLS or not isinstance(first, ast.Constant) or not isinstance(first.value, str):
                continue
            target = first.value
            if target.startswith("."):  # import_module(".x", package="...") or against this file's package
                anchor = next(
                    (
                        arg.value
                        for arg in [*node.args[1:2], *(kw.value for kw in node.keywords if kw.arg == "package")]
                        if isinstance(arg, ast.Constant) and isinstance(arg.value, str)
                    ),
                    ".".join(package),
                )
                dots = len(target) - len(target.lstrip("."))
                target = _resolve_relative(anchor.split("."), dots, target.lstrip(".") or None)
            yield node.lineno, target


def layering_violations(path: str, source: str) -> list[str]:
    """Imports in `path` (relative to the repository, e.g. `accounts/x.py`) of a peer or higher app."""
    app = PurePosixPath(path).parts[0]
    if app not in LEVELS or path in PROJECT_PACKAGE_FILES or path.startswith(PROJECT_PACKAGE_DIRS):
        return []
    level = LEVELS[app]
    violations = []
    for line, module in sorted(set(imported_modules(path, source))):
        target = module.split(".")[0]
        if target in LEVELS and target != app and LEVELS[target] >= level:
            violations.append(f"{path}:{line} imports {module} ({app} level {level} may import only lower levels)")
    return violations


def test_apps_import_only_lower_layers():
    violations = [
        violation
        for path in product_files()
        for violation in layering_violations(str(path), (REPO / path).read_text(encoding="utf-8"))
    ]
    assert not violations, f"{len(violations)} layering violations:\n" + "\n".join(violations)


def test_product_code_cites_nothing_outside_the_repository():
    files = [*product_files("*.py"), *product_files("*.html")]
    if (REPO / "templates").is_dir():
        files += [PurePosixPath(p.relative_to(REPO).as_posix()) for p in sorted((REPO / "templates").rglob("*.html"))]
    hits = [
        f"{path}:{number} cites {match.group(0)!r}"
        for path in files
        for number, line in enumerate((REPO / path).read_text(encoding="utf-8").splitlines(), start=1)
        for match in OUTSIDE_REFERENCE.finditer(line)
    ]
    assert not hits, f"{len(hits)} references to things outside the repository:\n" + "\n".join(hits)


def test_layering_check_reports_upward_peer_local_relative_and_dynamic_imports():
    source = """
from providers.models import Provider
import careplans.services
from . import models
from .models import User
from django.db import models as db_models


def later():
    from approvals.selectors import invoice_get_for
    return invoice_get_for


class Thing(db_models.Model):
    plan = db_models.ForeignKey("careplans.CarePlan", on_delete=db_models.CASCADE)
"""
    assert layering_violations("accounts/x.py", source) == [
        "accounts/x.py:2 imports providers.models (accounts level 0 may import only lower levels)",
        "accounts/x.py:3 imports careplans.services (accounts level 0 may import only lower levels)",
        "accounts/x.py:10 imports approvals.selectors (accounts level 0 may import only lower levels)",
    ]
    # Peers on the same level are as forbidden as higher apps.
    assert layering_violations("budgets/x.py", "from providers import selectors\n") == [
        "budgets/x.py:1 imports providers (budgets level 1 may import only lower levels)"
    ]
    assert layering_violations("approvals/services/x.py", "import payments.models\n") == [
        "approvals/services/x.py:1 imports payments.models (approvals level 3 may import only lower levels)"
    ]
    # Relative imports are resolved against the file's package; past the top they land at the repository root.
    assert layering_violations("careplans/api/x.py", "from ..models import CarePlan\nfrom .. import services\n") == []
    assert layering_violations("accounts/x.py", "from ..careplans import x\n") == [
        "accounts/x.py:1 imports careplans (accounts level 0 may import only lower levels)"
    ]
    assert layering_violations("accounts/api/x.py", "from ... import providers\n") == [
        "accounts/api/x.py:1 imports providers (accounts level 0 may import only lower levels)"
    ]
    # Imports by string literal.
    dynamic = """
import importlib
from django.utils.module_loading import import_string

backend = importlib.import_module("marketplace.services")
handler = import_string("approvals.tasks.payment_send_task")
name = "careplans.CarePlan"
"""
    assert layering_violations("budgets/x.py", dynamic) == [
        "budgets/x.py:5 imports marketplace.services (budgets level 1 may import only lower levels)",
        "budgets/x.py:6 imports approvals.tasks.payment_send_task (budgets level 1 may import only lower levels)",
    ]


def test_layering_check_allows_lower_layers_own_app_and_the_project_package():
    assert layering_violations("careplans/x.py", "from budgets.models import PersonalBudget\nimport accounts\n") == []
    assert layering_violations("careplans/x.py", "from careplans.models import CarePlan\n") == []
    assert layering_violations("marketplace/x.py", "from approvals import selectors\n") == []
    for path in ("marketplace/urls.py", "marketplace/settings/base.py", "marketplace/celery.py"):
        assert layering_violations(path, "import marketplace.views\n") == []
    # The exemption is for those marketplace paths only, not for other apps' files of the same name.
    assert layering_violations("accounts/urls.py", "from providers import views\n") != []
    assert layering_violations("accounts/settings/x.py", "import budgets\n") != []
