"""The documentation keeps up with the code: every setting is on the configuration page, and no link of the
README leads nowhere. (`make docs` builds the site strictly: broken links inside docs/ fail it there.)"""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = ROOT / "portal" / "settings.py"
CONFIGURATION = ROOT / "docs" / "operating" / "configuration.md"
ELSEWHERE = "## Variables read elsewhere"


def variables_read_by_settings():
    """Return the names of the environment variables that portal/settings.py reads.

    Every read goes through django-environ (`env.str("NAME", ...)`, `env.int`, `env.db`, `env.cache_url`,
    ... or `env("NAME")`); a plain `os.environ`/`os.getenv` read would be one too.
    """
    names = set()
    for node in ast.walk(ast.parse(SETTINGS.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        first = node.args[0]
        if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
            continue
        func = node.func
        through_env = (isinstance(func, ast.Attribute) and _name(func.value) == "env") or _name(func) == "env"
        through_os = (isinstance(func, ast.Attribute) and func.attr in ("get", "getenv")) and _name(
            func.value
        ) in ("os.environ", "os")
        if through_env or through_os:
            names.add(first.value)
    return names


def _name(node):
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_name(node.value)}.{node.attr}"
    return None


def documented_settings():
    """Return the variables named in the first column of the configuration page's settings tables."""
    text = CONFIGURATION.read_text(encoding="utf-8").split(ELSEWHERE)[0]
    names = set()
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")] if line.startswith("|") else []
        if cells:
            names |= set(re.findall(r"`([A-Z][A-Z0-9_]+)`", cells[0]))
    return names


def test_the_reader_finds_the_settings_module_reads():
    read = variables_read_by_settings()
    # The parser sees the settings' reads at all: a few that have been there from the start.
    assert {"DEBUG", "SECRET_KEY", "DATABASE_URL", "CACHE_URL", "AXES_COOLOFF_MINUTES", "LOG_LEVEL"} <= read
    assert all(re.fullmatch(r"[A-Z][A-Z0-9_]+", name) for name in read)


def test_every_setting_is_on_the_configuration_page():
    missing = variables_read_by_settings() - documented_settings()
    assert not missing, (
        f"portal/settings.py reads {sorted(missing)}, which docs/operating/configuration.md does not list: "
        "add each to the table of its area."
    )


def test_the_configuration_page_lists_no_setting_that_is_gone():
    gone = documented_settings() - variables_read_by_settings()
    assert not gone, (
        f"docs/operating/configuration.md lists {sorted(gone)}, which portal/settings.py no longer reads: "
        f"remove them, or move them under “{ELSEWHERE[3:]}” if another program reads them."
    )


def test_the_readme_links_lead_to_files_of_the_project():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = [target for target in re.findall(r"\]\(([^)\s]+)\)", readme) if "://" not in target]
    assert targets, "the README links into the documentation"
    for target in targets:
        assert (ROOT / target.split("#")[0]).exists(), f"README.md links to {target}, which does not exist"
