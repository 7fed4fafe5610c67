"""``python -m services.translator`` / ``esb run translator``: wiring only."""

from __future__ import annotations

from bus.config import BusSettings
from bus.observability.logging import configure_logging
from bus.runtime import run_service
from services.translator.service import build_service
from services.translator.settings import TranslatorSettings


def main() -> None:
    settings = BusSettings()
    configure_logging(settings.runtime.log_level, settings.runtime.log_json)
    run_service(build_service(TranslatorSettings()), settings)


if __name__ == "__main__":
    main()
