"""The inbound edge of the bus: signed webhooks and files/feeds into ``ingress.<system>.<entity>``."""
