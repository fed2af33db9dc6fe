"""Coordination networks: typed graphs of city government behind a hotline, their
structural measures, and a discrete-event simulation from structure to resolution time.

- :mod:`.model`: actors, ties, validation;
- :mod:`.builders`: vertical, horizontal and mixed archetypes, counterfactual edits, and
  graphs derived from coded evidence;
- :mod:`.io`: GraphML and node-link JSON;
- :mod:`.measures`: centralization, hierarchy, E-I index, escalation depth, hub dependence;
- :mod:`.simulate`: the simpy model (simulated records, labelled as such);
- :mod:`.experiments`: counterfactuals and sweeps.
"""

from .model import EDGE_TYPES, NODE_TYPES, TIERS, GraphValidationError, validate  # noqa: F401
