"""The self-contained demo: a seeded random genome with known variants, reads aligned with mappy, kinase inhibitors.

`genoscreen demo-data --out DIR` (or `generate(DIR)`) writes everything the default workflow config reads.
"""

from genoscreen.demo.genome import DemoSpec, generate

__all__ = ["DemoSpec", "generate"]
