"""Generated programs for benchmarks and tests: one cohort generator, two writers.

- `cohort.cohort(n_mentees, n_mentors, seed)`: a `matcher.Problem` of realistic shape
  (numpy and the matcher only: what `bench/matcher_scaling.py` solves);
- `program.generate(session, mentees, mentors, seed=…)`: the same cohort's people
  written to the database as a program (what the API benches and fault tests use).
"""
