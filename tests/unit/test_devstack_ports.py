"""The stack's free-port check sees every socket a server's bind would collide with."""

from __future__ import annotations

import socket

from esb.devstack.processes import port_can_be_bound, port_is_open


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
