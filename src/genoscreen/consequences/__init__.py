"""Protein consequences of called variants: gene annotation, HGVS p. descriptions, mutant proteins."""
