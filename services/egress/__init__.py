"""Egress translator: canonical events -> each target's native document on ``egress.<system>.<entity>``."""
