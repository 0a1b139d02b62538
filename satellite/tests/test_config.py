"""Settings from flags, OMB_* variables and the TOML file; the member id kept next to them."""

from __future__ import annotations

from pathlib import Path

import pytest

from omb_satellite.cli import main
from omb_satellite.config import Settings, load_settings
from omb_satellite.errors import EXIT_ROOM, ConfigError
from omb_satellite.identity import load_identity

REQUIRED = ["--url", "http://ha:8123", "--token", "secret", "--room", "room1"]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")
    path.chmod(0o600)
    return path


def test_flags_alone(tmp_path: Path) -> None:
    environ = {"XDG_CONFIG_HOME": str(tmp_path)}
    settings = load_settings([*REQUIRED, "--offset-ms", "-12.5", "--ao", "null"], environ)
    assert settings == Settings(
        url="http://ha:8123",
        token="secret",
        room="room1",
        identity=tmp_path / "omb-satellite" / "member_id",
        offset_ms=-12.5,
        ao="null",
    )


def test_the_default_config_file_and_its_identity(tmp_path: Path) -> None:
    config = write(
        tmp_path / "omb-satellite" / "config.toml",
        'url = "http://ha:8123"\ntoken = "secret"\nroom = "room1"\nname = "kitchen"\n'
        'offset_ms = 40\naudio_device = "alsa/hw:1"\nverbose = true\n',
    )
    settings = load_settings([], {"XDG_CONFIG_HOME": str(tmp_path)})
    assert settings.config == config
    assert (settings.name, settings.offset_ms) == ("kitchen", 40.0)
    assert settings.audio_device == "alsa/hw:1"
    assert settings.verbose
    assert settings.identity == tmp_path / "omb-satellite" / "member_id"  # next to the config


def test_flags_win_over_the_environment_over_the_file(tmp_path: Path) -> None:
    config = write(
        tmp_path / "etc" / "sat.toml",
        'url = "http://file:8123"\ntoken = "file"\nroom = "file-room"\nname = "file"\n'
        'identity = "/var/lib/omb/id"\n',
    )
    environ = {"OMB_CONFIG": str(config), "OMB_TOKEN": "env", "OMB_NAME": "env"}
    settings = load_settings(["--name", "flag"], environ)
    assert (settings.url, settings.token, settings.room) == ("http://file:8123", "env", "file-room")
    assert settings.name == "flag"
    assert settings.identity == Path("/var/lib/omb/id")
    # --config wins over OMB_CONFIG, and the identity follows the config file.
    other = write(tmp_path / "other" / "config.toml", 'url = "u"\ntoken = "t"\nroom = "r"\n')
    settings = load_settings(["--config", str(other)], environ)
    assert (settings.url, settings.room) == ("u", "r")
    assert settings.identity == other.parent / "member_id"


@pytest.mark.parametrize(
    ("argv", "file", "message"),
    [
        (["--url", "u", "--room", "r"], None, "a token is required: --token, OMB_TOKEN"),
        ([*REQUIRED, "--offset-ms", "2000"], None, "offset_ms must be between -1000 and 1000"),
        ([*REQUIRED, "--offset-ms", "nan"], None, "offset_ms must be between"),
        ([*REQUIRED, "--offset-ms", "soon"], None, "offset_ms must be a number"),
        ([], 'url = "u"\ntoken = "t"\nroom = "r"\nspeed = 2\n', "unknown setting(s)"),
        ([], 'url = "u"\ntoken = "t"\nroom = 5\n', "a room is required"),
        ([], 'url = "u"\ntoken = "t"\nroom = "r"\nverbose = "yes"\n', "verbose must be"),
        ([], 'url = "u"\ntoken = "t"\nroom = "r"\nname = 3\n', "name must be a string"),
        ([], "url = \n", "cannot read the config file"),
    ],
)
def test_bad_settings_are_explained(
    tmp_path: Path, argv: list[str], file: str | None, message: str
) -> None:
    if file is not None:
        write(tmp_path / "omb-satellite" / "config.toml", file)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_settings(argv, {"XDG_CONFIG_HOME": str(tmp_path)})


def test_a_config_file_asked_for_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings(["--config", str(tmp_path / "nope.toml")], {})
    with pytest.raises(ConfigError, match="not found"):
        load_settings(REQUIRED, {"OMB_CONFIG": str(tmp_path / "nope.toml")})


def test_a_token_in_a_file_others_can_read_is_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = write(tmp_path / "c.toml", 'url = "u"\ntoken = "t"\nroom = "r"\n')
    load_settings(["--config", str(config)], {})
    assert "chmod 600" not in caplog.text
    config.chmod(0o644)
    load_settings(["--config", str(config)], {})
    assert "chmod 600" in caplog.text


def test_the_command_says_what_is_wrong(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.delenv("OMB_TOKEN", raising=False)
    assert main(["--url", "u", "--room", "r"]) == EXIT_ROOM
    assert "omb-satellite: error: a token is required" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith("omb-satellite ")


def test_the_identity_is_made_once_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "omb-satellite" / "member_id"
    member_id = load_identity(path)
    assert path.read_text("utf-8").strip() == member_id
    assert load_identity(path) == member_id  # after a reboot: the same
    path.write_text("not an id: local:null\n", "utf-8")
    replaced = load_identity(path)
    assert replaced not in (member_id, "not an id: local:null")
    assert load_identity(path) == replaced


def test_an_identity_that_cannot_be_saved_still_joins(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "member_id.tmp").mkdir()  # where it would be written first
    first = load_identity(tmp_path / "member_id")
    assert first
    assert "after a restart this satellite joins the room as a new member" in caplog.text
    assert load_identity(tmp_path / "member_id") != first
    caplog.clear()
    (tmp_path / "file").write_text("", "utf-8")
    assert load_identity(tmp_path / "file" / "member_id")  # its directory is a file
    assert "Cannot read the member id" in caplog.text
