"""Standard Webhooks signing: the published example, and secrets that yield no key."""

from __future__ import annotations

import re

import pytest

from alerts.signing import signature, signing_key


def test_the_example_of_the_standard_webhooks_documentation():
    key = signing_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    found = signature(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}')
    assert found == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_a_plain_secret_is_its_own_key():
    assert signing_key("not prefixed") == b"not prefixed"


@pytest.mark.parametrize(
    ("secret", "wrong"),
    [
        ("whsec_abc", "not valid base64 (Incorrect padding)"),
        ("whsec_é", "not valid base64"),
        ("whsec_", "the part after whsec_ is empty"),
        ("", "the secret is empty"),
    ],
)
def test_a_secret_that_yields_no_key_says_why_without_showing_it(secret, wrong):
    with pytest.raises(ValueError, match=re.escape(wrong)) as raised:
        signing_key(secret)
    body = secret.removeprefix("whsec_")
    assert not body or body not in str(raised.value)
