"""Rehearsal of a plan on a staging copy: run, lock sampling, lock-time projection."""
