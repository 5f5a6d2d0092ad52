"""The production image holds the product only: the dev Hub and the demo data source stay out of it."""

import fnmatch
import os
import shutil
import subprocess
import sys

from django.conf import settings

ROOT = settings.BASE_DIR


def ignored(path, patterns):
    """Whether .dockerignore keeps `path` (relative, with /) out of the build context."""
    return any(
        path == p or path.startswith(p.rstrip("/") + "/") or fnmatch.fnmatch(path, p) for p in patterns
    )


def test_the_portal_starts_from_the_image_context_without_the_dev_hub(tmp_path):
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip()[:1] not in ("", "#")
    ]
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    context = tmp_path / "context"
    for path in tracked.splitlines():
        if not ignored(path, patterns) and (ROOT / path).exists():
            (context / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / path, context / path)
    assert not (context / "devhub").exists()
    assert (context / "manage.py").exists()
    env = {**os.environ, "PORTAL_VAR_DIR": str(tmp_path / "var"), "DJANGO_SETTINGS_MODULE": "portal.settings"}
    env.pop("DATABASE_URL", None)
    check = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=context, env=env, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stderr
    probe = subprocess.run(
        [sys.executable, "-c", "import devhub"], cwd=context, env=env, capture_output=True, text=True
    )
    assert "No module named 'devhub'" in probe.stderr
