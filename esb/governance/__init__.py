"""Schema governance, the topic catalog and the AsyncAPI document: ``esb schemas|topics|docs``."""
