"""``python -m services.egress`` / ``esb run egress``."""

from __future__ import annotations

from bus.config import BusSettings
from bus.observability.logging import configure_logging
from bus.runtime import run_service
from services.egress.handler import build_service
from services.egress.settings import EgressSettings


def main() -> None:
    settings = BusSettings()
    configure_logging(settings.runtime.log_level, settings.runtime.log_json)
    run_service(build_service(EgressSettings()), settings)


if __name__ == "__main__":
    main()
