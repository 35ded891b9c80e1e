"""Payment-behaviour profiles of customers: how late they pay, how often they dispute or default."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class PaymentProfile:
    """How one kind of customer settles its invoices.

    Delays are in days after each instalment's due date (negative: pays early).
    """

    name: str
    weight: float  # share of customers with this profile
    delay_min: int
    delay_max: int
    pay_probability: float  # chance an instalment is ever paid (the rest stays open)
    partial_probability: float  # chance an instalment is paid in two parts
    lump_sum_probability: float  # chance one payment settles every instalment at once
    dispute_probability: float  # chance an invoice gets a credit note
    unapplied_payments_per_year: float  # payments on account, matched to no invoice

    def draw_delay(self, rng: random.Random) -> int:
        # Triangular with the mode near the low end: most payments close to the usual delay.
        low, high = self.delay_min, self.delay_max
        return int(round(rng.triangular(low, high, low + (high - low) * 0.25)))


PROFILES: tuple[PaymentProfile, ...] = (
    PaymentProfile("prompt", 0.40, -5, 4, 0.999, 0.02, 0.35, 0.01, 0.5),
    PaymentProfile("slow", 0.25, 10, 75, 0.99, 0.10, 0.15, 0.03, 1.0),
    PaymentProfile("erratic", 0.15, -10, 150, 0.95, 0.30, 0.10, 0.05, 2.0),
    PaymentProfile("defaulting", 0.10, 30, 240, 0.45, 0.35, 0.05, 0.05, 0.2),
    PaymentProfile("disputing", 0.10, 5, 90, 0.95, 0.15, 0.10, 0.35, 0.5),
)

PROFILES_BY_NAME: dict[str, PaymentProfile] = {profile.name: profile for profile in PROFILES}


def assign_profiles(count: int, rng: random.Random) -> list[PaymentProfile]:
    """Give ``count`` customers a profile each, in the proportions of the profile weights.

    Every profile appears at least once when ``count`` >= number of profiles, so small data sets
    still hold each behaviour.
    """
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    assigned: list[PaymentProfile] = list(PROFILES[: min(count, len(PROFILES))])
    weights = [profile.weight for profile in PROFILES]
    assigned += rng.choices(PROFILES, weights=weights, k=count - len(assigned))
    rng.shuffle(assigned)
    return assigned
