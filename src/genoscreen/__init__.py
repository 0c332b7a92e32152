"""genoscreen: germline variant calling with a pileup CNN and drug-target affinity screening (JAX/Flax)."""

__version__ = "0.1.0"
