"""The platform's settings: secrets refused outside development, tiers and back ends checked at start-up."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from spacecomputer.api.security import DEVELOPMENT_SECRET
from spacecomputer.config import Settings

STRONG = "s" * 48


def test_development_runs_on_the_embedded_defaults(tmp_path: Path) -> None:
    settings = Settings(library_dir=tmp_path)
    assert settings.jwt_secret.get_secret_value() == DEVELOPMENT_SECRET
    assert settings.platform_database_url() == f"sqlite:///{tmp_path.resolve() / 'platform.db'}"
    assert settings.platform_blobs_dir() == tmp_path / "blobs"
    assert (settings.redis_url, settings.blob_backend, settings.cors_origins) == (None, "local", [])
    assert {"anonymous", "free", "pro", "enterprise"} <= set(settings.plan_limits)


@pytest.mark.parametrize("environment", ["test", "production"])
def test_the_development_secret_is_refused_elsewhere(environment: str) -> None:
    with pytest.raises(ValidationError, match="development JWT secret is refused"):
        Settings(environment=environment)
    assert Settings(environment=environment, jwt_secret=STRONG).environment == environment


def test_a_short_secret_is_refused_without_showing_it() -> None:
    secret = "short-but-secret-value"
    with pytest.raises(ValidationError, match="needs at least 32") as caught:
        Settings(environment="production", jwt_secret=secret)
    assert secret not in str(caught.value)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"plan_limits": {"free": "60/minute"}}, "anonymous"),
        ({"blob_backend": "s3"}, "s3_bucket"),
        ({"cors_origins": ["*"]}, "exact origins"),
        ({"cors_origins": ["https://app.example.com/"]}, "exact origins"),
        ({"public_base_url": "platform.example.com"}, "http:// or https://"),
        ({"jwt_algorithm": "none"}, "jwt_algorithm"),
    ],
)
def test_settings_say_what_they_expected(values: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(jwt_secret=STRONG, **values)


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPACECOMPUTER_ENVIRONMENT", "production")
    monkeypatch.setenv("SPACECOMPUTER_JWT_SECRET", STRONG)
    monkeypatch.setenv("SPACECOMPUTER_CORS_ORIGINS", '["https://app.example.com"]')
    monkeypatch.setenv("SPACECOMPUTER_PLAN_LIMITS", '{"anonymous": "5/minute", "free": "50/minute"}')
    monkeypatch.setenv("SPACECOMPUTER_REDIS_URL", "redis://cache:6379/0")
    settings = Settings()
    assert settings.cors_origins == ["https://app.example.com"]
    assert settings.plan_limits == {"anonymous": "5/minute", "free": "50/minute"}
    assert settings.redis_url == "redis://cache:6379/0"
    assert STRONG not in repr(settings)
