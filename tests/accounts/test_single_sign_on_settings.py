"""Single sign-on settings: off unless the provider, client id and secret are all given; a half-given
set or a role outside the vendor's stops the start with the setting's name."""
from __future__ import annotations

import pytest

from app import config as settings_module
from app.accounts.models import VENDOR_ROLES
from app.config import ConfigError, load_config

PROVIDER = {"OIDC_ISSUER": "https://id.vendor.example/", "OIDC_CLIENT_ID": "gtac",
            "OIDC_CLIENT_SECRET": "secret"}


def config(tmp_path, **env):
    return load_config(str(tmp_path), {"GTAC_ENV": "testing", **env})


def test_it_is_off_by_default_and_creates_nobody(tmp_path):
    settings = config(tmp_path)
    assert (settings["OIDC_DISCOVERY_URL"], settings["OIDC_CLIENT_ID"], settings["OIDC_CLIENT_SECRET"]) == (None,) * 3
    assert settings["OIDC_AUTO_CREATE_DOMAIN"] is None


def test_the_issuer_gives_the_discovery_address_unless_one_is_named(tmp_path):
    assert (config(tmp_path, **PROVIDER)["OIDC_DISCOVERY_URL"]
            == "https://id.vendor.example/.well-known/openid-configuration")
    named = "https://login.example.com/tenant/v2.0/.well-known/openid-configuration"
    assert config(tmp_path, **PROVIDER, OIDC_DISCOVERY_URL=named)["OIDC_DISCOVERY_URL"] == named


def test_the_vendor_domain_is_kept_without_its_at_sign_or_case(tmp_path):
    settings = config(tmp_path, **PROVIDER, OIDC_AUTO_CREATE_DOMAIN="@Vendor.Example",
                      OIDC_AUTO_CREATE_ROLE="vendor_admin")
    assert (settings["OIDC_AUTO_CREATE_DOMAIN"], settings["OIDC_AUTO_CREATE_ROLE"]) == ("vendor.example", "vendor_admin")


@pytest.mark.parametrize("env, message", [
    ({"OIDC_ISSUER": "https://id.vendor.example"}, "OIDC_CLIENT_ID, OIDC_CLIENT_SECRET"),
    ({"OIDC_CLIENT_ID": "gtac", "OIDC_CLIENT_SECRET": "s"}, "OIDC_ISSUER or OIDC_DISCOVERY_URL"),
    ({**PROVIDER, "OIDC_AUTO_CREATE_ROLE": "partner_admin"}, "OIDC_AUTO_CREATE_ROLE must be one of the vendor's"),
])
def test_a_wrong_setting_stops_the_start_with_its_name(tmp_path, env, message):
    with pytest.raises(ConfigError, match=message):
        config(tmp_path, **env)


def test_the_roles_an_account_may_be_created_with_are_exactly_the_vendors():
    # app/config.py stands below the models and so spells them out; they must not drift apart.
    assert set(settings_module._VENDOR_ROLES) == {role.value for role in VENDOR_ROLES}
