"""Post-processing: raw model text in, the suggestion to show (or None) out.

``pipeline.py`` runs the filters (``filters/``, one per file) in order over a ``PostContext``
(``context.py``); ``views.py`` and ``lexing/`` derive what the filters need from the text around
the cursor.
"""
