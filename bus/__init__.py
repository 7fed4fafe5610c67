"""The exactly-once processing runtime every service of the bus runs on."""
