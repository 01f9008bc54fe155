"""Reference solvers."""
