"""The network home: init, default network, secret and tokens."""

import os
import stat

import pytest

from engine.errors import ConfigError
from engine.home import Home, init_home, make_token, verify_token


def test_init_creates_config_folders_and_private_secret(tmp_path):
    home = init_home(tmp_path / "h")
    assert home.config_path.exists()
    assert home.inbox.is_dir() and home.outbox.is_dir()
    mode = stat.S_IMODE(home.secret_path.stat().st_mode)
    assert mode == 0o600
    net = home.network
    assert len(net.units) == 15
    assert sum(u.security == "medium" for u in net.units) == 5
    assert sum(u.security == "low" for u in net.units) == 10
    assert net.labels == ["Met", "Partly met", "Not met", "N/A"]
    assert (net.green, net.amber) == (80, 50)


def test_folder_without_config_uses_the_embedded_network(tmp_path):
    assert len(Home(tmp_path).network.units) == 15


def test_world_readable_secret_is_refused_unless_allowed(tmp_path):
    home = init_home(tmp_path / "h")
    os.chmod(home.secret_path, 0o644)
    with pytest.raises(ConfigError, match="can be read by other users"):
        Home(home.root).secret()
    assert len(Home(home.root, allow_open_secret=True).secret()) >= 32


def test_token_verifies_for_its_own_unit_period_and_version_only():
    secret = b"a" * 64
    token = make_token(secret, "M01", "2026-11", "2026.1")
    assert verify_token(secret, token, "M01", "2026-11", "2026.1")
    assert not verify_token(secret, token, "M02", "2026-11", "2026.1")
    assert not verify_token(secret, token, "M01", "2026-12", "2026.1")
    assert not verify_token(secret, token, "M01", "2026-11", "2027.1")
    assert not verify_token(b"b" * 64, token, "M01", "2026-11", "2026.1")


def test_a_unit_code_listed_twice_is_refused_and_a_large_network_is_read():
    from engine.home import default_config_text, parse_network

    text = default_config_text()
    first = text.index("[[units]]")
    block = text[first : text.index("[[units]]", first + 1)]
    with pytest.raises(ConfigError, match="listed twice"):
        parse_network(text + "\n" + block)
    many = "".join(f'\n[[units]]\ncode = "Z{i:04d}"\nname = "Ward {i}"\n' for i in range(3000))
    network = parse_network(text + many)
    assert len(network.units) == 15 + 3000
    assert network.unit("Z2999").name == "Ward 2999"
