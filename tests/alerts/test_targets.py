"""Outbound targets inside the platform's network are refused, in every notation an attacker tries."""

from __future__ import annotations

import pytest

from alerts.channels.targets import UnsafeTarget, apprise_endpoint, check_apprise_url, check_url

INTERNAL_URLS = [
    "http://127.0.0.1/",
    "http://127.0.0.1:5432/",
    "http://localhost:8000/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.5/",
    "http://172.16.3.4/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",
    "http://0.0.0.0:22/",
    "http://0/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://0177.0.0.1/",
    "http://0x7f.1/",
    "http://127.1/",
    "http://[::1]/",
    "http://[::]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:a9fe:a9fe]/",
    "http://[fe80::1]/",
    "http://[fc00::1]/",
    "http://224.0.0.1/",
    "http://[ff02::1]/",
    "http://user:pass@127.0.0.1/",
    "https://127.0.0.1.:443/",
]


@pytest.mark.parametrize("url", INTERNAL_URLS)
def test_internal_webhook_targets_are_refused(url: str) -> None:
    with pytest.raises(UnsafeTarget):
        check_url(url, [], unresolved_ok=True)


@pytest.mark.parametrize(
    "url", ["json://127.0.0.1:9/hook", "xml://[::1]/", "form://169.254.169.254/", "jsons://2130706433/"]
)
def test_internal_apprise_targets_are_refused(url: str) -> None:
    with pytest.raises(UnsafeTarget):
        check_apprise_url(url, [], unresolved_ok=True)


def test_public_addresses_pass() -> None:
    check_url("http://93.184.216.34/hook", [])
    check_url("https://[2606:4700:4700::1111]/", [])


def test_fixed_vendor_endpoints_are_checked_by_their_vendor_host() -> None:
    dingtalk = "dingtalk://0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab1234"
    assert (apprise_endpoint(dingtalk) or "").startswith("https://oapi.dingtalk.com/")
    check_apprise_url(dingtalk, [], unresolved_ok=True)


def test_unresolvable_names_pass_on_save_only() -> None:
    check_url("https://hooks.invalid/x", [], unresolved_ok=True)
    with pytest.raises(UnsafeTarget):
        check_url("https://hooks.invalid/x", [])


@pytest.mark.parametrize("allowed", [["127.0.0.1"], ["127.0.0.0/8"], ["localhost"]])
def test_the_allow_list_lets_named_internal_hosts_through(allowed: list[str]) -> None:
    host = "localhost" if allowed == ["localhost"] else "127.0.0.1"
    check_url(f"http://{host}:8080/", allowed)
    with pytest.raises(UnsafeTarget):
        check_url("http://169.254.169.254/", allowed)
