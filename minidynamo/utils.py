"""md.utils: counters and small helpers shared by the compiler."""
import collections

counters = collections.defaultdict(collections.Counter)
