"""What the backends take from whoever uses them: a logger, the log topics that are on, and
whether codegen keeps its disk cache.

Backends sit below minidynamo and never import it; minidynamo configures these from above
(its `set_logs` and `MINIDYNAMO_LOGS` share the topic set, `md.config.codegen_cache` writes
`codegen_cache`). Used on their own, backends log to the stdlib logger "backends".

>>> from backends import settings
>>> settings.topic_enabled("aot_graphs")
False
"""
import logging

log = logging.getLogger("backends")
topics = set()  # log topics that are on: "output_code" (codegen's source), "aot_graphs"
codegen_cache = True  # codegen's on-disk cache (MINIDYNAMO_CACHE_DIR)


def configure(*, logger=None, topic_set=None):
    """Log to `logger`, and read the topics that are on from `topic_set` (kept, not copied,
    so that the caller's later changes apply)."""
    global log, topics
    if logger is not None:
        log = logger
    if topic_set is not None:
        topics = topic_set


def topic_enabled(topic):
    """Whether messages of `topic` are logged."""
    return topic in topics
