"""Customer merger: normalise, match, merge and survive source customer records into golden ones."""
