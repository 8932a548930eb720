"""A deterministic sample of Harbin's market for the demo, benchmarks and tests: not part of the product.

Everything comes from seeded ``random.Random`` instances, so a seed and an end date always give the same
city. ``market`` is the plan (associations, merchants, goods, episodes), ``price_simulation`` and
``complaint_generation`` draw the data, ``seeding`` writes it through ``core`` and the complaint intake.
"""
