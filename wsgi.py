"""Entry point for gunicorn: ``gunicorn -w 2 -b 127.0.0.1:8000 wsgi:app``."""
import gc

from tracker import create_app

app = create_app()
# What is loaded by now lives as long as the worker: keep it out of the garbage collector's full
# collections, which would otherwise scan it every dozen requests (100 ms pauses; docs/performance.md).
gc.freeze()
