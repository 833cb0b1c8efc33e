"""Deterministic document generators shared by the tests, the benchmarks and the offline evaluation."""
