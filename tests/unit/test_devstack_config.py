"""The local stack's rendered configuration and its refusal to start on a taken port."""

from __future__ import annotations

import socket
import uuid
from pathlib import Path

import pytest

from esb.devstack.components import JaegerComponent, KafkaNode, components_for, new_cluster_id
from esb.devstack.processes import PortTakenError
from esb.devstack.settings import DevStackSettings
from esb.devstack.stack import up

pytestmark = pytest.mark.unit


def _properties(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))


def test_three_node_cluster_has_three_voters_rf3_and_min_isr_2(tmp_path: Path) -> None:
    settings = DevStackSettings(state_dir=tmp_path, kafka_port=29092, kafka_controller_port=29093)
    node = KafkaNode(settings, index=2, cluster_size=3)
    props = _properties(node._server_properties())
    assert props["node.id"] == "3"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:29093,2@127.0.0.1:29193,3@127.0.0.1:29293"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:29292,CONTROLLER://127.0.0.1:29293"
    assert props["default.replication.factor"] == "3"
    assert props["min.insync.replicas"] == "2"
    assert props["transaction.state.log.min.isr"] == "2"
    assert settings.bootstrap_servers(3) == "127.0.0.1:29092,127.0.0.1:29192,127.0.0.1:29292"


def test_single_node_uses_replication_one(tmp_path: Path) -> None:
    props = _properties(KafkaNode(DevStackSettings(state_dir=tmp_path), index=0)._server_properties())
    assert props["offsets.topic.replication.factor"] == "1"
    assert props["min.insync.replicas"] == "1"
    assert props["auto.create.topics.enable"] == "false"


def test_jaeger_listens_only_on_configured_ports(tmp_path: Path) -> None:
    settings = DevStackSettings(state_dir=tmp_path, jaeger_otlp_http_port=24318, jaeger_query_port=26000)
    config = JaegerComponent(settings)._config()
    receivers = config["receivers"]
    assert isinstance(receivers, dict)
    assert receivers["otlp"]["protocols"]["http"]["endpoint"] == "127.0.0.1:24318"
    extensions = config["extensions"]
    assert isinstance(extensions, dict)
    assert extensions["jaeger_query"]["http"]["endpoint"] == "127.0.0.1:26000"


def test_kafka_only_stack_has_no_registry_or_jaeger(tmp_path: Path) -> None:
    names = [c.name for c in components_for(DevStackSettings(state_dir=tmp_path), 3, kafka_only=True)]
    assert names == ["kafka-1", "kafka-2", "kafka-3"]


def test_up_refuses_a_port_taken_by_a_foreign_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        settings = DevStackSettings(state_dir=tmp_path, kafka_port=port)
        # Nothing to download for this check: the port test happens before any process starts.
        for component in components_for(settings, 1):
            monkeypatch.setattr(type(component), "fetch", lambda self: None)
        with pytest.raises(PortTakenError, match=str(port)):
            up(settings)


def test_a_cluster_id_never_starts_with_a_dash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # 0xf8: the first base64url character is "-", which kafka-storage reads as an option.
    dashed, plain = uuid.UUID(bytes=b"\xf8" + bytes(15)), uuid.UUID(bytes=b"\x10" + bytes(15))
    draws = iter([dashed, plain, dashed, plain])
    monkeypatch.setattr(uuid, "uuid4", lambda: next(draws))
    assert new_cluster_id() == "EAAAAAAAAAAAAAAAAAAAAA"
    stale = tmp_path / "data" / "kafka-cluster-id"
    stale.parent.mkdir(parents=True)
    stale.write_text("-AAAAAAAAAAAAAAAAAAAAA")  # left by a run whose format failed
    assert KafkaNode(DevStackSettings(state_dir=tmp_path), index=0)._cluster_id() == "EAAAAAAAAAAAAAAAAAAAAA"
