"""WeCom callback crypto against WeCom's own published example values (the sample of its
WXBizMsgCrypt kit: token, EncodingAESKey, corp id, a URL verification and an event message), so
it is right for the real service and not only for our fake."""

from __future__ import annotations

import base64
import struct

import pytest

from backend.messenger.crypto import CallbackRefused, WeComCrypto, aes_key, check_fresh, signature

# the published sample's settings and requests (WeCom's callback kit, Sample)
TOKEN = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo"
AES_KEY = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"
CORP_ID = "ww1436e0e65a779aee"
VERIFY = {
    "msg_signature": "012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb",
    "timestamp": "1476416373",
    "nonce": "47744683",
    "echostr": "fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6SVHyA==",
}
EVENT = {
    "msg_signature": "0c3914025cb4b4d68103f6bfc8db550f79dcf48e",
    "timestamp": "1476422779",
    "nonce": "1597212914",
    "encrypt": (
        "Kl7kjoSf6DMD1zh7rtrHjFaDapSCkaOnwu3bqLc5tAybhhMl9pFeK8NslNPVdMwmBQTNoW4mY7AIjeLvEl3NyeTkAgGzBhzTtRLN"
        "shw2AEew+kkYcD+Fq72Kt00fT0WnN87hGrW8SqGc+NcT3mu87Ha3dz1pSDi6GaUA6A0sqfde0VJPQbZ9U+3JWcoD4Z5jaU0y9GSh"
        "010wsHF8KZD24YhmZH4ch4Ka7ilEbjbfvhKkNL65HHL0J6EYJIZUC2pFrdkJ7MhmEbU2qARR4iQHE7wy24qy0cRX3Mfp6iELcDNf"
        "SsPGjUQVDGxQDCWjayJOpcwocugux082f49HKYg84EpHSGXAyh+/oxwaWbvL6aSDPOYuPDGOCI8jmnKiypE+"
    ),
}
CRYPTO = WeComCrypto(TOKEN, AES_KEY, CORP_ID)


def test_url_verification_of_the_published_sample() -> None:
    echo = CRYPTO.open(VERIFY["msg_signature"], VERIFY["timestamp"], VERIFY["nonce"], VERIFY["echostr"])
    assert echo == "1288432023552776189"


def test_event_message_of_the_published_sample() -> None:
    xml = CRYPTO.open(EVENT["msg_signature"], EVENT["timestamp"], EVENT["nonce"], EVENT["encrypt"])
    assert xml.startswith("<xml><ToUserName>ww1436e0e65a779aee</ToUserName>")
    assert "<FromUserName>ChenJiaShun</FromUserName>" in xml
    assert "<Content>你好</Content>" in xml


def test_signature_is_sha1_over_the_sorted_four() -> None:
    assert signature(TOKEN, EVENT["timestamp"], EVENT["nonce"], EVENT["encrypt"]) == EVENT["msg_signature"]
    # the order of the arguments does not matter, the sorted order does
    assert signature(EVENT["nonce"], TOKEN, EVENT["encrypt"], EVENT["timestamp"]) == EVENT["msg_signature"]


def test_a_forged_signature_is_refused_before_decrypting() -> None:
    forged = "0" * 40
    with pytest.raises(CallbackRefused) as err:
        CRYPTO.open(forged, EVENT["timestamp"], EVENT["nonce"], EVENT["encrypt"])
    assert err.value.code == "bad_signature"
    with pytest.raises(CallbackRefused):  # a different token signs differently
        WeComCrypto("another-token", AES_KEY, CORP_ID).open(
            EVENT["msg_signature"], EVENT["timestamp"], EVENT["nonce"], EVENT["encrypt"]
        )


def test_a_message_for_another_corp_is_refused() -> None:
    with pytest.raises(CallbackRefused) as err:
        WeComCrypto(TOKEN, AES_KEY, "ww0000000000000000").decrypt(EVENT["encrypt"])
    assert err.value.code == "wrong_receiver"


def test_encrypt_pads_to_32_and_round_trips() -> None:
    message = "<xml><Content>一条测试</Content></xml>"
    sealed = CRYPTO.encrypt(message, random16=b"0123456789abcdef")
    raw = base64.b64decode(sealed)
    assert len(raw) % 32 == 0
    assert CRYPTO.decrypt(sealed) == message
    # the plaintext layout: 16 random bytes, the length in network order, the message, the corp id
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    key = aes_key(AES_KEY)
    dec = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    plain = dec.update(raw) + dec.finalize()
    assert plain[:16] == b"0123456789abcdef"
    assert struct.unpack(">I", plain[16:20])[0] == len(message.encode())
    pad = plain[-1]
    assert 1 <= pad <= 32 and plain[-pad:] == bytes([pad]) * pad
    assert plain[:-pad].endswith(CORP_ID.encode())


def test_a_tampered_message_does_not_open() -> None:
    raw = bytearray(base64.b64decode(CRYPTO.encrypt("<xml/>")))
    raw[-1] ^= 0x55
    with pytest.raises(CallbackRefused):
        CRYPTO.decrypt(base64.b64encode(bytes(raw)).decode())


def test_bad_encoding_aes_keys_are_refused() -> None:
    for bad in ("short", AES_KEY[:-1] + "!", "A" * 44):
        with pytest.raises(ValueError):
            aes_key(bad)


def test_freshness_window() -> None:
    assert check_fresh("1000", now=1000 + 299) == 1000
    for stamp, now in (("1000", 1000 + 301), ("2000", 2000 - 301)):
        with pytest.raises(CallbackRefused) as err:
            check_fresh(stamp, now=now)
        assert err.value.code == "stale_timestamp"
    with pytest.raises(CallbackRefused):
        check_fresh("soon", now=1.0)
