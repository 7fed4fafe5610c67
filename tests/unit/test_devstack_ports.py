"""The stack's port checks see every socket a server's bind would collide with, and the ports handed
out for servers started later stay out of the kernel's ephemeral range."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from esb.devstack import processes
from esb.devstack.processes import PortTakenError, free_port, port_can_be_bound, port_is_open


def _bound_socket() -> tuple[socket.socket, int]:
    held = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    held.bind(("127.0.0.1", 0))
    return held, held.getsockname()[1]


def test_a_port_nobody_holds_can_be_bound() -> None:
    held, port = _bound_socket()
    held.close()
    assert port_can_be_bound("127.0.0.1", port)


def test_a_listening_port_cannot_be_bound() -> None:
    held, port = _bound_socket()
    with held:
        held.listen()
        assert not port_can_be_bound("127.0.0.1", port)


def test_a_port_held_by_a_socket_that_does_not_listen_cannot_be_bound() -> None:
    # The local end of an outgoing connection: a connect probe finds nothing listening there.
    held, port = _bound_socket()
    with held:
        assert not port_is_open("127.0.0.1", port)
        assert not port_can_be_bound("127.0.0.1", port)


def test_free_ports_are_below_the_ephemeral_range_and_never_handed_out_twice() -> None:
    ports = [free_port() for _ in range(50)]
    assert len(set(ports)) == len(ports)
    low, _high = (int(n) for n in Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    assert max(ports) < low


def test_free_port_skips_held_and_handed_out_ports(monkeypatch: pytest.MonkeyPatch) -> None:
    held, port = _bound_socket()
    monkeypatch.setattr(processes, "_SERVER_PORTS", range(port, port + 1))
    monkeypatch.setattr(processes, "_handed_out", set())
    with held, pytest.raises(PortTakenError, match="no free port"):
        free_port()  # held by a socket
    assert free_port() == port
    with pytest.raises(PortTakenError, match="no free port"):
        free_port()  # handed out already
