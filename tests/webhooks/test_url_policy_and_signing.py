"""Receiver URL policy (no DNS beyond localhost) and the signature scheme."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress

import pytest

from propensity.webhooks import signing
from propensity.webhooks.url_policy import UrlRefused, check_url, is_public


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.5",
        "172.16.3.4",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "2002:a00:1::1",  # 6to4 of 10.0.0.1
        "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo whose client is 127.0.0.1
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    ],
)
def test_internal_addresses_are_not_public(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_are(address: str) -> None:
    assert is_public(ipaddress.ip_address(address))


def test_a_name_is_resolved_and_checked() -> None:
    with pytest.raises(UrlRefused, match="'localhost' resolves to"):
        check_url("http://localhost:8000/hook", allow_private=False)
    target = check_url("http://localhost:8000/hook", allow_private=True)
    assert (target.host, target.port) == ("localhost", 8000)
    assert target.addresses and all(a.is_loopback for a in target.addresses)


def test_default_ports_and_allowed_private() -> None:
    assert check_url("https://93.184.216.34/x", allow_private=False).port == 443
    assert check_url("http://10.0.0.1/x", allow_private=True).port == 80


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "url is required"),
        ("example.com/hook", "must start with http:// or https://"),
        ("file:///etc/passwd", "must start with http:// or https://"),
        ("http:///path", "must name a host"),
        ("http://93.184.216.34:99999/", "not a valid URL"),
        ("https://a:b@93.184.216.34/", "user name or password"),
        ("https://93.184.216.34/#frag", "fragment"),
        ("https://no-such-host.invalid/", "does not resolve"),
    ],
)
def test_malformed_urls_are_refused(url: str, message: str) -> None:
    with pytest.raises(UrlRefused, match=message) as caught:
        check_url(url, allow_private=True)
    assert caught.value.details == {"field": "url"}


def test_the_signature_is_hmac_sha256_over_timestamp_and_body() -> None:
    body = b'{"id":"evt_1"}'
    header = signing.signature_header("whsec_k", body, timestamp=1_700_000_000)
    expected = hmac.new(b"whsec_k", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"
    assert signing.verify("whsec_k", header, body, now=1_700_000_100)
    assert not signing.verify("whsec_k", header, body + b" ", now=1_700_000_100)
    assert not signing.verify("whsec_other", header, body, now=1_700_000_100)
    assert not signing.verify("whsec_k", header, body, now=1_700_001_000)  # too old: a replay
    moved = header.replace("t=1700000000", "t=1700000900")
    assert not signing.verify("whsec_k", moved, body, now=1_700_000_900)
    assert not signing.verify("whsec_k", "garbage", body)


def test_secrets_are_random_and_marked() -> None:
    first, second = signing.new_secret(), signing.new_secret()
    assert first != second and first.startswith("whsec_") and len(first) >= 40
