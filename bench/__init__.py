"""ember's benchmarks: peers side by side in one process, medians and ratios.

Run ``python -m bench`` (all) or ``python -m bench dispatch`` (one). Speed lives here,
never in timed tests.
"""
