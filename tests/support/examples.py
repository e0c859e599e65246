"""How many examples each Hypothesis test runs: all of them in `make test`, a quarter in `make test-fast`.

`make test` (and CI) run the default profile: Hypothesis' 100 examples, or the number a test sets. `make test-fast`
loads the "fast" profile (`--hypothesis-profile=fast`): 25, and a test that sets its own number writes it as
`examples(n)`, which scales with the loaded profile, so every property test keeps its relative weight. The fast
profile is for the edit-test loop on a small machine; the full numbers still run before anything lands.
"""

from __future__ import annotations

from hypothesis import settings

__all__ = ["FULL", "examples"]

# Hypothesis' own default: the profile `make test` runs.
FULL = 100
settings.register_profile("fast", max_examples=FULL // 4)


def examples(full: int) -> int:
    """`full` examples under the default profile; under "fast" the same share of the profile's number."""
    return max(1, full * settings().max_examples // FULL)
