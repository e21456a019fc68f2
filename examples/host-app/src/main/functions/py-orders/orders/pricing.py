from decimal import Decimal, ROUND_HALF_UP


def to_cents(amount):
    """Converts an amount in the order's currency to whole cents, rounding half up as a till does."""
    return int((Decimal(str(amount)) * 100).quantize(Decimal('1'), rounding=ROUND_HALF_UP))
