"""hotlines: a comparative governance research toolkit for city citizen-service hotlines.

The package holds the analysis; the book in ``chapters/`` narrates it. Data flows one
way: ``data/`` -> validated tables (:mod:`hotlines.data`) -> analysis -> figures and
tables (:mod:`hotlines.viz`) -> chapters.
"""

__version__ = "0.1.0"
