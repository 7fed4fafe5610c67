"""``python -m services.examples.running_total`` / ``esb run examples.running_total``."""

from __future__ import annotations

from bus.config import BusSettings
from bus.observability.logging import configure_logging
from bus.runtime import run_service
from services.examples.running_total.service import RunningTotalSettings, build_service


def main() -> None:
    settings = BusSettings()
    configure_logging(settings.runtime.log_level, settings.runtime.log_json)
    run_service(build_service(RunningTotalSettings()), settings)


if __name__ == "__main__":
    main()
