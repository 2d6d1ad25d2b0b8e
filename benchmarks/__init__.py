"""Benchmarks of pytest-featureprobe: ``python -m benchmarks`` (or ``tox -e bench``).

Prints one table of figures measured in that run, each against its reference and its target
(issue 5): plugin overhead, the seed sweep against one ``predict`` per probe, all pairs of a
1,000-feature model and all triples of a 200-feature model through the streaming sweep (time and
peak memory), training the seed classifier cold and from the cache, the example suite cold and
warm, and how sweep time grows with the number of features and the order.

Each measurement runs in a fresh Python process, so imports, tracing and peak memory start from
nothing. Nothing here is imported by the library or the test suite.
"""
