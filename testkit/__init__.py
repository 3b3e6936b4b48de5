"""Test support shared by the cross-package tests, the packages' own tests, the benchmarks and the
demo: driving the real pipeline and the real Meltano project, changing a Wave sandbox's books,
the month-end dbt project, Singer input for benchmarks, the chaos checks and the relay's fuzz
strategies. Benchmarks live in bench/ and import from here; nothing here is a benchmark.
"""
