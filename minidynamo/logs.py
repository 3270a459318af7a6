"""Logging through the stdlib logger "minidynamo", switched on per topic by the environment
variable MINIDYNAMO_LOGS=graph_code,guards,... or md.set_logs(graph_code=True, ...).

>>> import minidynamo as md
>>> md.set_logs(recompiles=True); md.set_logs(recompiles=False)
"""
import logging
import os

from backends import settings as _backend_settings

TOPICS = ("graph_code", "guards", "recompiles", "graph_breaks", "bytecode", "output_code", "aot_graphs",
          "dynamic")
log = logging.getLogger("minidynamo")
_enabled = set()
_handler = None
# the backends log their topics (output_code, aot_graphs) through the same logger and set
_backend_settings.configure(logger=log, topic_set=_enabled)


def _from_env():
    val = os.environ.get("MINIDYNAMO_LOGS", "")
    for t in (x.strip() for x in val.split(",")):
        if t:
            if t not in TOPICS:
                raise ValueError(f"MINIDYNAMO_LOGS: unknown topic {t!r}; known: {', '.join(TOPICS)}")
            _enabled.add(t)
    if _enabled:
        _ensure_handler()


def _ensure_handler():
    global _handler
    if _handler is None and not log.handlers:
        _handler = logging.StreamHandler()
        _handler.setFormatter(logging.Formatter("[minidynamo] %(message)s"))
        log.addHandler(_handler)
    if log.level == logging.NOTSET or log.level > logging.INFO:
        log.setLevel(logging.INFO)


def set_logs(**flags):
    """Turn log topics on or off: md.set_logs(graph_code=True, recompiles=True)."""
    for k, v in flags.items():
        if k not in TOPICS:
            raise ValueError(f"set_logs: unknown topic {k!r}; known: {', '.join(TOPICS)}")
        if v:
            _enabled.add(k)
        else:
            _enabled.discard(k)
    if _enabled:
        _ensure_handler()


def enabled(topic):
    return topic in _enabled


def log_graph(gm, code):
    if "graph_code" in _enabled:
        log.info("TRACED GRAPH\n ===== %s (%s:%d) =====\n%s", code.co_name, code.co_filename,
                 code.co_firstlineno, gm.print_readable(print_output=False))


def log_guards(guards, code):
    if "guards" in _enabled:
        lines = [f"GUARDS for {code.co_name} ({code.co_filename}:{code.co_firstlineno}):"]
        lines += [f"+- {g}" for g in guards]
        log.info("\n".join(lines))


def log_output_code(src, code):
    if "output_code" in _enabled or "bytecode" in _enabled:
        log.info("TRANSFORMED CODE for %s:\n%s", code.co_name, src)


def log_recompile(fn, lines):
    if "recompiles" in _enabled:
        from .eval_frame import recompile_message
        log.info("%s", recompile_message(fn, lines))


def log_dynamic(msg):
    """Why a symbol was created, specialized or guarded (symbolic_shapes.py writes msg)."""
    if "dynamic" in _enabled:
        log.info("%s", msg)


def log_graph_break(reason, user_stack):
    if "graph_breaks" in _enabled:
        where = ""
        if user_stack:
            fr = user_stack[-1]
            where = f"\n  File \"{fr.filename}\", line {fr.lineno}, in {fr.name}\n    {fr.line}"
        log.info("Graph break: %s%s", reason, where)


_from_env()
