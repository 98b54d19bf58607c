"""Makes emulator_platform_certificate.pem: the emulator's WeChat Pay platform certificate, for
the key pair in wechat_pay_private_key.pem (the official SDKs' public test key), valid from
2025-01-01 to 2124-12-31 so that certificate validity can be enforced in tests. Run from this
directory with Python's `cryptography` package; the output is committed."""

import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

with open("keys/wechat_pay_private_key.pem", "rb") as f:
    key = serialization.load_pem_private_key(f.read(), password=None)

name = x509.Name([
    x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "mendian emulator"),
    x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "WeChat Pay platform certificate (test only)"),
    x509.NameAttribute(NameOID.COMMON_NAME, "mendian emulator platform"),
])
cert = (
    x509.CertificateBuilder()
    .subject_name(name)
    .issuer_name(name)
    .public_key(key.public_key())
    .serial_number(0x3A1F0C9E5B7D2468ACE013579BDF2468ACE01357)
    .not_valid_before(datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc))
    .not_valid_after(datetime.datetime(2124, 12, 31, 23, 59, 59, tzinfo=datetime.timezone.utc))
    .sign(key, hashes.SHA256())
)
with open("keys/emulator_platform_certificate.pem", "wb") as f:
    f.write(cert.public_bytes(serialization.Encoding.PEM))
