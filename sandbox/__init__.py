"""The sandbox payments provider, run as its own process: `python -m sandbox --port N`."""
