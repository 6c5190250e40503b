"""Biomechanics from a metric pose sequence: body model, kinematics, events, kinetics (issue 3, in progress)."""
