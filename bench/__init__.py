"""`make bench`: performance measurements, each beside a baseline measured in the same run."""
