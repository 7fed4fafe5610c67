"""The secure local stack's rendered configuration and its generated certificates and passwords."""

from __future__ import annotations

import ipaddress
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from bus.config import KafkaSettings
from esb.devstack import secure
from esb.devstack.components import KafkaNode, components_for
from esb.devstack.settings import DevStackSettings

pytestmark = pytest.mark.unit


def _properties(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_secure_node_listens_sasl_ssl_only_behind_the_standard_authorizer(tmp_path: Path) -> None:
    settings = DevStackSettings(state_dir=tmp_path, kafka_port=49092, kafka_controller_port=49093)
    props = _properties(KafkaNode(settings, secure=True)._server_properties())
    assert props["listeners"] == "SASL_SSL://127.0.0.1:49092,CONTROLLER://127.0.0.1:49093"
    assert props["advertised.listeners"] == "SASL_SSL://127.0.0.1:49092"
    assert "PLAINTEXT" not in props["listener.security.protocol.map"]
    assert props["listener.security.protocol.map"] == "CONTROLLER:SSL,SASL_SSL:SASL_SSL"
    assert props["listener.name.controller.ssl.client.auth"] == "required"
    assert props["inter.broker.listener.name"] == "SASL_SSL"
    assert props["sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    assert props["authorizer.class.name"] == "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    assert props["allow.everyone.if.no.acl.found"] == "false"
    assert props["super.users"] == "User:esb-admin;User:CN=esb-broker"
    assert props["ssl.keystore.type"] == "PEM"


def test_plain_node_is_unchanged(tmp_path: Path) -> None:
    props = _properties(KafkaNode(DevStackSettings(state_dir=tmp_path))._server_properties())
    assert props["listener.security.protocol.map"] == "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"
    assert "authorizer.class.name" not in props
    assert not (tmp_path / "data" / "secrets").exists()


def test_secure_flag_reaches_every_node(tmp_path: Path) -> None:
    nodes = components_for(DevStackSettings(state_dir=tmp_path), 3, kafka_only=True, secure=True)
    assert [isinstance(n, KafkaNode) and n.secure for n in nodes] == [True, True, True]


def test_certificates_and_passwords_are_owner_only_and_reused(tmp_path: Path) -> None:
    settings = DevStackSettings(state_dir=tmp_path)
    secure.ensure_certificates(settings)
    password = secure.ensure_password(settings, "translator")
    assert _mode(secure.secrets_dir(settings)) == 0o700
    for path in (
        secure.keystore_file(settings),
        secure.ca_file(settings),
        secure.password_file(settings, "translator"),
    ):
        assert _mode(path) == 0o600, path
    assert len(password.get_secret_value()) >= 40
    assert secure.ensure_password(settings, "translator") == password
    assert secure.ensure_password(settings, "gateway") != password
    before = secure.keystore_file(settings).read_bytes()
    secure.ensure_certificates(settings)
    assert secure.keystore_file(settings).read_bytes() == before


def test_broker_certificate_is_signed_by_the_ca_for_the_stack_host(tmp_path: Path) -> None:
    settings = DevStackSettings(state_dir=tmp_path)
    secure.ensure_certificates(settings)
    pem = secure.keystore_file(settings).read_bytes()
    assert b"-----BEGIN PRIVATE KEY-----" in pem  # unencrypted PKCS#8, as Kafka's PEM keystore reads it
    serialization.load_pem_private_key(pem, password=None)
    chain = x509.load_pem_x509_certificates(pem)
    ca = x509.load_pem_x509_certificate(secure.ca_file(settings).read_bytes())
    assert chain[0].issuer == ca.subject
    chain[0].verify_directly_issued_by(ca)
    san = chain[0].extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert ipaddress.ip_address("127.0.0.1") in san.get_values_for_type(x509.IPAddress)
    assert chain[0].subject.rfc4514_string() == secure.BROKER_PRINCIPAL


def test_client_env_points_at_files_and_settings_read_the_password_file(tmp_path: Path) -> None:
    settings = DevStackSettings(state_dir=tmp_path, kafka_port=49092)
    env = secure.client_env(settings, "ledger-poster")
    password = secure.ensure_password(settings, "ledger-poster").get_secret_value()
    assert password not in "".join(env.values())
    kafka = KafkaSettings(
        bootstrap_servers=env["KAFKA_BOOTSTRAP_SERVERS"],
        security_protocol=env["KAFKA_SECURITY_PROTOCOL"],  # type: ignore[arg-type]
        sasl_username=env["KAFKA_SASL_USERNAME"],
        sasl_password_file=Path(env["KAFKA_SASL_PASSWORD_FILE"]),
        ssl_ca_location=Path(env["KAFKA_SSL_CA_LOCATION"]),
    )
    config = kafka.client_config()
    assert config["sasl.password"] == password
    assert config["security.protocol"] == "SASL_SSL"
    assert password not in repr(kafka)


@pytest.mark.parametrize("name", ["", "../x", "a/b", ".hidden"])
def test_principal_names_cannot_escape_the_secrets_folder(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match="invalid principal"):
        secure.password_file(DevStackSettings(state_dir=tmp_path), name)
