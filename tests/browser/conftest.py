"""Playwright with Debian's Chromium (STACK.md): never `playwright install`.

Without /usr/bin/chromium the browser tests are skipped on a laptop; in CI (CI=true) or with
CAIRN_REQUIRE_BROWSER=1 a missing browser is a failure, so they cannot silently not run.
"""

import os

import pytest

# Playwright's sync API runs an event loop in this thread; Django's ORM calls from the test are
# still synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CAIRN_CHROMIUM", "/usr/bin/chromium")
REQUIRE_BROWSER = os.environ.get("CI") == "true" or os.environ.get("CAIRN_REQUIRE_BROWSER") == "1"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not os.path.exists(CHROMIUM):
        message = f"Chromium not found at {CHROMIUM} (apt-get install chromium)."
        if REQUIRE_BROWSER:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
