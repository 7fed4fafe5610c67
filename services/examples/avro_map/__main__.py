"""``python -m services.examples.avro_map`` / ``esb run examples.avro_map``."""

from __future__ import annotations

from bus.config import BusSettings
from bus.observability.logging import configure_logging
from bus.runtime import run_service
from services.examples.avro_map.service import AvroMapSettings, build_service


def main() -> None:
    settings = BusSettings()
    configure_logging(settings.runtime.log_level, settings.runtime.log_json)
    run_service(build_service(AvroMapSettings()), settings)


if __name__ == "__main__":
    main()
