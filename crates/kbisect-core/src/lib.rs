//! Bisection engine, strategies, verdict rules, evidence, journal and session.
