"""Independent services of the bus. No service imports another; each depends only on `bus` and `schemas`."""
