"""docker-compose.yml: valid for Docker Compose, one-shot migrate, a worker per queue, the database password
passed whole, Redis persisted. `docker compose config` (or docker-compose v1) validates it; no engine needed."""

import shutil
import subprocess

import pytest
import yaml
from django.conf import settings

ROOT = settings.BASE_DIR
PASSWORD = 'p@ss:/w#rd%20?&=$x q"é'


def compose_command():
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True)
        if probe.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    pytest.skip("neither `docker compose` nor docker-compose is installed (.ci/run installs docker-compose)")


@pytest.fixture
def resolved(tmp_path):
    """The compose file as Compose resolves it, with a .env whose password holds every awkward character."""
    shutil.copy(ROOT / "docker-compose.yml", tmp_path / "docker-compose.yml")
    (tmp_path / "portal").mkdir()
    (tmp_path / "portal" / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / ".env").write_text(f"POSTGRES_PASSWORD='{PASSWORD}'\nALLOWED_HOSTS=portal.example\n")
    result = subprocess.run(
        [*compose_command(), "config"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)["services"]


def command_of(service):
    command = service.get("command", "")
    # Compose v2 gives the command as a list, v1 as the string written in the file.
    return command if isinstance(command, str) else " ".join(command)


def env_of(service):
    environment = service["environment"]
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    # Compose escapes a literal $ as $$ in its output.
    return {key: str(value).replace("$$", "$") for key, value in environment.items()}


def test_compose_config_passes_and_the_password_arrives_whole(resolved):
    for name in ("web", "worker-checks", "worker-mirror", "beat", "migrate"):
        env = env_of(resolved[name])
        assert env["DATABASE_PASSWORD"] == PASSWORD
        assert env["DATABASE_URL"] == "postgres://portal@postgres:5432/portal"  # no password in the URL
        assert env["CACHE_URL"].startswith("redis://redis:6379/")
        assert env["CACHE_URL"] != env["CELERY_BROKER_URL"]
    assert env_of(resolved["postgres"])["POSTGRES_PASSWORD"] == PASSWORD


def test_only_the_one_shot_service_migrates_and_the_others_wait_for_it(resolved):
    migrating = [name for name, service in resolved.items() if "migrate" in command_of(service)]
    assert migrating == ["migrate"]
    assert resolved["migrate"]["restart"] == "no"
    for name in ("web", "worker-checks", "worker-mirror", "beat"):
        assert resolved[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_a_worker_per_queue_and_redis_appends(resolved):
    checks = command_of(resolved["worker-checks"])
    mirror = command_of(resolved["worker-mirror"])
    queues = env_of(resolved["web"])
    assert f"-Q {queues['CELERY_TASK_DEFAULT_QUEUE']} " in checks
    assert f"-Q {queues['CELERY_MIRROR_QUEUE']} " in mirror
    assert "--prefetch-multiplier=1" in mirror
    assert "--appendonly yes" in command_of(resolved["redis"])
