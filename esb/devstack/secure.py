"""Security material of a secure local stack: a local CA, the broker's certificate, SCRAM passwords.

Everything is generated on the first ``esb dev up --secure`` into ``<state_dir>/data/secrets``
(folder 0700, files 0600) and deleted with ``esb dev down --purge``; nothing is ever committed or
printed. The CA's private key is used once to sign the broker certificate and never written.

Layout::

    secrets/ca.pem                    the CA certificate clients trust (ssl.ca.location)
    secrets/broker.pem                the broker's PKCS#8 key + certificate chain (ssl.keystore.type=PEM)
    secrets/users/<principal>.password one SCRAM-SHA-512 password per principal
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import secrets
import time
from collections.abc import Iterable
from pathlib import Path

from confluent_kafka import KafkaException
from confluent_kafka.admin import (  # type: ignore[attr-defined]
    AdminClient,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialAlteration,
    UserScramCredentialUpsertion,
)
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pydantic import SecretStr

from bus.config import KafkaSettings, SaslMechanism, SecurityProtocol
from esb.devstack.settings import DevStackSettings

__all__ = [
    "ADMIN_PRINCIPAL",
    "BROKER_PRINCIPAL",
    "SCRAM_ITERATIONS",
    "admin_password",
    "ca_file",
    "client_env",
    "client_settings",
    "ensure_certificates",
    "ensure_password",
    "ensure_scram_users",
    "keystore_file",
    "password_file",
    "secrets_dir",
]

ADMIN_PRINCIPAL = "esb-admin"
# The broker authenticates to the controller listener with its certificate (mTLS): this principal.
BROKER_PRINCIPAL = "CN=esb-broker"
SCRAM_ITERATIONS = 8192
_VALIDITY = dt.timedelta(days=30)
_RENEW_BEFORE = dt.timedelta(days=1)


def secrets_dir(settings: DevStackSettings) -> Path:
    return settings.state_dir / "data" / "secrets"


def ca_file(settings: DevStackSettings) -> Path:
    return secrets_dir(settings) / "ca.pem"


def keystore_file(settings: DevStackSettings) -> Path:
    return secrets_dir(settings) / "broker.pem"


def password_file(settings: DevStackSettings, principal: str) -> Path:
    if not principal or any(ch in principal for ch in "/\\\0") or principal.startswith("."):
        raise ValueError(f"invalid principal name {principal!r}")
    return secrets_dir(settings) / "users" / f"{principal}.password"


def _private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` readable by the owner only (0600 from the first byte)."""
    _private_dir(path.parent)
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    tmp.replace(path)


def ensure_password(settings: DevStackSettings, principal: str) -> SecretStr:
    """The principal's SCRAM password, generated (256 bits, URL-safe) on first use."""
    path = password_file(settings, principal)
    if not path.exists():
        write_private(path, secrets.token_urlsafe(32).encode())
    return SecretStr(path.read_text(encoding="utf-8").strip())


def admin_password(settings: DevStackSettings) -> SecretStr:
    return ensure_password(settings, ADMIN_PRINCIPAL)


def _cert_valid(path: Path) -> bool:
    try:
        cert = x509.load_pem_x509_certificate(path.read_bytes())
    except (FileNotFoundError, ValueError):
        return False
    return cert.not_valid_after_utc - dt.datetime.now(dt.UTC) > _RENEW_BEFORE


def _host_names(host: str) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = [
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
    ]
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        names.append(x509.DNSName(host))
    else:
        if str(address) != "127.0.0.1":
            names.append(x509.IPAddress(address))
    return names


def ensure_certificates(settings: DevStackSettings) -> None:
    """A fresh CA and broker certificate unless valid ones exist (renewed a day before expiry)."""
    if _cert_valid(ca_file(settings)) and _cert_valid(keystore_file(settings)):
        return
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "esb local development CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    broker_key = ec.generate_private_key(ec.SECP256R1())
    broker_cert = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, BROKER_PRINCIPAL.removeprefix("CN="))])
        )
        .issuer_name(ca_name)
        .public_key(broker_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(_host_names(settings.host)), critical=False)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key_pem = broker_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    ca_pem = ca_cert.public_bytes(serialization.Encoding.PEM)
    write_private(
        keystore_file(settings), key_pem + broker_cert.public_bytes(serialization.Encoding.PEM) + ca_pem
    )
    write_private(ca_file(settings), ca_pem)


def client_settings(settings: DevStackSettings, principal: str, brokers: int = 1) -> KafkaSettings:
    """Connection settings of ``principal`` for the secure stack (SASL_SSL, SCRAM-SHA-512)."""
    return KafkaSettings(
        bootstrap_servers=settings.bootstrap_servers(brokers),
        security_protocol=SecurityProtocol.SASL_SSL,
        sasl_mechanism=SaslMechanism.SCRAM_SHA_512,
        sasl_username=principal,
        sasl_password=ensure_password(settings, principal),
        ssl_ca_location=ca_file(settings),
    )


def client_env(settings: DevStackSettings, principal: str, brokers: int = 1) -> dict[str, str]:
    """Environment for a process connecting as ``principal``: the password by file, never by value."""
    ensure_password(settings, principal)
    return {
        "KAFKA_BOOTSTRAP_SERVERS": settings.bootstrap_servers(brokers),
        "KAFKA_SECURITY_PROTOCOL": SecurityProtocol.SASL_SSL.value,
        "KAFKA_SASL_MECHANISM": SaslMechanism.SCRAM_SHA_512.value,
        "KAFKA_SASL_USERNAME": principal,
        "KAFKA_SASL_PASSWORD_FILE": str(password_file(settings, principal)),
        "KAFKA_SSL_CA_LOCATION": str(ca_file(settings)),
    }


def ensure_scram_users(
    settings: DevStackSettings, principals: Iterable[str], brokers: int = 1, timeout_s: float = 60.0
) -> list[str]:
    """Create or update the SCRAM-SHA-512 credential of each principal through the Admin API.

    Idempotent (an upsert with the stored password). Service principals are added here rather
    than at format time so that their passwords never appear on a command line.
    """
    names = sorted({p for p in principals if p != ADMIN_PRINCIPAL})
    if not names:
        return []
    admin = AdminClient(dict(client_settings(settings, ADMIN_PRINCIPAL, brokers).client_config()))
    upserts: list[UserScramCredentialAlteration] = [
        UserScramCredentialUpsertion(
            name,
            ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, SCRAM_ITERATIONS),
            ensure_password(settings, name).get_secret_value().encode(),
        )
        for name in names
    ]
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            for future in admin.alter_user_scram_credentials(upserts, request_timeout=15).values():
                future.result()
            return names
        except KafkaException as exc:
            # Right after start the broker may not have caught up with the controller yet.
            if time.monotonic() > deadline or not exc.args[0].retriable():
                raise
            time.sleep(1.0)
